"""Response bodies into records: JSON, JSON lines, CSV, XML and zip archives, gzip or not.

Two ways in. :func:`decode_page` reads a page that is already in memory (a stream's page, whose body
the paginators may look into). :func:`stream_records` reads a file-like body chunk by chunk and yields
its records one at a time, so a download of any size never sits in memory whole (export jobs): JSON
through ijson's event parser, XML through defusedxml's ``iterparse`` (no entity expansion, no external
entities), CSV and JSON lines line by line, gzip decompressed on the fly. A zip archive cannot be read
before its end (its directory is there), so it is spooled to a temporary file first, never to memory.
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol
from xml.etree.ElementTree import Element

import orjson

from connector_core.engine.paths import split_path
from connector_core.engine.spec import Decoder
from connector_core.errors import ConnectorError

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 * 1024

#: Content types whose format is unambiguous (``+json`` and ``+xml`` suffixes are recognised too).
_BY_CONTENT_TYPE: dict[str, str] = {
    "application/json": "json",
    "text/json": "json",
    "application/x-ndjson": "jsonl",
    "application/ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/jsonlines": "jsonl",
    "text/csv": "csv",
    "application/csv": "csv",
    "text/xml": "xml",
    "application/xml": "xml",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
}
_BY_EXTENSION: dict[str, str] = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xml": "xml", ".zip": "zip"}


def as_decoder(value: Decoder | None) -> Decoder:
    """The decoder a stream declares, or the default (JSON)."""
    return value if value is not None else Decoder()


def decode_page(content: bytes, decoder: Decoder, *, content_type: str | None, name: str, records_path: str) -> Any:
    """Decode a whole body held in memory into what the paginators see as the body; the records are at
    ``records_path`` in it (rows of CSV, JSON lines and zip files are put there). ``name`` (a URL or file
    name) lets ``auto`` go by the extension."""
    kind = resolve_format(decoder.format, content_type, name)
    with _reading(name, kind):
        stream = _uncompressed(io.BufferedReader(io.BytesIO(content)), decoder)
        if kind == "json":
            return orjson.loads(stream.read()) if content else None
        if kind == "xml":
            return _xml_document(stream, records_path)
        body: Any = list(_records(stream, kind, decoder, records_path, name))
    for key in reversed(split_path(records_path)):
        body = {key: body}
    return body


class Source(Protocol):
    """What a streamed body is read from: urllib3's response, a zip member, any binary file."""

    def read(self, size: int, /) -> bytes: ...


def stream_records(
    raw: Source, decoder: Decoder, *, content_type: str | None, name: str, records_path: str, spread: bool = False
) -> Iterator[Any]:
    """Yield the records of a body read from ``raw`` as it arrives, at ``records_path`` for JSON and XML;
    with ``spread``, a JSON object there gives its values (the path went on with a wildcard)."""
    stream = _uncompressed(raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(_Readable(raw), _CHUNK), decoder)
    yield from _records(stream, resolve_format(decoder.format, content_type, name), decoder, records_path, name, spread)


def resolve_format(declared: str, content_type: str | None, name: str) -> str:
    """The format to read: the declared one, or for ``auto`` the Content-Type's, else the name's extension."""
    if declared != "auto":
        return declared
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _BY_CONTENT_TYPE:
        return _BY_CONTENT_TYPE[media]
    if media.endswith("+json"):
        return "json"
    if media.endswith("+xml"):
        return "xml"
    by_name = format_of_name(name)
    if by_name is not None:
        return by_name
    raise ConnectorError(
        f"cannot tell the format of {name or 'the response'} (Content-Type: {content_type or 'none'})",
        hint="declare it: decoder: json, jsonl, csv, xml or zip",
    )


def format_of_name(name: str) -> str | None:
    """The format a file name (or URL) suggests by its extension, ``.gz`` aside; None when it suggests none."""
    path = name.split("?", 1)[0].lower()
    if path.endswith(".gz"):
        path = path[:-3]
    for extension, kind in _BY_EXTENSION.items():
        if path.endswith(extension):
            return kind
    return None


# -- compression ---------------------------------------------------------------------------------------


