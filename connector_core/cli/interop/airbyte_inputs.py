"""What Airbyte hands a source's ``read``: the configured catalog (``--catalog``) and the state (``--state``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector_core.cli.interop.inputs import InputFile
from connector_core.cli.interop.offers import StreamOffer
from connector_core.engine.validation import suggest


@dataclass(frozen=True)
class ConfiguredStream:
    """A stream the user selected, and how: incremental reads pass the saved state to the reader."""

    name: str
    incremental: bool
    namespace: str | None = None


def load_configured_catalog(path: Path, offers: dict[str, StreamOffer], connector: str) -> list[ConfiguredStream]:
    """The selected streams in catalog order; a stream the spec lacks, a sync mode it does not support or
    a cursor other than the spec's is a located error."""
    file = InputFile(path, "configured catalog")
    data = file.expect(file.data, dict, (), 'a configured catalog, {"streams": [...]}')
    entries = file.expect(data.get("streams"), list, ("streams",), "a list of configured streams")
    selected: list[ConfiguredStream] = []
    for index, entry in enumerate(entries):
        at = ("streams", index)
        file.expect(entry, dict, at, "a configured stream")
        stream = file.expect(entry.get("stream"), dict, (*at, "stream"), "the stream, an object with its name")
        name = file.expect(stream.get("name"), str, (*at, "stream", "name"), "the stream's name")
        offer = offers.get(name)
        if offer is None:
            guess = suggest(name, list(offers))
            raise file.error(
                (*at, "stream", "name"), f"connector '{connector}' has no stream '{name}'",
                hint=f"did you mean '{guess}'?" if guess else f"streams: {', '.join(offers) or '(none)'}; run discover --format airbyte for the catalog",
            )
        mode = entry.get("sync_mode", "full_refresh")
        if mode not in ("full_refresh", "incremental"):
            raise file.error((*at, "sync_mode"), f"unknown sync mode {mode!r}", hint="full_refresh or incremental")
        if mode == "incremental" and not offer.cursor:
            raise file.error((*at, "sync_mode"), f"stream '{name}' has no cursor, so it cannot be read incrementally", hint="choose full_refresh, or give the stream a cursor in the spec")
        cursor = entry.get("cursor_field")
        if mode == "incremental" and cursor and cursor != offer.cursor_path:
            raise file.error(
                (*at, "cursor_field"), f"stream '{name}' reads incrementally by {offer.cursor_path} (the spec's cursor), not {cursor}",
                hint="leave cursor_field out or set it to the stream's default_cursor_field; a different cursor is a change to the spec",
            )
        namespace = stream.get("namespace")
        selected.append(ConfiguredStream(name, mode == "incremental", namespace if isinstance(namespace, str) else None))
    return selected


def load_state(path: Path) -> dict[str, dict[str, Any]]:
    """Each stream's saved state, from what Airbyte passes: a list of per-stream (or global) state
    messages, the legacy ``{stream: state}`` object, or STATE lines as a source printed them."""
    file = InputFile(path, "state")
    data = file.data
    if data is None or data == {} or data == []:
        return {}
    if isinstance(data, dict) and "type" not in data:
        return _legacy(file, data, ())
    items = data if isinstance(data, list) else [data]
    states: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(items):
        at: tuple[str | int, ...] = (index,) if isinstance(data, list) else ()
        file.expect(item, dict, at, "a state message")
        if item.get("type") == "STATE" and "state" in item:  # a whole message, as `read` printed it
            item, at = file.expect(item["state"], dict, (*at, "state"), "a state message"), (*at, "state")
        kind = item.get("type", "LEGACY" if "data" in item else "STREAM")
        if kind == "STREAM":
            _stream_state(file, item.get("stream"), (*at, "stream"), states)
        elif kind == "GLOBAL":
            shared = file.expect(item.get("global"), dict, (*at, "global"), "the global state")
            streams = file.expect(shared.get("stream_states", []), list, (*at, "global", "stream_states"), "a list of stream states")
            for number, stream in enumerate(streams):
                _stream_state(file, stream, (*at, "global", "stream_states", number), states)
        elif kind == "LEGACY":
            states.update(_legacy(file, item.get("data"), (*at, "data")))
        else:
            raise file.error((*at, "type"), f"unknown state type {kind!r}", hint="STREAM, GLOBAL or LEGACY")
    return states


def _stream_state(file: InputFile, stream: Any, at: tuple[str | int, ...], states: dict[str, dict[str, Any]]) -> None:
    file.expect(stream, dict, at, "a stream state, {stream_descriptor, stream_state}")
    descriptor = file.expect(stream.get("stream_descriptor"), dict, (*at, "stream_descriptor"), "the stream's descriptor")
    name = file.expect(descriptor.get("name"), str, (*at, "stream_descriptor", "name"), "the stream's name")
    state = stream.get("stream_state") or {}
    states[name] = file.expect(state, dict, (*at, "stream_state"), "the stream's state, an object")


def _legacy(file: InputFile, data: Any, at: tuple[str | int, ...]) -> dict[str, dict[str, Any]]:
    file.expect(data, dict, at, "an object of stream states")
    return {name: file.expect(state or {}, dict, (*at, name), "the stream's state, an object") for name, state in data.items()}


__all__ = ["ConfiguredStream", "load_configured_catalog", "load_state"]
