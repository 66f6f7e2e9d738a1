"""Helpers shared by the runner tests (a uniquely named module: `conftest` modules clash under one name)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from connector_core.plugins import Registry
from connector_core.sync.connection import LoadedConnection, load_connection
from connector_core.sync.runner import Reporter, Runner, RunResult
from connector_core.sync.store import SQLStateStore, open_store
from connectors.example.server import ShopServer
from connectors.netsuite.emulator import NetSuiteEmulator

ROOT = Path(__file__).resolve().parents[2]


class Collect(Reporter):
    """Keeps what a run reports, for assertions."""

    def __init__(self) -> None:
        self.writes: list[dict[str, Any]] = []
        self.messages: list[str] = []

    def intended(self, write: dict[str, Any]) -> None:
        self.writes.append(write)

    def message(self, text: str) -> None:
        self.messages.append(text)


class ConnectionHarness:
    """Loads, runs and inspects the state of a test's connection file (``self.path``)."""

    path: Path
    registry: Registry
    reporter: Collect

    def load(self, path: Path | None = None) -> LoadedConnection:
        return load_connection(path or self.path, self.registry)

    def store(self, path: Path | None = None) -> SQLStateStore:
        """The connection's state where `run` finds it (the file's `state:`, $CONNECTOR_CORE_STATE_URL, or its SQLite file)."""
        loaded = self.load(path)
        return open_store(loaded.state_location(), loaded.name)

    def run(self, path: Path | None = None, **options: Any) -> RunResult:
        loaded = self.load(path)
        self.reporter = Collect()
        with open_store(loaded.state_location(), loaded.name) as store:
            return Runner(loaded, store, self.registry, reporter=self.reporter, **options).run()


def customer_flow(**changes: Any) -> dict[str, Any]:
    """Shop customers → NetSuite customers, upserted by external id `shop-<id>`."""
    flow: dict[str, Any] = {
        "name": "customers",
        "from": {"stream": "customers"},
        "to": {"operation": "upsert_customer", "into": "payload", "external_id": "external_id"},
        "match": {"external_id": "shop-{{ record.id }}"},
        "mapping": {
            "companyName": "name",
            "entityId": {"template": "SHOP{{ record.id }}"},
            "email": "email",
        },
    }
    flow.update(changes)
    return flow


class Sync(ConnectionHarness):
    """A shop and a NetSuite emulator, a connection file between them, and runs of it."""

    def __init__(self, tmp_path: Path, shop: ShopServer, netsuite: NetSuiteEmulator, registry: Registry) -> None:
        self.dir = tmp_path
        self.shop = shop
        self.netsuite = netsuite
        self.registry = registry
        self.path = tmp_path / "shop_to_netsuite.yaml"
        self.reporter = Collect()

    def ns_config(self, **extra: Any) -> dict[str, Any]:
        return {"account_id": self.netsuite.settings.account_id, "base_url": self.netsuite.url, **self.netsuite.credentials()["tba"], "subsidiary_id": "1", **extra}

    def connection(self, flows: list[dict[str, Any]] | None = None, **top: Any) -> dict[str, Any]:
        return {
            "name": "shop-to-netsuite",
            "source": {"connector": "example", "config": {"base_url": self.shop.url, "api_key": "demo-key"}},
            "destination": {"connector": "netsuite", "config": self.ns_config()},
            "direction": "crm->netsuite",
            "schedule": "every 1h",
            "flows": flows if flows is not None else [customer_flow()],
            **top,
        }

    def write(self, flows: list[dict[str, Any]] | None = None, *, name: str | None = None, **top: Any) -> Path:
        path = self.dir / name if name else self.path
        path.write_text(yaml.safe_dump(copy.deepcopy(self.connection(flows, **top)), sort_keys=False))
        return path

    # -- what the emulators hold --------------------------------------------------------------------

    def ns_writes(self) -> int:
        """Record API calls (the flows' writes; reads go through SuiteQL)."""
        return int(self.netsuite.stats().get("by_route", {}).get("record", 0))

    def ns_count(self, where: str = "externalid LIKE 'shop-%'") -> int:
        return int(self.netsuite.suiteql(f"SELECT COUNT(*) AS n FROM customer WHERE {where}")[0]["n"])

    def ns_customer(self, external_id: str) -> dict[str, Any]:
        rows = self.netsuite.suiteql(f"SELECT * FROM customer WHERE externalid = '{external_id}'")
        assert len(rows) == 1, rows
        return rows[0]
