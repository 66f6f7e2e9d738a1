"""Reading YAML/JSON documents while remembering where every value came from.

Errors about a document must name ``file:line:column``; :class:`Document` keeps the parsed data and a
map from each path inside it to its position, so any later check can point at the offending line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connector_core.errors import SpecError

PathKey = tuple[str | int, ...]

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader


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

    def where(self, at: PathKey, *, key: bool = False) -> str:
        """``file:line:col`` of the value (or its key) at ``at``; the nearest enclosing node if missing."""
        table = self.key_positions if key else self.positions
        probe = tuple(at)
        while probe:
            pos = table.get(probe) or self.positions.get(probe)
            if pos:
                return f"{self.path}:{pos.line}:{pos.column}"
            probe = probe[:-1]
        pos = self.positions.get(())
        return f"{self.path}:{pos.line}:{pos.column}" if pos else f"{self.path}:1:1"


def format_path(at: PathKey) -> str:
    """``streams.customers.request.query[0]`` style path, or ``(document root)``."""
    text = ""
    for part in at:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(document root)"


def _walk(node: yaml.Node, at: PathKey, doc: Document, problems: list[str]) -> None:
    doc.positions[at] = Position(node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            child = (*at, key)
            if key in seen:
                problems.append(
                    f"{doc.path}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}: "
                    f"{format_path(child)}: key '{key}' appears twice (first on line {seen[key]})"
                )
            seen[key] = key_node.start_mark.line + 1
            doc.key_positions[child] = Position(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, doc, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*at, index), doc, problems)


def load_document(path: str | Path, *, text: str | None = None) -> Document:
    """Parse a YAML or JSON file; syntax errors and duplicate keys raise SpecError with their position."""
    file = Path(path)
    if text is None:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError(f"{file}: file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"{file}: cannot read the file: {exc}") from None
    is_json = file.suffix.lower() == ".json"
    try:
        if is_json:
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=_Loader)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{file}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}", spec_path=str(file)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        raise SpecError(f"{where}: invalid YAML: {exc.problem or exc}", spec_path=str(file)) from None
    doc = Document(file, data)
    problems: list[str] = []
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        root = None  # valid JSON that YAML cannot compose (rare): positions fall back to line 1
    if root is not None:
        _walk(root, (), doc, problems)
    if problems:
        raise SpecError(f"{file} has duplicate keys", problems=problems, spec_path=str(file))
    return doc


__all__ = ["Document", "PathKey", "Position", "format_path", "load_document"]
