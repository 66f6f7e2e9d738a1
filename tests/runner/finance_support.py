"""Helpers for the finance-flow tests: the shipped example connections (connector_core/cli/examples/connections) run unchanged
against the HubSpot and NetSuite emulators on loopback, with their state in tmp_path.

A uniquely named module: several `conftest` modules clash under one name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from both_ways_support import assert_paired_exactly
from crm_flow_support import NetSuiteSide
from runner_support import Collect, ConnectionHarness

from connector_core.cli.demo import EXAMPLES, point_at_emulators
from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator


@pytest.fixture
def hubspot() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(HubSpotSettings(companies=30, contacts=0, deals=0)) as emulator:
        yield emulator


@pytest.fixture
def netsuite_ns() -> Iterator[NetSuiteEmulator]:
    with NetSuiteEmulator(EmulatorSettings(customers=20, items=3, sales_orders=0, invoices=30)) as emulator:
        yield emulator


class Finance(NetSuiteSide, ConnectionHarness):
    """One example connection file, copied into tmp_path and pointed at the two emulators."""

    def __init__(self, name: str, tmp_path: Path, hubspot: HubSpotEmulator, netsuite: NetSuiteEmulator, registry: Registry) -> None:
        self.hubspot = hubspot
        self.netsuite = netsuite
        self.registry = registry
        configs = {
            "hubspot": {"access_token": hubspot.token, "base_url": hubspot.url},
            "netsuite": {"account_id": netsuite.settings.account_id, "base_url": netsuite.url, **netsuite.credentials()["tba"]},
        }
        (self.path,) = point_at_emulators([EXAMPLES / name], tmp_path / "connections", configs)
        self.reporter = Collect()

    # -- HubSpot --------------------------------------------------------------------------------------

    def companies(self) -> list[dict[str, Any]]:
        """Every company as {id, **properties} (raw, through the emulator's control API)."""
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = requests.get(f"{self.hubspot.url}/_emulator/objects/companies", params={"offset": offset, "limit": 500}, timeout=10).json()
            rows = page["results"] if isinstance(page, dict) else page
            found += [{"id": str(r["id"]), **r["properties"]} for r in rows]
            if len(rows) < 500:
                return found
            offset += len(rows)

    def company(self, company_id: str) -> dict[str, Any]:
        return next(c for c in self.companies() if c["id"] == str(company_id))

    def edit_company(self, company_id: str, **properties: Any) -> None:
        response = requests.patch(
            f"{self.hubspot.url}/crm/v3/objects/companies/{company_id}",
            json={"properties": properties},
            headers={"Authorization": f"Bearer {self.hubspot.token}"},
            timeout=10,
        )
        response.raise_for_status()

    def hubspot_writes(self) -> int:
        """Object writes (create, update, batch) HubSpot received; property definitions (setup) not counted."""
        endpoints = self.hubspot.stats.snapshot()["by_endpoint"]
        return sum(n for key, n in endpoints.items() if key.startswith("objects.") and key != "objects.search" and not key.endswith((".get", ".list")))

    # -- NetSuite -------------------------------------------------------------------------------------

    # suiteql, ns_writes, customer, edit_customer: NetSuiteSide


def assert_customers_exact_both_ways(sync: Finance, crm_customers: set[str], seeded_ns: set[str], seed: int) -> dict[str, str]:
    """customers_both_ways.yaml ended exact: one NetSuite customer per CRM customer (`crm-<id>`), none twice;
    every CRM customer carries its NetSuite id (the write-back); one company per NetSuite customer.
    Returns {HubSpot id: NetSuite id} of the CRM customers."""
    rows = [r for r in sync.suiteql("SELECT id, externalid FROM customer WHERE externalid LIKE 'crm-%'") if r["externalid"].startswith("crm-")]
    companies = {c["id"]: c for c in sync.companies()}
    return assert_paired_exactly(rows, "crm-", companies, "netsuite_customer_id", crm_customers, seeded_ns, seed, one="a company", many="companies")


__all__ = ["Finance", "assert_customers_exact_both_ways", "hubspot", "netsuite_ns"]
