"""A parsed YAML/JSON document that remembers where every value came from.

Errors about a document must name ``file:line:column``; :class:`Document` keeps the parsed data and a
map from each path inside it to its position, so any later check can point at the offending line.
Reading and parsing files is :mod:`~connector_core.engine.documents`' job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    #: Fills in the positions of a document parsed without them (``load_document(locate_later=True)``):
    #: called when :meth:`where` is first asked, which only an error message does.
    find_positions: Callable[[Document], None] | None = field(default=None, repr=False, compare=False)

    def where(self, at: PathKey, *, key: bool = False) -> str:
        """``file:line:col`` of the value (or its key) at ``at``; the nearest enclosing node if missing.
        A node made from a stream template is located in the template, followed by a note naming its use."""
        if self.find_positions is not None:
            find_positions, self.find_positions = self.find_positions, None
            find_positions(self)
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


__all__ = ["Document", "PathKey", "Position", "format_path"]