class _Readable(io.RawIOBase):
    """Any object with ``read(n)`` (urllib3's response, a zip member) as a raw stream to buffer."""

    def __init__(self, source: Source) -> None:
        self.source = source
        # read1 returns what has arrived instead of blocking until the buffer is full (urllib3's read(n)
        # would hold the first records back until n bytes came)
        self.read_some = getattr(source, "read1", source.read)
        self.pending = b""  # what a source that gave more than asked (a decompressing one may) has left

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.pending or self.read_some(len(buffer))
        if not data:
            return 0
        taken, self.pending = data[: len(buffer)], data[len(buffer) :]
        buffer[: len(taken)] = taken
        return len(taken)


def _uncompressed(stream: io.BufferedReader, decoder: Decoder) -> io.BufferedReader:
    """The stream, gunzipped on the fly when declared gzip, or (``auto``) when it starts like gzip."""
    if decoder.compression == "none":
        return stream
    if decoder.compression == "gzip" or stream.peek(2)[:2] == _GZIP_MAGIC:
        return io.BufferedReader(gzip.GzipFile(fileobj=stream, mode="rb"), _CHUNK)
    return stream


# -- formats -------------------------------------------------------------------------------------------


@contextmanager
def _reading(name: str, kind: str) -> Iterator[None]:
    """A body that does not decode as declared becomes one located error, not a traceback."""
    try:
        yield
    except (ConnectionError, TimeoutError):
        raise  # the network, not the body: the caller may download again
    except (ValueError, csv.Error, EOFError, OSError, zipfile.BadZipFile, _XMLError) as exc:
        raise ConnectorError(
            f"cannot read {name or 'the response'} as {kind}: {type(exc).__name__}: {str(exc)[:200]}",
            hint="check the stream's decoder (format, compression, encoding) against what the API sends",
        ) from None


def _records(stream: io.BufferedReader, kind: str, decoder: Decoder, records_path: str, name: str, spread: bool = False) -> Iterator[Any]:
    with _reading(name, kind):
        if kind == "json":
            yield from _json_records(stream, records_path, spread)
        elif kind == "jsonl":
            yield from _jsonl_records(stream)
        elif kind == "csv":
            yield from _csv_records(stream, decoder)
        elif kind == "xml":
            yield from _xml_records(stream, records_path)
        else:
            yield from _zip_records(stream, decoder, records_path, spread)


def _json_records(stream: io.BufferedReader, records_path: str, spread: bool = False) -> Iterator[Any]:
    """The items of the list at ``records_path`` one by one; an object there is one record, or with
    ``spread`` (a wildcard follows the path) each of its values is one."""
    import ijson

    prefix = ".".join(split_path(records_path))
    events = ijson.parse(stream, buf_size=16 * 1024, use_float=True)  # its events come a buffer at a time: keep that small
    for path, event, value in events:
        if path != prefix or event not in ("start_array", "start_map", "string", "number", "boolean", "null"):
            continue
        if event == "start_array":
            yield from _array_items(events, prefix)
        elif event == "start_map" and spread:
            yield from _map_values(events, prefix)
        elif event == "start_map":
            yield _build(events, "start_map", None)
        elif value is not None:
            yield value
        return


def _map_values(events: Iterator[tuple[str, str, Any]], prefix: str) -> Iterator[Any]:
    """Build each value of the object just opened at ``prefix``, one at a time."""
    for path, event, _ in events:
        if path == prefix and event == "end_map":
            return
        if path == prefix and event == "map_key":
            _, following, value = next(events)
            yield _build(events, following, value)


def _array_items(events: Iterator[tuple[str, str, Any]], prefix: str) -> Iterator[Any]:
    """Build each item of the array just opened at ``prefix`` from the event stream, one at a time."""
    item_prefix = f"{prefix}.item" if prefix else "item"
    for path, event, value in events:
        if path == prefix and event == "end_array":
            return
        if path == item_prefix:
            yield _build(events, event, value)


def _build(events: Iterator[tuple[str, str, Any]], event: str, value: Any) -> Any:
    """The value that starts with ``event``, built from the events that follow it."""
    if event not in ("start_map", "start_array"):
        return value
    import ijson

    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    for _, following, data in events:
        builder.event(following, data)
        if following in ("start_map", "start_array"):
            depth += 1
        elif following in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                break
    return builder.value


