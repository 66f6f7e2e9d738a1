"""The partitions a stream iterates: listed values, a parent stream's records, the config's list
with a parent stream behind it, or a plugin's partition router.

A partition made from a parent record is ``{id, parent, parent_partition}``: the parent record's
``field``, the record itself, and the partition the parent record was read in (so a sub-sub-stream
reaches its grandparent as ``partition.parent_partition.id``, and further up the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from connector_core.engine.paths import get_path
from connector_core.engine.stream_plugins import PartitionContext, partition_key
from connector_core.errors import ConnectorError, SpecError

if TYPE_CHECKING:
    from connector_core.engine.session import ConnectorSession
    from connector_core.engine.spec import Partitions


class StreamRead(Protocol):
    """A read of another stream whose records feed the partitions (a reader from ``open_stream``)."""

    @property
    def current_partition(self) -> Any: ...

    def records(self) -> Iterator[dict[str, Any]]: ...


def partitions_of(
    connector: ConnectorSession, name: str, spec: Partitions[Any], open_stream: Callable[[str], StreamRead]
) -> Iterator[tuple[Any, str]]:
    """``(partition, state key)`` for each partition of stream ``name``, in order; ``open_stream`` reads
    another stream of the connector (a parent stream, or one a partition router asks for)."""
    where = f"streams.{name}.partitions"
    if spec.router is not None:
        context = PartitionContext(
            connector=connector.name,
            stream=name,
            config=dict(connector.config),
            render=lambda value: connector.render(value, {}, f"{where}.router"),
            read=lambda stream: open_stream(stream).records(),
        )
        for value in spec.router.partitions(context):
            yield value, partition_key(value)
        return
    if spec.values is not None:
        values = connector.render(spec.values, {}, f"{where}.values")
        if spec.parent is not None and values in (None, [], ""):
            values = None  # the config lists none: the parent stream's records are the partitions
        elif not isinstance(values, list):
            raise ConnectorError(
                f"{where}.values must give a list, got {type(values).__name__}",
                hint="make the template give a list, e.g. '{{ config.account_ids }}'",
            )
        if values is not None:
            for value in values:
                partition = {"id": value, "parent": None, "parent_partition": None} if spec.parent is not None else value
                yield partition, str(value) if spec.parent is not None else partition_key(value)
            return
    if spec.parent is not None:
        yield from _from_parent(open_stream(spec.parent), spec.field)


def _from_parent(parent: StreamRead, field: str) -> Iterator[tuple[Any, str]]:
    for record in parent.records():
        value = get_path(record, field)
        yield {"id": value, "parent": record, "parent_partition": parent.current_partition}, str(value)


def hidden_stream(spec: Any, name: str) -> SpecError:
    """The error for reading a hidden stream on its own, naming the streams it feeds."""
    fed = [other for other, stream in spec.streams.items() if stream.partitions is not None and stream.partitions.parent == name]
    visible = [other for other, stream in spec.streams.items() if not stream.hidden]
    feeds = f"; it feeds the partitions of {', '.join(repr(f) for f in fed)}" if fed else ""
    return SpecError(
        f"connector '{spec.name}': stream '{name}' is hidden (a helper read only to feed other streams){feeds}",
        hint=f"read one of the streams it feeds; streams: {', '.join(visible) or '(none)'}",
    )


__all__ = ["StreamRead", "hidden_stream", "partitions_of"]
