"""Fixtures for the sync runner tests: the example shop API and the NetSuite emulator on loopback,
connection files written to tmp_path, and runs against a real SQLite state file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_support import Collect, Sync, customer_flow  # noqa: F401
from state_support import opened, state_location  # noqa: F401  (state fixtures: a test that takes them runs on each back end)
from temporal_support import temporal, temporalio_sdk  # noqa: F401  (the Temporal dev server, once per session)

from connector_core.plugins import Registry, build_registry, make_plugin_manager
from connectors.example.server import ShopServer
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def registry() -> Registry:
    return build_registry(make_plugin_manager())


@pytest.fixture
def shop() -> Iterator[ShopServer]:
    with ShopServer(customers=40, orders=5) as server:
        yield server


@pytest.fixture
def netsuite() -> Iterator[NetSuiteEmulator]:
    with NetSuiteEmulator(EmulatorSettings(customers=3, items=2, sales_orders=1, invoices=2)) as emulator:
        yield emulator


@pytest.fixture
def sync(tmp_path: Path, shop: ShopServer, netsuite: NetSuiteEmulator, registry: Registry) -> Sync:
    return Sync(tmp_path, shop, netsuite, registry)