def _jsonl_records(stream: io.BufferedReader) -> Iterator[Any]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"line {number} is not JSON ({exc})") from None


def _csv_records(stream: io.BufferedReader, decoder: Decoder) -> Iterator[dict[str, Any]]:
    text = io.TextIOWrapper(stream, encoding=decoder.encoding, newline="")
    rows = csv.DictReader(text, delimiter=decoder.delimiter, restkey="_extra")  # fields past the header's, as a list
    nulls = set(decoder.nulls)
    if not nulls:
        yield from rows
        return
    for row in rows:
        yield {key: None if isinstance(value, str) and value in nulls else value for key, value in row.items()}


class _XMLError(Exception):
    """A body that is not well-formed XML, or one that defusedxml refuses (entities, a DTD)."""


def _iterparse(stream: IO[bytes]) -> Iterator[tuple[str, Element]]:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    try:
        yield from iterparse(stream, events=("start", "end"), forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise _XMLError(str(exc) or type(exc).__name__) from None


def _xml_records(stream: IO[bytes], records_path: str) -> Iterator[Any]:
    """The elements at ``records_path`` (which starts at the root element), each freed once read."""
    wanted = list(split_path(records_path))
    if not wanted:
        yield _xml_document(stream, records_path)
        return
    trail: list[str] = []
    elements: list[Element] = []
    for event, element in _iterparse(stream):
        if event == "start":
            trail.append(_local(element.tag))
            elements.append(element)
            if len(trail) == 1:
                _check_root(trail[0], records_path)
            continue
        if trail == wanted:
            yield _element_value(element)
            if len(elements) > 1:
                elements[-2].remove(element)  # read: free it, so memory stays flat over a long file
        trail.pop()
        elements.pop()


def _xml_document(stream: IO[bytes], records_path: str) -> Any:
    """The whole document as ``{root: value}``, as a JSON body would be, for records paths from the root."""
    root: Element | None = None
    for event, element in _iterparse(stream):
        if event == "start" and root is None:
            root = element
            _check_root(_local(root.tag), records_path)
    if root is None:
        return None
    return {_local(root.tag): _element_value(root)}


def _check_root(root: str, records_path: str) -> None:
    """An XML records path starts at the root element; one that names another would read nothing, silently."""
    parts = split_path(records_path)
    if parts and parts[0] not in (root, "*"):
        raise ConnectorError(
            f"the XML records path '{records_path}' starts at '{parts[0]}', but the document's root element is '{root}'",
            hint=f"an XML records path starts at the root element: write '{root}.{records_path}'",
        )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # '{namespace}name' -> 'name'


def _element_value(element: Element) -> Any:
    """An element as JSON-like data: text alone stays text; attributes become '@name', the text beside
    them or beside children '#text', and children repeated under one name a list."""
    value: dict[str, Any] = {f"@{_local(k)}": v for k, v in element.attrib.items()}
    for child in element:
        key = _local(child.tag)
        item = _element_value(child)
        if key in value:
            existing = value[key]
            if isinstance(existing, list):
                existing.append(item)
            else:
                value[key] = [existing, item]
        else:
            value[key] = item
    text = (element.text or "").strip()
    if not value:
        return text or None
    if text:
        value["#text"] = text
    return value


def _zip_records(stream: io.BufferedReader, decoder: Decoder, records_path: str, spread: bool) -> Iterator[Any]:
    with tempfile.TemporaryFile() as spool:
        shutil.copyfileobj(stream, spool, _CHUNK)
        spool.seek(0)
        with zipfile.ZipFile(spool) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                kind = decoder.members if decoder.members != "auto" else format_of_name(info.filename)
                if kind is None or kind == "zip":
                    raise ConnectorError(
                        f"cannot tell the format of '{info.filename}' in the zip archive",
                        hint="declare the format of its files: decoder: {format: zip, members: csv} (or json, jsonl, xml)",
                    )
                with archive.open(info) as member:
                    inner = _uncompressed(io.BufferedReader(_Readable(member), _CHUNK), decoder)
                    yield from _records(inner, kind, decoder, records_path, info.filename, spread)


__all__ = ["as_decoder", "decode_page", "format_of_name", "resolve_format", "stream_records"]
