"""The Singer catalog: what ``--discover`` prints, and which streams and fields ``--catalog`` selects.

Selection follows the Singer rules Meltano writes: a stream's root metadata ``selected`` (else the
legacy ``schema.selected``, else ``selected-by-default``), and a field left out when its metadata says
``selected: false`` unless its ``inclusion`` is ``automatic`` (primary key and cursor fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector_core.cli.interop.inputs import InputFile
from connector_core.cli.interop.offers import StreamOffer, path_steps
from connector_core.engine.validation import suggest

Where = tuple[str | int, ...]


@dataclass(frozen=True)
class SelectedStream:
    name: str
    incremental: bool
    schema: dict[str, Any]
    key_properties: list[str]
    cursor: str | None
    left_out: frozenset[str] = frozenset()  # top-level fields deselected in the catalog


def catalog(offers: dict[str, StreamOffer]) -> dict[str, Any]:
    return {"streams": [_entry(offer) for offer in offers.values()]}


def _automatic(offer: StreamOffer) -> set[str]:
    """The top-level fields a record always keeps: its primary key's and its cursor's."""
    return {path_steps(path)[0] for path in (*offer.primary_key, *([offer.cursor] if offer.cursor else [])) if path}


def _entry(offer: StreamOffer) -> dict[str, Any]:
    keys = list(offer.primary_key)
    automatic = _automatic(offer)
    root: dict[str, Any] = {"inclusion": "available", "selected-by-default": True, "table-key-properties": keys}
    if offer.cursor:
        root["valid-replication-keys"] = [offer.cursor]
    metadata: list[dict[str, Any]] = [{"breadcrumb": [], "metadata": root}]
    for field in offer.json_schema.get("properties") or {}:
        inclusion = "automatic" if field in automatic else "available"
        metadata.append({"breadcrumb": ["properties", field], "metadata": {"inclusion": inclusion}})
    entry: dict[str, Any] = {
        "tap_stream_id": offer.name,
        "stream": offer.name,
        "schema": offer.json_schema,
        "key_properties": keys,
        "replication_method": "INCREMENTAL" if offer.cursor else "FULL_TABLE",
        "metadata": metadata,
    }
    if offer.cursor:
        entry["replication_key"] = offer.cursor
    return entry


def every_stream(offers: dict[str, StreamOffer]) -> list[SelectedStream]:
    """Without a catalog: every stream, incremental where the spec gives it a cursor."""
    return [SelectedStream(o.name, bool(o.cursor), o.json_schema, list(o.primary_key), o.cursor) for o in offers.values()]


def load_catalog(path: Path, offers: dict[str, StreamOffer], connector: str) -> list[SelectedStream]:
    """The selected streams of a Singer catalog (``--catalog`` or ``--properties``), in its order."""
    file = InputFile(path, "catalog")
    data = file.expect(file.data, dict, (), 'a Singer catalog, {"streams": [...]}')
    entries = file.expect(data.get("streams"), list, ("streams",), "a list of streams")
    selected = []
    for index, entry in enumerate(entries):
        at = ("streams", index)
        file.expect(entry, dict, at, "a catalog entry")
        name_at = (*at, "tap_stream_id") if "tap_stream_id" in entry else (*at, "stream")
        name = file.expect(entry.get(name_at[-1]), str, name_at, "the stream's tap_stream_id")
        metadata, root_at = _metadata(file, entry, at)
        root = metadata.get((), {})
        schema = file.expect(entry.get("schema", {}), dict, (*at, "schema"), "the stream's JSON Schema")
        chosen = root.get("selected", schema.get("selected", root.get("selected-by-default", False)))
        if chosen is not True:
            continue
        offer = offers.get(name)
        if offer is None:
            guess = suggest(name, list(offers))
            raise file.error(name_at, f"connector '{connector}' has no stream '{name}'", hint=f"did you mean '{guess}'?" if guess else f"streams: {', '.join(offers) or '(none)'}")
        selected.append(_selected(file, entry, at, offer, (root, root_at), metadata, schema or offer.json_schema))
    return selected


def _metadata(file: InputFile, entry: dict[str, Any], at: Where) -> tuple[dict[tuple[Any, ...], dict[str, Any]], Where]:
    """The entry's metadata by breadcrumb, and where its root metadata is in the file."""
    items = file.expect(entry.get("metadata", []), list, (*at, "metadata"), "a list of metadata entries")
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    root_at: Where = at
    for number, item in enumerate(items):
        file.expect(item, dict, (*at, "metadata", number), "a metadata entry, {breadcrumb, metadata}")
        breadcrumb = file.expect(item.get("breadcrumb", []), list, (*at, "metadata", number, "breadcrumb"), "a breadcrumb list")
        found[tuple(breadcrumb)] = file.expect(item.get("metadata", {}), dict, (*at, "metadata", number, "metadata"), "an object")
        if not breadcrumb:
            root_at = (*at, "metadata", number, "metadata")
    return found, root_at


def _source(root: dict[str, Any], root_at: Where, entry: dict[str, Any], at: Where, metadata_key: str, entry_key: str) -> tuple[Any, Where]:
    """A setting Singer allows in the root metadata (which wins) or on the entry, and where it was found."""
    if root.get(metadata_key):
        return root[metadata_key], (*root_at, metadata_key)
    return entry.get(entry_key), (*at, entry_key)


def _selected(
    file: InputFile, entry: dict[str, Any], at: tuple[str | int, ...], offer: StreamOffer,
    root_of: tuple[dict[str, Any], Where], metadata: dict[tuple[Any, ...], dict[str, Any]], schema: dict[str, Any],
) -> SelectedStream:
    root, root_at = root_of
    method, method_at = _source(root, root_at, entry, at, "replication-method", "replication_method")
    method = method or ("INCREMENTAL" if offer.cursor else "FULL_TABLE")
    if method not in ("INCREMENTAL", "FULL_TABLE"):
        raise file.error(method_at, f"replication method {method!r} is not one a spec offers", hint="INCREMENTAL (streams with a cursor) or FULL_TABLE")
    if method == "INCREMENTAL" and not offer.cursor:
        raise file.error(method_at, f"stream '{offer.name}' has no cursor, so it cannot be read {method}", hint="choose FULL_TABLE, or give the stream a cursor in the spec")
    key, key_at = _source(root, root_at, entry, at, "replication-key", "replication_key")
    if method == "INCREMENTAL" and key and key != offer.cursor:
        raise file.error(
            key_at, f"stream '{offer.name}' reads incrementally by '{offer.cursor}' (the spec's cursor), not {key!r}",
            hint="leave replication_key out or set it to the stream's; a different cursor is a change to the spec",
        )
    automatic = _automatic(offer)
    left_out = frozenset(
        crumb[1] for crumb, md in metadata.items()
        if len(crumb) == 2 and crumb[0] == "properties" and crumb[1] not in automatic and md.get("inclusion") != "automatic"
        and (md.get("selected") is False or md.get("inclusion") == "unsupported")
    )
    if left_out and isinstance(schema.get("properties"), dict):
        schema = {**schema, "properties": {k: v for k, v in schema["properties"].items() if k not in left_out}}
    return SelectedStream(offer.name, method == "INCREMENTAL", schema, list(offer.primary_key), offer.cursor, left_out)


__all__ = ["SelectedStream", "catalog", "every_stream", "load_catalog"]
