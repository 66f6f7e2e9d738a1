"""Dotted paths into JSON-like data: ``items``, ``data.rows``, ``results.0.id``, ``o:errorDetails.0.detail``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

_MISSING = object()


@lru_cache(maxsize=1024)
def split_path(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split(".") if part != "") if path else ()


def get_path(data: Any, path: str, default: Any = None) -> Any:
    """Value at ``path`` in ``data``, or ``default`` when any step is missing. ``""`` is the data itself."""
    if type(data) is dict and path and "." not in path:  # the per-record common case: one plain key
        return data.get(path, default)
    current = data
    for part in split_path(path):
        if isinstance(current, dict):
            current = current.get(part, _MISSING)
        elif isinstance(current, list) and (part.isdigit() or (part.startswith("-") and part[1:].isdigit())):
            index = int(part)
            current = current[index] if -len(current) <= index < len(current) else _MISSING
        else:
            return default
        if current is _MISSING:
            return default
    return current


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` in ``data``, creating intermediate dicts."""
    parts = split_path(path)
    if not parts:
        raise ValueError("cannot set the empty path")
    set_parts(data, parts, value)


def set_parts(data: dict[str, Any], parts: Sequence[str], value: Any) -> None:
    """Set ``value`` under the keys ``parts`` (at least one), making (or replacing) mappings on the way."""
    current = data
    for part in parts[:-1]:
        nxt = current.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            current[part] = nxt
        current = nxt
    current[parts[-1]] = value


def delete_path(data: dict[str, Any], path: str) -> None:
    """Remove ``path`` from ``data`` if present."""
    parts = split_path(path)
    current: Any = data
    for part in parts[:-1]:
        current = current.get(part) if isinstance(current, dict) else None
        if current is None:
            return
    if isinstance(current, dict):
        current.pop(parts[-1], None)


__all__ = ["delete_path", "get_path", "set_parts", "set_path", "split_path"]
