"""Fixtures of the dashboard tests: the emulators, a connection between them that ran once (two records
dead-lettered), the dashboard over its directory, and a browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_support import REFUSED, ShopSync, chromium_path, make_dashboard, service_missing

from connector_core.cli.ui.app import Dashboard
from connector_core.plugins import Registry, build_registry, make_plugin_manager
from connectors.example.server import ShopServer
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator


@pytest.fixture(scope="session")
def registry() -> Registry:
    return build_registry(make_plugin_manager())


@pytest.fixture
def shop_sync(tmp_path: Path, registry: Registry) -> Iterator[ShopSync]:
    """A first run of shop → NetSuite has happened: 12 customers read, REFUSED dead-lettered."""
    with ShopServer(customers=12, orders=0) as shop, NetSuiteEmulator(EmulatorSettings(customers=2, items=1, sales_orders=0, invoices=0)) as netsuite:
        directory = tmp_path / "connections"
        directory.mkdir()
        sync = ShopSync(directory, shop, netsuite, registry)
        sync.refuse_once(*REFUSED)
        result = sync.run()
        assert result.status == "failed_records", result
        yield sync


@pytest.fixture
def dashboard(shop_sync: ShopSync, registry: Registry) -> Iterator[Dashboard]:
    board = make_dashboard(shop_sync.dir, registry)
    yield board
    board.jobs.wait(60)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Debian chromium driven by Playwright (installed by apt-get when missing and root)."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("Playwright", "the playwright package is not installed (pip install -e '.[test]')")
    from ui_support import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:
            service_missing("chromium", f"{executable} did not start under Playwright: {exc}")
        try:
            yield launched
        finally:
            launched.close()
