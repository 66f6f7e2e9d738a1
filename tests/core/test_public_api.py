"""The names connector_core exports are a contract: adding or removing one is a deliberate change."""

from __future__ import annotations

import connector_core

EXPECTED = [
    "AuthContext", "AuthError", "AuthModel", "CheckResult", "ConfigError", "Connector", "ConnectorError",
    "ConnectorSpec", "DuplicateComponentError", "FatalHTTPError", "HTTPError", "InterpolationError",
    "LoadedSpec", "OperationError", "PageRequest", "PageResult", "PaginationLoopError", "Paginator",
    "PaginatorModel", "PluginError", "Registry", "RetriableHTTPError", "SpecError", "__version__",
    "build_registry", "hookimpl", "load_spec", "make_plugin_manager",
]


def test_exported_names_are_pinned() -> None:
    assert connector_core.__all__ == sorted(EXPECTED)


def test_every_exported_name_resolves() -> None:
    for name in connector_core.__all__:
        assert getattr(connector_core, name) is not None
