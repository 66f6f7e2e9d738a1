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
