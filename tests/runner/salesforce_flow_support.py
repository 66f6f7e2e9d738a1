"""Helpers for the Salesforce finance-flow tests: a shipped `salesforce_*.yaml` connection file run unchanged
against the Salesforce and NetSuite emulators on loopback (only its configs pointed at them), state in tmp_path.

A uniquely named module: several `conftest` modules clash under one name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from crm_flow_support import NetSuiteSide
from runner_support import Collect, ConnectionHarness

from connector_core.cli.demo import EXAMPLES, point_at_emulators
from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.plugins import Registry
from connectors.crm.salesforce_emulator import SalesforceEmulator, SalesforceSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

_WRITE_ROUTES = {
    "sobjects.create",
    "sobjects.update",
    "sobjects.upsert",
    "sobjects.delete",
    "composite.create",
    "composite.update",
    "composite.upsert",
    "composite.delete",
}


def salesforce_config(salesforce: SalesforceEmulator) -> dict[str, Any]:
    """What `connector-core sandbox` writes for the emulator: the JWT bearer flow against its URL."""
    creds = salesforce.credentials
    return {
        "auth_method": "jwt_bearer",
        "login_url": salesforce.url,
        "consumer_key": creds["consumer_key"],
        "username": creds["username"],
        "private_key": creds["private_key_pem"],
        "api_version": creds["api_version"],
    }


class SalesforceFinance(NetSuiteSide, ConnectionHarness):
    """One shipped Salesforce connection file, copied into tmp_path and pointed at the two emulators."""

    def __init__(
        self,
        name: str,
        tmp_path: Path,
        salesforce: SalesforceEmulator,
        netsuite: NetSuiteEmulator,
        registry: Registry,
    ) -> None:
        self.dir = tmp_path / "connections"
        self.salesforce = salesforce
        self.netsuite = netsuite
        self.registry = registry
        configs = {
            "salesforce": salesforce_config(salesforce),
            "netsuite": {
                "account_id": netsuite.settings.account_id,
                "base_url": netsuite.url,
                **netsuite.credentials()["tba"],
            },
        }
        (self.path,) = point_at_emulators([EXAMPLES / name], self.dir, configs)
        self.reporter = Collect()
        self.sf_http = requests.Session()
        self.sf_http.headers["Authorization"] = f"Bearer {salesforce.issue_access_token()}"

    # -- Salesforce ---------------------------------------------------------------------------------

    def sf(self, method: str, path: str, body: Any = None) -> Any:
        """A REST call as a Salesforce user would make it (path under /services/data/vXX.X)."""
        url = f"{self.salesforce.url}/services/data/v{self.salesforce.settings.api_version}{path}"
        response = self.sf_http.request(method, url, json=body, timeout=10)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json() if response.content else None

    def records(self, type_name: str) -> dict[str, dict[str, Any]]:
        """Every live record of a type, by its 18-character Id."""
        return {str(r["Id"]): r for r in self.salesforce.records(type_name)}

    def create(self, type_name: str, **fields: Any) -> str:
        return str(self.sf("POST", f"/sobjects/{type_name}", fields)["id"])

    def edit(self, type_name: str, record_id: str, **fields: Any) -> None:
        # the emulator's clock is the wall clock, as our writes' times are: the edit comes later than they did
        # (moving its clock ahead would put SystemModstamp past the read's upper bound, now, until a later run)
        self.sf("PATCH", f"/sobjects/{type_name}/{record_id}", fields)

    def sf_writes(self) -> int:
        """Record writes Salesforce received (POST/PATCH/DELETE of sObjects and collections)."""
        routes = self.salesforce.stats.snapshot(0)["by_route"]
        return sum(n for route, n in routes.items() if route in _WRITE_ROUTES)

    # -- NetSuite -----------------------------------------------------------------------------------

    # suiteql, ns_writes, customer, edit_customer: NetSuiteSide

    def ns_connector(self) -> Connector:
        config = {
            "account_id": self.netsuite.settings.account_id,
            "base_url": self.netsuite.url,
            **self.netsuite.credentials()["tba"],
        }
        return Connector(load_spec("netsuite", self.registry), config, self.registry)

    def invoice(self, customer: str, amount: float, external_id: str | None = None) -> dict[str, Any]:
        """A NetSuite invoice of one line, made as a person (or another integration) would."""
        payload = {
            "entity": {"id": customer},
            "item": {"items": [{"item": {"id": "1"}, "quantity": 1, "rate": amount}]},
        }
        with self.ns_connector() as ns:
            new_id = ns.call("create_invoice", {"external_id": external_id, "payload": payload})["id"]
        (row,) = self.ns_invoices(f"t.id = {int(new_id)}")
        return row

    def ns_invoices(self, where: str = "1 = 1") -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.suiteql(
            "SELECT t.id, t.tranid, t.entity, t.externalid, t.status, t.foreigntotal, t.amountremaining, t.duedate, t.currency, t.memo"
            f" FROM transaction t WHERE t.type = 'CustInvc' AND {where} ORDER BY t.id"
        )
        return rows

    def ns_lines(self, invoice_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.suiteql(
            f"SELECT tl.item, tl.quantity, tl.rate, tl.memo FROM transactionline tl"
            f" WHERE tl.transaction = {int(invoice_id)} AND tl.mainline = 'F' ORDER BY tl.linesequencenumber"
        )
        return rows


def salesforce_finance(
    name: str, tmp_path: Path, registry: Registry, salesforce: SalesforceSettings, netsuite: EmulatorSettings
) -> Iterator[SalesforceFinance]:
    """For a fixture to ``yield from``: both emulators started with these settings and connection file ``name``
    pointed at them; the emulators stopped after the test."""
    with (
        SalesforceEmulator(salesforce) as salesforce_emulator,
        NetSuiteEmulator(netsuite) as netsuite_emulator,
    ):
        yield SalesforceFinance(name, tmp_path, salesforce_emulator, netsuite_emulator, registry)


__all__ = ["SalesforceFinance", "salesforce_config", "salesforce_finance"]
