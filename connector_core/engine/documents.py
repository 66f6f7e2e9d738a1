"""YAML/JSON documents that remember where every value came from.

Errors about a document must name ``file:line:column``; :class:`Document` keeps the parsed data and a
map from each path inside it to its position, so any later check can point at the offending line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector_core.errors import SpecError

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass
class Document:
    """Parsed data plus the position of every mapping key and value in the source."""

    path: Path
    data: Any
    positions: dict[PathKey, Position] = field(default_factory=dict)
    key_positions: dict[PathKey, Position] = field(default_factory=dict)
    #: Notes on nodes made when the spec loads (a stream made from a stream template): where they come from.
    origins: dict[PathKey, str] = field(default_factory=dict)
    #: The source of a document parsed without positions (``load_document(locate_later=True)``): they are
    #: read from it when :meth:`where` is first asked, which only an error message does.
    unlocated_text: str | None = field(default=None, repr=False)

    def where(self, at: PathKey, *, key: bool = False) -> str:
        """``file:line:col`` of the value (or its key) at ``at``; the nearest enclosing node if missing.
        A node made from a stream template is located in the template, followed by a note naming its use."""
        if self.unlocated_text is not None:
            from connector_core.engine.document_parser import locate

            locate(self, self.unlocated_text)
            self.unlocated_text = None
        table = self.key_positions if key else self.positions
        probe = tuple(at)
        while probe:
            pos = table.get(probe) or self.positions.get(probe)
            if pos:
                return f"{self.path}:{pos.line}:{pos.column}" + self._origin(tuple(at))
            probe = probe[:-1]
        pos = self.positions.get(())
        return f"{self.path}:{pos.line}:{pos.column}" if pos else f"{self.path}:1:1"

    def _origin(self, at: PathKey) -> str:
        if not self.origins:
            return ""
        for cut in range(len(at), 0, -1):
            note = self.origins.get(at[:cut])
            if note:
                return f" ({note})"
        return ""


def format_path(at: PathKey) -> str:
    """``streams.customers.request.query[0]`` style path, or ``(document root)``."""
    text = ""
    for part in at:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(document root)"


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
            pass  # the parser reads it again and says what is wrong
        else:
            data = _json_without_duplicates(text)
            if data is not _NOT_PLAIN:
                return Document(file, data, unlocated_text=text)
    from connector_core.engine.document_parser import parse_document

    return parse_document(file, text=text)


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
