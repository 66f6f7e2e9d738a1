"""Helpers for the batch and fault tests of the sync runner: NetSuite customers → HubSpot companies
(upsert_companies, batches of up to 100) and HubSpot companies → NetSuite customers (upsert_customer),
against both emulators on loopback, with a real SQLite state file in tmp_path.

A uniquely named module: several `conftest` modules clash under one name.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import requests
import yaml
from runner_support import Collect, ConnectionHarness

from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator
from connectors.netsuite.emulator import NetSuiteEmulator

#: custom company properties the flows write (netsuite_* unique ones can be upsert keys)
COMPANY_PROPERTIES = [
    {"name": "netsuite_customer_id", "label": "NetSuite customer ID", "hasUniqueValue": True},
    {"name": "netsuite_entity_id", "label": "NetSuite entity ID", "hasUniqueValue": True},
    {"name": "netsuite_credit_limit", "label": "NetSuite credit limit", "type": "number", "fieldType": "number"},
    {"name": "netsuite_currency_id", "label": "NetSuite currency (internal id)"},
]


def customers_to_companies(**changes: Any) -> dict[str, Any]:
    """NetSuite customers → HubSpot companies through the batch upsert, keyed by netsuite_customer_id."""
    flow: dict[str, Any] = {
        "name": "customers-to-companies",
        "from": {"side": "destination", "stream": "customers"},
        "to": {
            "side": "source",
            "operation": "upsert_companies",
            "external_id": "netsuite_customer_id",
            "batch": {"operation": "upsert_companies", "size": 100, "result_key": "properties.netsuite_customer_id", "result_id": "id"},
        },
        "match": {"external_id": "{{ record.id }}"},
        "mapping": {
            "name": {"template": "{{ record.companyname | default(record.entityid) }}"},
            "netsuite_entity_id": "entityid",
            "netsuite_credit_limit": {"from": "creditlimit", "type": "number", "default": 0},
        },
    }
    flow.update(changes)
    return flow


def companies_to_customers(**changes: Any) -> dict[str, Any]:
    """HubSpot companies → NetSuite customers, upserted one call each by external id `hs-<id>`."""
    flow: dict[str, Any] = {
        "name": "companies-to-customers",
        "from": {"stream": "companies"},
        "to": {"operation": "upsert_customer", "into": "payload", "external_id": "external_id"},
        "match": {"external_id": "hs-{{ record.id }}"},
        "mapping": {
            "companyName": {"from": "properties.name", "required": True},
            "entityId": {"template": "HS{{ record.id }}"},
            "phone": "properties.phone",
        },
    }
    flow.update(changes)
    return flow


class CrmSync(ConnectionHarness):
    """A connection between the HubSpot and NetSuite emulators, written to tmp_path, and runs of it."""

    def __init__(self, tmp_path: Path, hubspot: HubSpotEmulator, netsuite: NetSuiteEmulator, registry: Registry) -> None:
        self.dir = tmp_path
        self.hubspot = hubspot
        self.netsuite = netsuite
        self.registry = registry
        self.path = tmp_path / "crm_netsuite.yaml"
        self.reporter = Collect()

    def hubspot_config(self, **extra: Any) -> dict[str, Any]:
        return {"access_token": self.hubspot.token, "base_url": self.hubspot.url, **extra}

    def netsuite_config(self, **extra: Any) -> dict[str, Any]:
        """TBA against the emulator; add subsidiary_id for writes (it also narrows reads to that subsidiary)."""
        return {"account_id": self.netsuite.settings.account_id, "base_url": self.netsuite.url, **self.netsuite.credentials()["tba"], **extra}

    def write(self, flows: list[dict[str, Any]], *, direction: str, hubspot: dict[str, Any] | None = None, netsuite: dict[str, Any] | None = None) -> Path:
        connection = {
            "name": "crm-netsuite",
            "source": {"connector": "hubspot", "config": hubspot or self.hubspot_config()},
            "destination": {"connector": "netsuite", "config": netsuite or self.netsuite_config()},
            "direction": direction,
            "setup": [{"side": "source", "operation": "ensure_properties", "input": {"object_type": "companies", "records": COMPANY_PROPERTIES}}],
            "flows": flows,
        }
        self.path.write_text(yaml.safe_dump(copy.deepcopy(connection), sort_keys=False))
        return self.path

    # -- HubSpot --------------------------------------------------------------------------------------

    def ensure_properties(self) -> None:
        """The custom properties, created before a test plants companies that use them."""
        for prop in COMPANY_PROPERTIES:
            body = {"type": "string", "fieldType": "text", "groupName": "companyinformation", **prop}
            response = requests.post(
                f"{self.hubspot.url}/crm/v3/properties/companies", json=body, headers={"Authorization": f"Bearer {self.hubspot.token}"}, timeout=10
            )
            assert response.status_code in (201, 409), response.text

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

    def batch_upserts(self) -> int:
        """Batch requests HubSpot received (the flows here use only the batch upsert)."""
        return int(self.hubspot.stats.snapshot()["by_endpoint"].get("objects.batch", 0))

    # -- NetSuite -------------------------------------------------------------------------------------

    def suiteql(self, query: str) -> list[dict[str, Any]]:
        return self.netsuite.suiteql(query)

    def ns_writes(self) -> int:
        return int(self.netsuite.stats().get("by_route", {}).get("record", 0))


__all__ = ["COMPANY_PROPERTIES", "CrmSync", "companies_to_customers", "customers_to_companies"]
