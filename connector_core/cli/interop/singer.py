"""``read|discover --format singer``: a spec as a Singer tap (Meltano's extractors).

stdout carries SCHEMA, RECORD and STATE messages only; messages and errors go to stderr as in every
command. STATE carries the whole tap state, ``{"bookmarks": {stream: state}}``, as Singer wants: Meltano
keeps the last one and hands it back with ``--state``, which is only read, never written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from connector_core.cli.app import Context
from connector_core.cli.interop.inputs import InputFile
from connector_core.cli.interop.offers import discovered, offers_of_connector, stream_offers
from connector_core.cli.interop.output import MessageWriter
from connector_core.cli.interop.several_streams import read_each, streams_at_once
from connector_core.cli.interop.singer_catalog import SelectedStream, catalog, every_stream, load_catalog


def discover(ctx: Context, connector: str, config: str | None, sample: bool) -> None:
    """The Singer catalog on stdout, from the spec alone or, with ``--sample``, with inferred schemas."""
    found, _ = discovered(ctx, connector, config, sample=sample)
    click.echo(json.dumps(catalog(stream_offers(found)), indent=2))


def read(ctx: Context, connector: str, config: str | None, catalog_path: str | None, state: str | None, limit: int | None, only: str | None) -> None:
    """The selected streams in catalog order (every stream without a catalog; several at once, their
    messages interleaved, with ``CONNECTOR_CORE_STREAMS_AT_ONCE``), each as SCHEMA then RECORDs, with a STATE
    after each checkpoint of an incremental stream."""
    with ctx.open(connector, config) as opened:
        offers = offers_of_connector(opened)  # SCHEMA messages carry the schemas the API describes, too
        streams = load_catalog(Path(catalog_path), offers, opened.name) if catalog_path else every_stream(offers)
        if only is not None:
            streams = _only(streams, only, offers)
        if not streams:
            click.echo("warning: the catalog selects no stream: nothing to read (mark streams \"selected\": true in their metadata)", err=True)
        bookmarks = load_bookmarks(Path(state)) if state else {}
        out = MessageWriter()
        try:
            read_each(streams, lambda stream: _read_stream(opened, stream, bookmarks, out, limit), streams_at_once(opened, len(streams)))
            if any(stream.incremental for stream in streams):
                # last, so that a target which keeps only a STATE nothing follows (most do) keeps this one
                out.write({"type": "STATE", "value": {"bookmarks": dict(bookmarks)}})
        finally:
            out.close()


def _only(streams: list[SelectedStream], name: str, offers: dict[str, Any]) -> list[SelectedStream]:
    from connector_core.engine.validation import no_such

    chosen = [stream for stream in streams if stream.name == name]
    if not chosen:
        raise no_such("selected stream", name, [stream.name for stream in streams], "the catalog")
    return chosen


def _read_stream(opened: Any, stream: SelectedStream, bookmarks: dict[str, Any], out: MessageWriter, limit: int | None) -> None:
    name = stream.name
    schema_message: dict[str, Any] = {"type": "SCHEMA", "stream": name, "schema": stream.schema, "key_properties": stream.key_properties}
    if stream.incremental and stream.cursor:
        schema_message["bookmark_properties"] = [stream.cursor]
    out.write(schema_message)

    def checkpoint(stream_state: dict[str, Any]) -> None:
        bookmarks[name] = stream_state
        out.write({"type": "STATE", "value": {"bookmarks": dict(bookmarks)}})
        out.flush()

    state = bookmarks.get(name) if stream.incremental else None
    reader = opened.reader(name, state, on_checkpoint=checkpoint if stream.incremental else None, limit=limit)
    write = out.write
    count = 0
    left_out = stream.left_out
    for record in reader.records():
        if left_out:
            record = {key: value for key, value in record.items() if key not in left_out}
        write({"type": "RECORD", "stream": name, "record": record})
        count += 1
    out.flush()
    mode = "incremental" if stream.incremental else "full table"
    click.echo(f"read {name} ({mode}): {count} record{'' if count == 1 else 's'} in {reader.pages} page{'' if reader.pages == 1 else 's'}", err=True)


def load_bookmarks(path: Path) -> dict[str, Any]:
    """Each stream's state from a Singer state file: ``{"bookmarks": {...}}``, as Meltano passes it, or a
    STATE message as the tap printed it."""
    file = InputFile(path, "state")
    data = file.data
    at: tuple[str, ...] = ()
    if data is None or data == {}:
        return {}
    file.expect(data, dict, at, 'a Singer state, {"bookmarks": {...}}')
    if data.get("type") == "STATE" and "value" in data:
        data, at = file.expect(data["value"], dict, ("value",), "the state value, an object"), ("value",)
    bookmarks = file.expect(data.get("bookmarks", {}), dict, (*at, "bookmarks"), "an object of stream states")
    return {name: file.expect(value, dict, (*at, "bookmarks", name), "the stream's state, an object") for name, value in bookmarks.items()}


def tap() -> None:
    """``connector-core-tap``: the Singer tap's own command line (``--config``, ``--discover``,
    ``--catalog``/``--properties``, ``--state``) for a platform that runs a tap as one executable, as
    Meltano does; the spec comes from CONNECTOR_CORE_CONNECTOR (or a first argument)."""
    from connector_core.cli import main

    main(["read", "--format", "singer", *sys.argv[1:]], prog_name="connector-core-tap")


__all__ = ["discover", "load_bookmarks", "read", "tap"]
