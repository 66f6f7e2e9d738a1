"""connector-core: declarative API connectors, pluggy plugins and a CRM <-> NetSuite sync runner.

The public API is re-exported here and imported lazily, so ``import connector_core`` (and the CLI's
start-up) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from connector_core import _moved
from connector_core._version import __version__

_moved.install()

_EXPORTS = {
    "Connector": "connector_core.engine.connector",
    "CheckResult": "connector_core.engine.connector",
    "load_spec": "connector_core.engine.loader",
    "LoadedSpec": "connector_core.engine.loader",
    "make_plugin_manager": "connector_core.plugins",
    "build_registry": "connector_core.plugins",
    "Registry": "connector_core.plugins",
    "hookimpl": "connector_core.hookspecs",
    "AuthModel": "connector_core.engine.auth",
    "AuthContext": "connector_core.engine.auth",
    "PaginatorModel": "connector_core.engine.pagination",
    "Paginator": "connector_core.engine.pagination",
    "PageRequest": "connector_core.engine.pagination",
    "PageResult": "connector_core.engine.pagination",
    "ConnectorSpec": "connector_core.engine.spec",
    "ConnectorError": "connector_core.errors",
    "SpecError": "connector_core.errors",
    "ConfigError": "connector_core.errors",
    "PluginError": "connector_core.errors",
    "DuplicateComponentError": "connector_core.errors",
    "InterpolationError": "connector_core.errors",
    "PaginationLoopError": "connector_core.errors",
    "OperationError": "connector_core.errors",
    "HTTPError": "connector_core.errors",
    "RetriableHTTPError": "connector_core.errors",
    "FatalHTTPError": "connector_core.errors",
    "AuthError": "connector_core.errors",
}

__all__ = [
    "AuthContext",
    "AuthError",
    "AuthModel",
    "CheckResult",
    "ConfigError",
    "Connector",
    "ConnectorError",
    "ConnectorSpec",
    "DuplicateComponentError",
    "FatalHTTPError",
    "HTTPError",
    "InterpolationError",
    "LoadedSpec",
    "OperationError",
    "PageRequest",
    "PageResult",
    "PaginationLoopError",
    "Paginator",
    "PaginatorModel",
    "PluginError",
    "Registry",
    "RetriableHTTPError",
    "SpecError",
    "__version__",
    "build_registry",
    "hookimpl",
    "load_spec",
    "make_plugin_manager",
]

if TYPE_CHECKING:  # pragma: no cover
    from connector_core.engine.auth import AuthContext, AuthModel
    from connector_core.engine.connector import CheckResult, Connector
    from connector_core.engine.loader import LoadedSpec, load_spec
    from connector_core.engine.pagination import PageRequest, PageResult, Paginator, PaginatorModel
    from connector_core.engine.spec import ConnectorSpec
    from connector_core.errors import (
        AuthError,
        ConfigError,
        ConnectorError,
        DuplicateComponentError,
        FatalHTTPError,
        HTTPError,
        InterpolationError,
        OperationError,
        PaginationLoopError,
        PluginError,
        RetriableHTTPError,
        SpecError,
    )
    from connector_core.hookspecs import hookimpl
    from connector_core.plugins import Registry, build_registry, make_plugin_manager


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'connector_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
