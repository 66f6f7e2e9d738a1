"""Hosting plugins: the names a plugin author or an embedding program needs.

``make_plugin_manager()`` returns a fresh pluggy manager (the hook specifications, connector-core's
built-ins, every installed ``connector_core`` entry point, and any plugin objects passed in);
``build_registry(pm)`` calls each ``connector_register_*`` hook once and freezes the results into a
:class:`Registry`. The bases of the stream components a plugin may register (extractors, partition
routers, slicers) and the contexts they receive are here too. A plugin that registers an emulator returns a :class:`RunningEmulator`. The
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
from connector_core.engine.stream_plugins import (
    ExtractorModel,
    PartitionContext,
    PartitionRouterModel,
    SliceContext,
    SlicerModel,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "ExtractorModel",
    "PartitionContext",
    "PartitionRouterModel",
    "Registry",
    "RunningEmulator",
    "SliceContext",
    "SlicerModel",
    "build_registry",
    "component_name",
    "make_plugin_manager",
]
