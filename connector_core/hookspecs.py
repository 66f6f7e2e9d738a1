"""The hooks a connector-core plugin may implement.

A plugin is a module (or object) with functions marked ``@hookimpl`` and named after the hooks below.
Plugins are found through the ``connector_core`` entry-point group::

    [project.entry-points.connector_core]
    myapi = "myapi_connector.plugin"

An implementation may accept any subset of a hook's arguments. ``register`` hooks are called once,
when the plugin manager is built; their results are frozen into one registry, and a name registered
twice raises :class:`~connector_core.errors.DuplicateComponentError` naming both plugins. The other
hooks are called while connectors run. Hooks are grouped by phase: registration, then requests,
then records.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import requests

    from connector_core.engine.auth import AuthModel
    from connector_core.engine.pagination import PaginatorModel
    from connector_core.engine.stream_plugins import ExtractorModel, PartitionRouterModel, SlicerModel
    from connector_core.errors import ConnectorError

PROJECT = "connector_core"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- registration ----------------------------------------------------------------------------------


@hookspec
def connector_register_connectors() -> list[str | Path]:
    """Register connector spec files shipped by the plugin.

    Returns:
        Paths of YAML or JSON spec files. Each spec's ``name`` becomes an installed connector, usable as
        ``connector-core read NAME``. Relative paths are not allowed; build them from ``__file__``.

    Called once, when the registry is built. Not ``firstresult``: every plugin's paths are merged, and
    two specs with one ``name`` raise ``DuplicateComponentError``.
    """


@hookspec
def connector_register_auth_types() -> list[type[AuthModel]]:
    """Register auth types (request signers) usable as ``auth: {type: ...}`` in specs.

    Returns:
        Subclasses of :class:`connector_core.engine.auth.AuthModel`. Each declares ``type: Literal["name"]``,
        its settings as pydantic fields (with descriptions: they feed the published schema), and
        ``build(ctx) -> requests.auth.AuthBase``, which runs on every prepared request, after its URL and
        body are final, so it can sign exactly what is sent.

    Called once, when the registry is built. Not ``firstresult``: every plugin's types are merged, and a
    ``type`` registered twice (a built-in included) raises ``DuplicateComponentError``.
    """


@hookspec
def connector_register_paginators() -> list[type[PaginatorModel]]:
    """Register paginators usable as ``paginate: {type: ...}`` in specs.

    Returns:
        Subclasses of :class:`connector_core.engine.pagination.PaginatorModel`. Each declares
        ``type: Literal["name"]`` and ``start() -> Paginator``.

    Called once, when the registry is built. Not ``firstresult``: every plugin's paginators are merged,
    and a ``type`` registered twice (a built-in included) raises ``DuplicateComponentError``.
    """


@hookspec
def connector_register_extractors() -> list[type[ExtractorModel]]:
    """Register record extractors usable as ``records: {extractor: {type: ...}}`` in a stream.

    Returns:
        Subclasses of :class:`connector_core.plugins.ExtractorModel`. Each declares
        ``type: Literal["name"]``, its settings as pydantic fields (with descriptions: they feed the
        published schema), and ``extract(response, body) -> Iterable[record]``, called once per
        successful response with the ``requests.Response`` and its body parsed as JSON (None when the
        body is empty or not JSON). The records it returns go through the stream's filter, cursor,
        transforms and pagination like those found by ``records.path``.

    Called once, when the registry is built. Not ``firstresult``: every plugin's extractors are merged,
    and a ``type`` registered twice raises ``DuplicateComponentError``.
    """


@hookspec
def connector_register_partition_routers() -> list[type[PartitionRouterModel]]:
    """Register partition routers usable as ``partitions: {router: {type: ...}}`` in a stream.

    Returns:
        Subclasses of :class:`connector_core.plugins.PartitionRouterModel`. Each declares
        ``type: Literal["name"]``, its settings as pydantic fields, and
        ``partitions(ctx) -> Iterable[partition]``. ``ctx`` (a ``PartitionContext``) gives the
        connector and stream names, the config, ``render(template)`` and ``read(stream)``, which yields
        the records of another stream of the connector (a hidden one included). The stream is read once
        per partition; templates see it as ``partition`` and its state is kept per partition.

    Called once, when the registry is built. Not ``firstresult``: every plugin's routers are merged, and
    a ``type`` registered twice raises ``DuplicateComponentError``.
    """


@hookspec
def connector_register_slicers() -> list[type[SlicerModel]]:
    """Register incremental slicers usable as ``cursor: {slicer: {type: ...}}`` in a stream.

    Returns:
        Subclasses of :class:`connector_core.plugins.SlicerModel`. Each declares
        ``type: Literal["name"]``, its settings as pydantic fields, and
        ``slices(ctx) -> Iterable[dict]``. ``ctx`` (a ``SliceContext``) gives the read's bounds parsed
        by the cursor's type (``lower``: the saved cursor minus the lookback, else ``start``;
        ``upper``: ``end``; either may be None), the partition, the engine's clock and
        ``render(template)``. Slices come in ascending cursor order; each partition is read once per
        slice, requests see it as ``slice``, and the cursor is checkpointed after each slice.

    Called once, when the registry is built. Not ``firstresult``: every plugin's slicers are merged, and
    a ``type`` registered twice raises ``DuplicateComponentError``.
    """


@hookspec
def connector_register_jinja_filters() -> dict[str, Callable[..., Any]]:
    """Register filters for spec templates, e.g. ``{{ config.account_id | ns_realm }}``.

    Returns:
        A mapping of filter name to function. Filters run inside the sandbox; they receive plain values
        and must not touch files or the network.

    Called once, when the registry is built. Not ``firstresult``: every plugin's filters are merged, and a
    name registered twice raises ``DuplicateComponentError``. Filters are known when specs load, so a
    template using an unknown filter is a ``SpecError`` with its location.
    """


@hookspec
def connector_register_transforms() -> dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]]:
    """Register named record transforms, used in specs as ``transforms: [{plugin: NAME}]``.

    Returns:
        A mapping of name to function. The function receives one record and returns the record to keep
        (the same dict changed, or a new one) or None to drop it.

    Called once, when the registry is built. Not ``firstresult``: every plugin's transforms are merged,
    and a name registered twice raises ``DuplicateComponentError``.
    """


@hookspec
def connector_register_emulators() -> dict[str, Callable[[int | None], Any]]:
    """Register local emulators of the APIs a plugin's connectors talk to, for `connector-core sandbox`.

    Returns:
        A mapping of emulator name to a start function. ``start(port)`` (None: the emulator's usual
        port; 0: any free port) starts the emulator on 127.0.0.1 in a background thread and returns a
        :class:`connector_core.engine.emulators.RunningEmulator` with the connector name, the URL, a config that
        connects that connector to it, and a ``stop`` function.

    Called once, when the registry is built. Not ``firstresult``: every plugin's emulators are merged,
    and a name registered twice raises ``DuplicateComponentError``.
    """


# --- requests ---------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def connector_interpret_error(connector: str, response: requests.Response, body: Any) -> ConnectorError | None:
    """Turn an error response into an actionable error, after the spec's own ``errors`` rules found no match.

    Args:
        connector: name of the connector that made the request.
        response: the error response (status >= 400).
        body: the parsed JSON body, or the text when it is not JSON.

    Returns:
        An exception to raise (use :class:`~connector_core.errors.RetriableHTTPError` for transient
        failures, so the request is retried) or None to leave the decision to other plugins and the
        default rules. ``firstresult``: the first non-None answer wins.
    """


# --- records ----------------------------------------------------------------------------------------


@hookspec
def connector_transform_record(connector: str, stream: str, record: dict[str, Any]) -> dict[str, Any] | None:
    """Change or inspect every record a stream yields, after the spec's own transforms.

    Args:
        connector: connector name.
        stream: stream name.
        record: the record; it may be changed in place.

    Returns:
        None to keep the (possibly changed) record; a dict to replace it. To drop records, use a named
        transform instead. Called for every record: keep it cheap.

    Not ``firstresult``: every implementation runs, each given the same record. Check ``connector``
    and leave other connectors' records alone; prefer changing the record in place, since when
    several plugins return a dict only one replacement is kept.
    """


__all__ = [
    "PROJECT",
    "connector_interpret_error",
    "connector_register_auth_types",
    "connector_register_connectors",
    "connector_register_emulators",
    "connector_register_extractors",
    "connector_register_jinja_filters",
    "connector_register_paginators",
    "connector_register_partition_routers",
    "connector_register_slicers",
    "connector_register_transforms",
    "connector_transform_record",
    "hookimpl",
    "hookspec",
]
