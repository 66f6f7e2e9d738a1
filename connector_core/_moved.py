"""Old module addresses from before the floors (0.1), kept importable with a DeprecationWarning.

Plugins written against 0.1 import e.g. ``connector_core.auth`` or ``connector_core.pagination``; those
names now live on the engine floor. Importing an old name loads the new module and binds it under the
old name too, so ``from connector_core.auth import AuthModel`` keeps working. New code imports the
public names from :mod:`connector_core` or :mod:`connector_core.plugins`.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

MOVED: dict[str, str] = {
    f"connector_core.{old}": f"connector_core.{new}"
    for old, new in {
        "auth": "engine.auth",
        "authorize": "engine.auth.authorize",
        "builtin": "engine.builtin",
        "config": "engine.config",
        "connection": "sync.connection",
        "connector": "engine.connector",
        "demo": "cli.demo",
        "discovery": "engine.discovery",
        "documents": "engine.documents",
        "enrich": "engine.enrich",
        "governance": "engine.governance",
        "http": "engine.http",
        "interpolation": "engine.interpolation",
        "loader": "engine.loader",
        "mapping": "sync.mapping",
        "outcomes": "engine.outcomes",
        "pagination": "engine.pagination",
        "paths": "engine.paths",
        "reader": "engine.reader",
        "redaction": "engine.redaction",
        "runner": "sync.runner",
        "sandbox": "engine.emulators",
        "scaffold": "cli.scaffold",
        "schema": "engine.schema",
        "spec": "engine.spec",
        "statefile": "engine.statefile",
        "statestore": "sync.store",
        "sync_cli": "cli.sync_verbs",
        "sync_records": "sync.records",
        "sync_writes": "sync.writes",
        "timeparse": "engine.timeparse",
        "tokenstore": "engine.auth.tokenstore",
        "urls": "engine.urls",
        "validate": "cli.validate",
        "validation": "engine.validation",
        "validation_cache": "engine.validation_cache",
        "writes": "engine.writes",
    }.items()
}


# The finder and loader follow importlib's protocols without subclassing importlib.abc's classes:
# importing importlib.abc costs every command several milliseconds of start-up.
class _MovedModuleLoader:
    def __init__(self, new_name: str) -> None:
        self.new_name = new_name

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        warnings.warn(
            f"{module.__name__} moved to {self.new_name} in connector-core 0.2; import the public names from "
            "connector_core or connector_core.plugins (the old address will be removed in 1.0)",
            DeprecationWarning,
            stacklevel=2,
        )
        # the import system returns whatever sys.modules holds under the old name once this returns
        sys.modules[module.__name__] = importlib.import_module(self.new_name)


class MovedModuleFinder:
    """Resolves the 0.1 module names listed in :data:`MOVED`; every other name is left to the others."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        new_name = MOVED.get(fullname)
        if new_name is None:
            return None
        import importlib.util

        loader: Any = _MovedModuleLoader(new_name)  # the protocol typeshed names also wants the removed load_module
        return importlib.util.spec_from_loader(fullname, loader)


def install() -> None:
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
