"""Helpers for the finance flow tests (a uniquely named module: `conftest` modules clash under one name).

`FinanceSync` runs a shipped connection file of `connector_core/cli/examples/connections/` against the HubSpot and NetSuite
emulators: the file is copied into tmp_path with only its two configs pointed at the emulators, and the
flows, setup and policies left exactly as shipped.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import requests
import yaml
from runner_support import Collect, ConnectionHarness

from connector_core.cli.demo import EXAMPLES
from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator
from connectors.netsuite.emulator import NetSuiteEmulator

SHIPPED = EXAMPLES
CURRENCY_CODES = {"1": "USD", "2": "GBP", "3": "CAD", "4": "EUR"}  # the emulator's currency ids


class FinanceSync(ConnectionHarness):
    """A HubSpot and a NetSuite emulator, a shipped connection file between them, and runs of it."""

    def __init__(self, tmp_path: Path, hubspot: HubSpotEmulator, netsuite: NetSuiteEmulator, registry: Registry, shipped: str) -> None:
        self.dir = tmp_path
        self.hubspot = hubspot
        self.netsuite = netsuite
        self.registry = registry
        self.path = tmp_path / shipped
        self.reporter = Collect()
        document = yaml.safe_load((SHIPPED / shipped).read_text())
        # keep the shipped non-secret settings (deal_properties ...); secrets and hosts come from the emulators
        shipped_source = document["source"]["config"]
        if isinstance(shipped_source, str):  # a config file beside the connection
            shipped_source = json.loads((SHIPPED / shipped_source).read_text())
        source = {k: v for k, v in shipped_source.items() if not isinstance(v, dict)}
        document["source"]["config"] = {**source, "access_token": hubspot.token, "base_url": hubspot.url}
        document["destination"]["config"] = self.ns_config()
        self.document = document
        self.path.write_text(yaml.safe_dump(copy.deepcopy(document), sort_keys=False))
        self.hs_http = requests.Session()
        self.hs_http.headers["Authorization"] = f"Bearer {hubspot.token}"

    def ns_config(self) -> dict[str, Any]:
        return {"account_id": self.netsuite.settings.account_id, "base_url": self.netsuite.url, **self.netsuite.credentials()["tba"]}

    # -- HubSpot ---------------------------------------------------------------------------------

    def hs(self, method: str, path: str, body: Any = None) -> Any:
        response = self.hs_http.request(method, self.hubspot.url + path, json=body, timeout=10)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json() if response.content else None

    def hs_connector(self) -> Connector:
        return Connector(load_spec("hubspot", self.registry), {"access_token": self.hubspot.token, "base_url": self.hubspot.url}, self.registry)

    def ensure_company_property(self) -> None:
        """netsuite_customer_id on companies (the customer sync creates it; these tests start without one)."""
        with self.hs_connector() as hs:
            hs.call("ensure_properties", {"object_type": "companies", "records": [{"name": "netsuite_customer_id", "hasUniqueValue": True}]})

    def company(self, name: str, netsuite_customer_id: str | None = None) -> str:
        properties = {"name": name}
        if netsuite_customer_id is not None:
            properties["netsuite_customer_id"] = netsuite_customer_id
        return str(self.hs("POST", "/crm/v3/objects/companies", {"properties": properties})["id"])

    def deal(self, name: str, company_id: str, *, amount: str = "1000", stage: str = "contractsent", pipeline: str = "default", **properties: str) -> str:
        body = {"properties": {"dealname": name, "amount": amount, "pipeline": pipeline, "dealstage": stage, **properties}}
        deal_id = str(self.hs("POST", "/crm/v3/objects/deals", body)["id"])
        self.hs("PUT", f"/crm/v4/objects/deals/{deal_id}/associations/default/companies/{company_id}")
        return deal_id

    def win(self, deal_id: str, stage: str = "closedwon") -> None:
        self.hs("PATCH", f"/crm/v3/objects/deals/{deal_id}", {"properties": {"dealstage": stage}})

    def deal_properties(self, deal_id: str) -> dict[str, Any]:
        found = self.hubspot.get_object("deals", deal_id)
        assert found is not None
        return dict(found["properties"])

    def hs_writes(self) -> int:
        """Deal and company writes (PATCH/POST of objects); setup's property calls are not counted."""
        counts = self.hubspot.stats.snapshot()["by_endpoint"]
        return sum(n for name, n in counts.items() if name in ("objects.update", "objects.create", "objects.batch", "objects.archive"))

    # -- NetSuite --------------------------------------------------------------------------------

    def ns_connector(self) -> Connector:
        return Connector(load_spec("netsuite", self.registry), self.ns_config(), self.registry)

    def customers(self) -> dict[str, str]:
        """NetSuite customer id → the currency code of its primary subsidiary."""
        rows = self.netsuite.suiteql("SELECT c.id, s.currency FROM customer c JOIN subsidiary s ON s.id = c.subsidiary ORDER BY c.id")
        return {row["id"]: CURRENCY_CODES[row["currency"]] for row in rows}

    def invoice(self, customer: str, amount: float, external_id: str | None = None) -> dict[str, Any]:
        payload = {"entity": {"id": customer}, "item": {"items": [{"item": {"id": "1"}, "quantity": 1, "rate": amount}]}}
        with self.ns_connector() as ns:
            new_id = ns.call("create_invoice", {"external_id": external_id, "payload": payload})["id"]
        return self.ns_invoice(f"t.id = {int(new_id)}")

    def ns_invoices(self, where: str = "1 = 1") -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.netsuite.suiteql(
            "SELECT t.id, t.tranid, t.entity, t.externalid, t.status, t.foreigntotal, t.amountremaining, t.currency, t.memo,"
            f" (SELECT tl.subsidiary FROM transactionline tl WHERE tl.transaction = t.id AND tl.mainline = 'T') AS subsidiary"
            f" FROM transaction t WHERE t.type = 'CustInvc' AND {where} ORDER BY t.id"
        )
        return rows

    def ns_invoice(self, where: str) -> dict[str, Any]:
        (row,) = self.ns_invoices(where)
        return row

    def ns_lines(self, invoice_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.netsuite.suiteql(
            f"SELECT tl.item, tl.quantity, tl.rate, tl.foreignamount, tl.memo FROM transactionline tl"
            f" WHERE tl.transaction = {int(invoice_id)} AND tl.mainline = 'F' ORDER BY tl.linesequencenumber"
        )
        return rows

    def ns_writes(self) -> int:
        return int(self.netsuite.stats().get("by_route", {}).get("record", 0))
