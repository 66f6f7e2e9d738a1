"""The CRM plugin registers the `hubspot` spec and its emulator for `connector-core sandbox`."""

from __future__ import annotations

from connector_core.engine.connector import Connector
from connector_core.plugins import build_registry, make_plugin_manager
from connectors.crm import plugin


def test_the_plugin_registers_the_hubspot_connector_and_emulator() -> None:
    registry = build_registry(make_plugin_manager(entry_points=False, plugins=[plugin]))
    assert "hubspot" in registry.emulators
    running = plugin.start_emulator(0)
    try:
        with Connector.open("hubspot", running.config, registry=registry) as connector:
            assert connector.check().ok
    finally:
        running.stop()
