"""The engine's plugin host: a fresh pluggy manager with the built-ins and installed plugins, and the
registry that freezes what they register (auth types, paginators, connectors, filters, transforms,
emulators). Plugin authors import these names from :mod:`connector_core.plugins`."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy
from pydantic import BaseModel

from connector_core import hookspecs
from connector_core.engine import builtin
from connector_core.engine.documents import read_spec_name
from connector_core.errors import ConnectorError, DuplicateComponentError, PluginError

ENTRY_POINT_GROUP = "connector_core"


def make_plugin_manager(*, entry_points: bool = True, plugins: Iterable[Any] = ()) -> pluggy.PluginManager:
    """A fresh plugin manager with the built-ins, the installed plugins (entry points) and ``plugins``."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(builtin, name="connector_core.engine.builtin")
    if entry_points:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if pm.has_plugin(ep.name):
                continue
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not hide which one it was
                raise PluginError(f"plugin '{ep.name}' ({ep.value}) failed to load: {type(exc).__name__}: {exc}") from exc
            _register(pm, module, ep.name)
    for plugin in plugins:
        _register(pm, plugin, None)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"a plugin implements a hook that does not exist (misspelt?): {exc}") from exc
    return pm


def _register(pm: pluggy.PluginManager, plugin: Any, name: str | None) -> None:
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin '{name or plugin}' does not match the hook specifications: {exc}") from exc
    except ValueError as exc:
        raise PluginError(f"plugin '{name or plugin}' could not be registered: {exc}") from exc


def component_name(model: type[BaseModel]) -> str:
    """The ``type`` literal a spec model is selected by."""
    field_info = model.model_fields.get("type")
    if field_info is None or not isinstance(field_info.default, str):
        raise PluginError(f"{model.__qualname__} must declare a `type: Literal[\"name\"] = \"name\"` field")
    return field_info.default


@dataclass(frozen=True)
class Registry:
    """Everything the installed plugins contribute, frozen at start-up."""

    pm: pluggy.PluginManager
    auth_types: dict[str, type[BaseModel]]
    paginators: dict[str, type[BaseModel]]
    connectors: dict[str, Path]
    filters: dict[str, Callable[..., Any]]
    transforms: dict[str, Callable[..., Any]]
    emulators: dict[str, Callable[..., Any]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    extractors: dict[str, type[BaseModel]] = field(default_factory=dict)
    partition_routers: dict[str, type[BaseModel]] = field(default_factory=dict)
    slicers: dict[str, type[BaseModel]] = field(default_factory=dict)

    @property
    def spec_model(self) -> type[BaseModel]:
        from connector_core.engine.spec import spec_model

        return spec_model(tuple(self.auth_types.values()), tuple(self.paginators.values()), *self.stream_components)

    @property
    def stream_components(self) -> tuple[tuple[type[BaseModel], ...], ...]:
        """The extractor, partition router and slicer models, in the order :func:`spec_model` takes them."""
        return tuple(self.extractors.values()), tuple(self.partition_routers.values()), tuple(self.slicers.values())

    @property
    def has_record_hooks(self) -> bool:
        return bool(self.pm.hook.connector_transform_record.get_hookimpls())


def _collect(pm: pluggy.PluginManager, hook_name: str, kind: str, key: Callable[[Any], str], owners: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):
        plugin_name = pm.get_name(impl.plugin) or repr(impl.plugin)
        try:
            result = impl.function()
        except Exception as exc:
            raise PluginError(f"plugin '{plugin_name}' failed in {hook_name}: {type(exc).__name__}: {exc}") from exc
        items = result.items() if isinstance(result, dict) else ((None, item) for item in result or [])
        for maybe_name, item in items:
            try:
                name = maybe_name if maybe_name is not None else key(item)
            except ConnectorError as exc:
                raise PluginError(f"plugin '{plugin_name}' registered something unusable in {hook_name}: {exc}") from exc
            owner_key = f"{kind}:{name}"
            if name in found:
                raise DuplicateComponentError(
                    f"{kind} '{name}' is registered by both '{owners[owner_key]}' and '{plugin_name}'"
                )
            found[name] = item
            owners[owner_key] = plugin_name
    return found


def _connector_name(path: Any) -> str:
    spec_path = Path(path)
    if not spec_path.is_absolute():
        raise PluginError(
            f"a plugin registered the spec path {str(path)!r}, which is relative; build it from __file__ "
            "so it does not depend on the working directory"
        )
    return read_spec_name(spec_path)


def build_registry(pm: pluggy.PluginManager) -> Registry:
    """Call every ``register`` hook once and freeze the results; duplicates raise DuplicateComponentError."""
    owners: dict[str, str] = {}
    return Registry(
        pm=pm,
        auth_types=_collect(pm, "connector_register_auth_types", "auth type", component_name, owners),
        paginators=_collect(pm, "connector_register_paginators", "paginator", component_name, owners),
        connectors={
            name: Path(path)
            for name, path in _collect(pm, "connector_register_connectors", "connector", _connector_name, owners).items()
        },
        filters=_collect(pm, "connector_register_jinja_filters", "jinja filter", str, owners),
        transforms=_collect(pm, "connector_register_transforms", "transform", str, owners),
        emulators=_collect(pm, "connector_register_emulators", "emulator", str, owners),
        owners=owners,
        extractors=_collect(pm, "connector_register_extractors", "extractor", component_name, owners),
        partition_routers=_collect(pm, "connector_register_partition_routers", "partition router", component_name, owners),
        slicers=_collect(pm, "connector_register_slicers", "slicer", component_name, owners),
    )


__all__ = ["ENTRY_POINT_GROUP", "Registry", "build_registry", "component_name", "make_plugin_manager"]
