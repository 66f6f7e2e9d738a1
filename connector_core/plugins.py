"""Hosting plugins: the names a plugin author or an embedding program needs.

``make_plugin_manager()`` returns a fresh pluggy manager (the hook specifications, connector-core's
built-ins, every installed ``connector_core`` entry point, and any plugin objects passed in);
``build_registry(pm)`` calls each ``connector_register_*`` hook once and freezes the results into a
:class:`Registry`. A plugin that registers an emulator returns a :class:`RunningEmulator`. The
machinery lives on the engine floor (:mod:`connector_core.engine.registry`,
:mod:`connector_core.engine.emulators`); this module is its stable public address.
"""

from __future__ import annotations

from connector_core.engine.emulators import RunningEmulator
from connector_core.engine.registry import (
    ENTRY_POINT_GROUP,
    Registry,
    build_registry,
    component_name,
    make_plugin_manager,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Registry",
    "RunningEmulator",
    "build_registry",
    "component_name",
    "make_plugin_manager",
]
