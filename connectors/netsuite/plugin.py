"""NetSuite connector plugin: hook implementations only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from connector_core.errors import ConnectorError
from connector_core.hookspecs import hookimpl

SPEC = Path(__file__).with_name("netsuite.yaml")


@hookimpl
def connector_register_connectors() -> list[Path]:
    return [SPEC]


@hookimpl
def connector_register_auth_types() -> list[type]:
    from connectors.netsuite.auth import NetSuiteAuth

    return [NetSuiteAuth]


@hookimpl
def connector_register_paginators() -> list[type]:
    from connectors.netsuite.pagination import SuiteQLPaginator

    return [SuiteQLPaginator]


@hookimpl
def connector_register_jinja_filters() -> dict[str, Callable[..., Any]]:
    from connectors.netsuite.filters import FILTERS

    return dict(FILTERS)


@hookimpl
def connector_register_transforms() -> dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]]:
    from connectors.netsuite.filters import TRANSFORMS

    return dict(TRANSFORMS)


@hookimpl
def connector_interpret_error(connector: str, response: requests.Response, body: Any) -> ConnectorError | None:
    if connector != "netsuite" and "/services/rest/" not in response.url:
        return None
    from connectors.netsuite.errors import interpret

    return interpret(response, body)


@hookimpl
def connector_register_emulators() -> dict[str, Callable[[int | None], Any]]:
    return {"netsuite": start_emulator}


def start_emulator(port: int | None) -> Any:
    """The NetSuite emulator on 127.0.0.1 (port 8400 unless told otherwise), TBA credentials in the config."""
    from connector_core.engine.emulators import RunningEmulator
    from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

    emulator = NetSuiteEmulator(EmulatorSettings(customers=1000, invoices=300, sales_orders=100))
    url = emulator.start(port=8400 if port is None else port)
    tba = emulator.credentials()["tba"]
    config = {"account_id": emulator.credentials()["account_id"], "base_url": url, **tba}
    return RunningEmulator("netsuite", "netsuite", url, config, emulator.stop)
