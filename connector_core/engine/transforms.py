"""The record transforms beyond ``set``, ``drop`` and ``rename``: remove by pattern or condition, key
case, flatten and unflatten, type casts. Each is compiled once per stream read into a function that
changes one record in place and returns it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from connector_core.engine.paths import get_path, set_parts, set_path, split_path
from connector_core.errors import ConnectorError

if TYPE_CHECKING:
    from connector_core.engine.session import ConnectorSession

Step = Callable[[dict[str, Any]], dict[str, Any]]


def build_transform(connector: ConnectorSession, where: str, transform: Any, partition: Any) -> Step:
    """The step for one declarative transform (not set, drop, rename or plugin)."""
    if transform.remove is not None:
        return _remove(connector, where, transform.remove, partition)
    if transform.keys is not None:
        return _keys(transform.keys)
    if transform.flatten is not None:
        return _flatten(transform.flatten)
    if transform.unflatten is not None:
        return _unflatten(transform.unflatten)
    if transform.cast is not None:
        return _cast(connector.name, where, transform.cast)
    raise AssertionError(f"{where}: a transform with no kind passed validation")  # pragma: no cover


# -- remove ----------------------------------------------------------------------------------------


def matching_fields(record: dict[str, Any], pattern: str) -> list[tuple[str, ...]]:
    """The paths in ``record`` a pattern names: one glob per step (``meta.*``, ``*_url``)."""
    found: list[tuple[str, ...]] = []

    def walk(node: Any, steps: tuple[str, ...], at: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        for key in list(node):
            if fnmatchcase(str(key), steps[0]):
                if len(steps) == 1:
                    found.append((*at, key))
                else:
                    walk(node[key], steps[1:], (*at, key))

    steps = split_path(pattern)
    if steps:
        walk(record, steps, ())
    return found


def _remove(connector: ConnectorSession, where: str, spec: Any, partition: Any) -> Step:
    patterns = spec if isinstance(spec, list) else spec.fields
    condition = None if isinstance(spec, list) else spec.when

    def remove(record: dict[str, Any]) -> dict[str, Any]:
        for pattern in patterns:
            for path in matching_fields(record, pattern):
                parent = get_path(record, ".".join(path[:-1])) if len(path) > 1 else record
                if not isinstance(parent, dict) or path[-1] not in parent:
                    continue
                if condition is not None:
                    context = {"record": record, "field": ".".join(path), "value": parent[path[-1]], "partition": partition}
                    if not connector.render_visible(condition, context, f"{where}.remove.when"):
                        continue
                del parent[path[-1]]
        return record

    return remove


# -- key case --------------------------------------------------------------------------------------

_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")


def snake_case(key: str) -> str:
    """``createdAt`` → ``created_at``, ``HTTPStatus`` → ``http_status``, ``Zip Code`` → ``zip_code``."""
    spaced = _WORD_BREAK.sub("_", key)
    return _NON_WORD.sub("_", spaced).strip("_").lower() or key


def _keys(case: str) -> Step:
    change: Callable[[str], str] = snake_case if case == "snake" else str.lower

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {change(str(k)): convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        return value

    def keys(record: dict[str, Any]) -> dict[str, Any]:
        converted: dict[str, Any] = convert(record)
        return converted

    return keys


# -- flatten and unflatten -----------------------------------------------------------------------------


def _flatten(spec: Any) -> Step:
    separator, path = spec.separator, spec.path

    def spread(prefix: str, value: Any, into: dict[str, Any]) -> None:
        if isinstance(value, dict) and value:
            for key, child in value.items():
                spread(f"{prefix}{separator}{key}" if prefix else str(key), child, into)
        else:
            into[prefix] = value

    def flatten(record: dict[str, Any]) -> dict[str, Any]:
        if path is None:
            flat: dict[str, Any] = {}
            spread("", record, flat)
            return flat
        nested = get_path(record, path)
        if not isinstance(nested, dict):
            return record
        flat = {}
        spread("", nested, flat)
        set_path(record, path, flat)
        return record

    return flatten


def _unflatten(spec: Any) -> Step:
    separator = spec.separator

    def unflatten(record: dict[str, Any]) -> dict[str, Any]:
        nested: dict[str, Any] = {}
        for key, value in record.items():
            set_parts(nested, [p for p in str(key).split(separator) if p] or [str(key)], value)
        return nested

    return unflatten


# -- casts -----------------------------------------------------------------------------------------

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off", ""}


def cast_value(value: Any, kind: str) -> Any:
    """``value`` as ``kind``; None stays None; ValueError when it cannot be."""
    if value is None:
        return None
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            raise ValueError("a mapping or list is not turned into text")
        return str(value)
    if kind == "integer":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError("has a fraction")
            return int(value)
        if isinstance(value, int):
            return value
        text = str(value).strip()
        try:
            return int(text)
        except ValueError:
            number = float(text)  # '12.0' is 12; '12.5' has a fraction
            if not number.is_integer():
                raise
            return int(number)
    if kind == "number":
        if isinstance(value, bool | dict | list):
            raise ValueError("not a number")
        if isinstance(value, int):
            return value
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise ValueError("not a finite number")
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("not a boolean word")
    raise ValueError(f"unknown type {kind}")  # pragma: no cover - the model allows only the above


def _cast(connector: str, where: str, casts: dict[str, str]) -> Step:
    def cast(record: dict[str, Any]) -> dict[str, Any]:
        for path, kind in casts.items():
            value = get_path(record, path, _ABSENT)
            if value is _ABSENT:
                continue
            try:
                converted = cast_value(value, kind)
            except CAST_FAILURES:
                raise ConnectorError(
                    f"connector '{connector}': {where}.cast: field '{path}' {not_castable(value, kind)}",
                    hint="fix the cast's type, or drop or fix the value with a transform before it",
                ) from None
            set_path(record, path, converted)
        return record

    return cast


#: What :func:`cast_value` raises for a value it cannot convert.
CAST_FAILURES = (TypeError, ValueError, OverflowError)


def not_castable(value: Any, kind: str) -> str:
    """How a cast error describes a value it could not convert: "holds '12x', which is not a number"."""
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return f"holds {shown}, which is not {_ARTICLE[kind]}"


_ABSENT: Any = object()
_ARTICLE = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean"}


__all__ = ["CAST_FAILURES", "build_transform", "cast_value", "matching_fields", "not_castable", "snake_case"]
