"""Reading a partition slice by slice, as a plugin's slicer (``cursor.slicer``) or time windows
(``cursor.window``, :mod:`connector_core.engine.windows`) divide it.

Slices are handed over in order, each to its last page before the next; with a concurrency above 1 the
following slices are fetched meanwhile (:mod:`connector_core.engine.read_ahead`). Requests see a slice as
``slice``. Because the reader hands every record of a page to its caller before asking for the next
page, the moment this generator moves on from a slice is the moment all its records have been taken:
the cursor is checkpointed there. Slices must come in ascending cursor order, so the checkpoint never passes a
record that has not been read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from connector_core.errors import ConnectorError

if TYPE_CHECKING:
    from connector_core.engine.cursors import CursorTracker
    from connector_core.engine.session import ConnectorSession
    from connector_core.engine.spec import Incremental


class SlicedStream(Protocol):
    """What slicing needs of the reader of a stream (:class:`~connector_core.engine.reader.StreamReader`)."""

    @property
    def connector(self) -> ConnectorSession: ...
    @property
    def name(self) -> str: ...
    @property
    def incremental(self) -> Incremental[Any] | None: ...

    def read_pages(self, values: dict[str, Any]) -> Iterator[list[Any]]: ...
    def fetcher(self, values: dict[str, Any]) -> Callable[[], Iterator[list[Any]]]: ...
    def read_ahead_width(self, *, sliced: bool) -> int: ...
    def save(self, key: str | None, partition_state: dict[str, Any]) -> None: ...


def sliced_pages(reader: SlicedStream, values: dict[str, Any], cursor: CursorTracker | None, key: str | None) -> Iterator[list[Any]]:
    """The pages of one partition: all at once, or slice after slice with a checkpoint after each."""
    incremental = reader.incremental
    if incremental is None or cursor is None or (incremental.slicer is None and incremental.window is None):
        yield from reader.read_pages(values)
        return
    from connector_core.engine.read_ahead import read_ahead
    from connector_core.engine.windows import stamp_records  # here: most reads are not sliced

    window = incremental.window
    slices = _plugin_slices(reader, values, cursor) if window is None else _window_slices(reader, cursor)
    jobs = (((piece, reached), reader.fetcher({**values, "slice": piece})) for piece, reached in slices)
    for (piece, reached), fetched in read_ahead(jobs, reader.read_ahead_width(sliced=True)):
        pages = fetched if fetched is not None else reader.read_pages({**values, "slice": piece})
        yield from stamp_records(pages, window.fields, piece) if window is not None and window.fields else pages
        if reached is not None:
            cursor.reach(reached)  # the window is read: nothing before its end is left to read
        if cursor.changed:
            reader.save(key, cursor.state())


def _plugin_slices(reader: SlicedStream, values: dict[str, Any], cursor: CursorTracker) -> Iterator[tuple[dict[str, Any], Any]]:
    from connector_core.engine.stream_plugins import SliceContext

    connector, partition = reader.connector, values.get("partition")
    slicer = reader.incremental.slicer if reader.incremental is not None else None
    assert slicer is not None
    where = f"streams.{reader.name}.cursor.slicer"
    context = SliceContext(
        stream=reader.name,
        cursor_type=cursor.kind,
        lower=cursor.lower,
        upper=cursor.upper,
        partition=partition,
        now=connector.now.timestamp,
        render=lambda value: connector.render(value, {"partition": partition}, where),
    )
    for piece in slicer.slices(context):
        if not isinstance(piece, dict):
            raise ConnectorError(
                f"{where}: the slicer '{slicer.type}' gave a {type(piece).__name__}, not a mapping",
                hint="a slicer yields mappings, e.g. {'start': ..., 'end': ...}; this is a bug in the plugin",
            )
        yield piece, None


def _window_slices(reader: SlicedStream, cursor: CursorTracker) -> Iterator[tuple[dict[str, Any], Any]]:
    window = reader.incremental.window if reader.incremental is not None else None
    assert window is not None
    if cursor.lower is None:
        raise ConnectorError(
            f"streams.{reader.name}.cursor.window: a first windowed read needs `start`, and the cursor has none",
            hint="set cursor.start, e.g. start: '{{ config.start_date }}'",
        )
    from connector_core.engine.windows import parse_step, time_windows

    upper = cursor.upper if cursor.upper is not None else reader.connector.now.now()
    for each in time_windows(parse_step(window.step), window.granularity, window.format, cursor.lower, upper):
        yield each.piece, each.end


__all__ = ["SlicedStream", "sliced_pages"]
