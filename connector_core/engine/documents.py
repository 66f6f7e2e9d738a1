"""Reading YAML/JSON files into documents that remember where every value came from.

Errors about a document must name ``file:line:column``; :class:`Document` (in
:mod:`~connector_core.engine.document_model`, re-exported here) keeps the parsed data and the position of
each path inside it, so any later check can point at the offending line. The YAML parser
(:mod:`~connector_core.engine.document_parser`) is imported only when a file must be parsed.
"""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path
from typing import Any

from connector_core.engine.document_model import Document, PathKey, Position, format_path
from connector_core.errors import SpecError


def load_document(path: str | Path, *, text: str | None = None, locate_later: bool = False) -> Document:
    """Parse a YAML or JSON file; syntax errors, duplicate keys and text cut at a comma inside ``{...}``
    raise SpecError with their position.

    ``locate_later``: a JSON file without duplicate keys is read by the json module alone and the
    positions of its values are found when an error first needs one (a config file, which is valid on
    almost every run). The YAML parser is imported only when a document needs it.
    """
    file = Path(path)
    if locate_later and file.suffix.lower() == ".json":
        try:
            text = read_text(file) if text is None else text
        except (OSError, UnicodeDecodeError, SpecError):
            pass  # read again below, to say what is wrong
        else:
            data = _json_without_duplicates(text)
            if data is not _NOT_PLAIN:
                return Document(file, data, find_positions=partial(_find_positions, text))
    from connector_core.engine.document_parser import parse_document

    return parse_document(file, _read_for_parsing(file) if text is None else text)


def _find_positions(text: str, doc: Document) -> None:
    from connector_core.engine.document_parser import locate

    locate(doc, text)


def _read_for_parsing(file: Path) -> str:
    """The file's text; a file that cannot be read raises SpecError saying why."""
    try:
        return read_text(file)
    except FileNotFoundError:
        raise SpecError(f"{file}: file not found", spec_path=str(file)) from None
    except IsADirectoryError:
        raise SpecError(f"{file}: is a directory, not a spec file", spec_path=str(file)) from None
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})", spec_path=str(file)
        ) from None
    except OSError as exc:
        raise SpecError(f"{file}: cannot read the file: {exc.strerror or exc}", spec_path=str(file)) from None


_NOT_PLAIN = object()


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise _DuplicateKey
    return mapping


def _json_without_duplicates(text: str) -> Any:
    """The JSON value of ``text``, or ``_NOT_PLAIN`` when it has a problem the parser must locate."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError, _DuplicateKey):
        return _NOT_PLAIN


#: The largest spec, connection or config file read (a generous bound: the shipped NetSuite spec is
#: 30 KB). A bigger file, or a device such as /dev/zero, is refused instead of filling memory.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


def read_text(file: Path) -> str:
    """The file as text, reading at most :data:`MAX_DOCUMENT_BYTES` (a pipe works; /dev/zero is refused)."""
    with file.open("rb") as handle:
        data = handle.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise SpecError(
            f"{file}: larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB; not a spec, connection or config file",
            spec_path=str(file),
        )
    return data.decode("utf-8")


_NAME_LINE = re.compile(r'^name:\s*["\']?([a-z][a-z0-9_\-]*)["\']?\s*(?:#.*)?$', re.MULTILINE)


def read_spec_name(path: Path) -> str:
    """The ``name`` of a spec file, read without validating the rest (a top-level YAML line is enough)."""
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            match = _NAME_LINE.search(path.read_text(encoding="utf-8"))
        except OSError:
            match = None
        if match:
            return match.group(1)
    doc = load_document(path)
    name = doc.data.get("name") if isinstance(doc.data, dict) else None
    if not isinstance(name, str):
        raise SpecError(f"{doc.where(())}: spec has no 'name'")
    return name


__all__ = [
    "MAX_DOCUMENT_BYTES",
    "Document",
    "PathKey",
    "Position",
    "format_path",
    "load_document",
    "read_spec_name",
    "read_text",
]
