"""Field mappings: rules compiled once per flow, applied to each record.

A rule takes a value (a source path, a template or a constant), passes it through a value map and a
lookup, falls back to a default, coerces it to a type and checks that it is present when required.
Problems never raise: :meth:`CompiledMapping.apply` returns them, each naming the record, the field,
the value and what was expected, so the runner can dead-letter that record and go on with the others.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connector_core.connection import Lookup, MappingRule, Rule
from connector_core.errors import ConnectorError
from connector_core.interpolation import Interpolator, parse_datetime
from connector_core.paths import get_path, set_path

MISSING: Any = object()
_TRUE = {"true", "t", "yes", "y", "1", "on"}
_FALSE = {"false", "f", "no", "n", "0", "off"}
_INTEGER = re.compile(r"^[+-]?\d+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: Called with a rule's lookup; returns {key as text: value}, read once per run by the caller.
LookupIndex = Callable[[Lookup], Mapping[str, Any]]


class CoercionError(ValueError):
    """A value cannot be converted to the declared type."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def coerce(value: Any, kind: str) -> Any:
    """``value`` as ``kind`` (string, integer, number, boolean, date, datetime); raise CoercionError."""
    if value is None:
        return None
    if isinstance(value, dict | list) and kind != "string":
        raise CoercionError(f"{_shown(value)} is a {type(value).__name__}, not a {kind}")
    if kind == "string":
        if isinstance(value, dict | list):
            raise CoercionError(f"{_shown(value)} is a {'mapping' if isinstance(value, dict) else 'list'}, not a string")
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, dt.datetime):
            return _iso_datetime(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)
    if kind == "integer":
        if isinstance(value, bool):
            raise CoercionError(f"{_shown(value)} is a boolean, not an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            text = value.strip().replace(",", "") if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", value.strip()) else value.strip()
            if _INTEGER.match(text):
                return int(text)
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if math.isfinite(number) and number.is_integer():
                return int(number)
        raise CoercionError(f"{_shown(value)} is not an integer")
    if kind == "number":
        if isinstance(value, bool):
            raise CoercionError(f"{_shown(value)} is a boolean, not a number")
        if isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                raise CoercionError(f"{_shown(value)} is not a finite number")
            return value
        if isinstance(value, str):
            text = value.strip()
            if _INTEGER.match(text):
                return int(text)
            try:
                number = float(text)
            except ValueError:
                raise CoercionError(f"{_shown(value)} is not a number") from None
            if not math.isfinite(number):
                raise CoercionError(f"{_shown(value)} is not a finite number")
            return number
        raise CoercionError(f"{_shown(value)} is not a number")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise CoercionError(f"{_shown(value)} is not a boolean (true/false, yes/no, T/F, 1/0)")
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str) and _DATE.match(value.strip()):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                raise CoercionError(f"{_shown(value)} is not a valid date") from None
        try:
            return parse_datetime(value).date().isoformat()
        except (ValueError, TypeError, OverflowError):
            raise CoercionError(f"{_shown(value)} is not a date (YYYY-MM-DD)") from None
    if kind == "datetime":
        try:
            return _iso_datetime(parse_datetime(value))
        except (ValueError, TypeError, OverflowError):
            raise CoercionError(f"{_shown(value)} is not a date-time (ISO 8601, e.g. 2024-05-01T12:00:00Z)") from None
    raise CoercionError(f"unknown type {kind!r}")


def _iso_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class _Compiled:
    field: str
    rule: Rule
    has_default: bool
    map: dict[str, Any] | None


class CompiledMapping:
    """A flow's mapping, compiled once: ``apply(record)`` gives the mapped values and the problems."""

    def __init__(self, mapping: Mapping[str, MappingRule | dict[str, Any]], interpolator: Interpolator, where: str = "mapping") -> None:
        self.interpolator = interpolator
        self.where = where
        self.rules: list[_Compiled] = []
        for field, rule in mapping.items():
            if isinstance(rule, str):
                rule = Rule.model_validate({"from": rule})
            elif isinstance(rule, dict):
                rule = Rule.model_validate(rule)
            if rule.template is not None:
                interpolator.compile(rule.template, f"{where}.{field}.template")
            value_map = {str(k): v for k, v in rule.map.items()} if rule.map is not None else None
            self.rules.append(_Compiled(field, rule, "default" in rule.model_fields_set, value_map))

    @property
    def lookups(self) -> list[Lookup]:
        return [c.rule.lookup for c in self.rules if c.rule.lookup is not None]

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.rules]

    def apply(
        self,
        record: Mapping[str, Any],
        *,
        record_id: Any = None,
        context: Mapping[str, Any] | None = None,
        lookups: LookupIndex | None = None,
    ) -> tuple[dict[str, Any], list[str]]:
        """Map one record. Problems read ``record ID: field F: what is wrong``."""
        mapped: dict[str, Any] = {}
        problems: list[str] = []
        label = f"record {record_id}" if record_id is not None else "record"
        values = {**(context or {}), "record": record}
        for compiled in self.rules:
            try:
                value = self._value(compiled, record, values, lookups)
            except _RuleFailed as failure:
                problems.append(f"{label}: field {compiled.field}: {failure}")
                continue
            if value is not MISSING:
                set_path(mapped, compiled.field, value)
        return mapped, problems

    def _value(self, compiled: _Compiled, record: Mapping[str, Any], values: Mapping[str, Any], lookups: LookupIndex | None) -> Any:
        rule = compiled.rule
        if rule.from_ is not None:
            value = get_path(record, rule.from_, MISSING)
            origin = f"from {rule.from_}"
        elif rule.template is not None:
            try:
                value = self.interpolator.render(rule.template, values, f"{self.where}.{compiled.field}.template")
            except ConnectorError as exc:
                raise _RuleFailed(f"template failed: {exc.message}") from None
            origin = "template"
        else:
            value = rule.const
            origin = "const"
        if compiled.map is not None and value is not MISSING and value is not None:
            key = coerce(value, "string") if not isinstance(value, dict | list) else repr(value)
            if key in compiled.map:
                value = compiled.map[key]
            elif compiled.has_default:
                value = rule.default
            else:
                known = ", ".join(repr(k) for k in list(compiled.map)[:10])
                raise _RuleFailed(f"value {_shown(value)} ({origin}) is not in the value map (known: {known}); add it to `map` or set a `default`")
        if rule.lookup is not None and value is not MISSING and value is not None:
            if lookups is None:
                raise _RuleFailed("a lookup is declared but no lookup data is available")
            index = lookups(rule.lookup)
            key = coerce(value, "string") if not isinstance(value, dict | list) else repr(value)
            if key in index:
                value = index[key]
            elif compiled.has_default:
                value = rule.default
            else:
                raise _RuleFailed(
                    f"lookup found no record in {rule.lookup.stream} whose {rule.lookup.key} is {_shown(value)} ({origin})"
                    + (f"; {len(index)} records there" if index else "; the stream is empty")
                )
        if (value is MISSING or value is None) and compiled.has_default:
            value = rule.default
        if rule.type is not None and value is not MISSING and value is not None:
            try:
                value = coerce(value, rule.type)
            except CoercionError as exc:
                raise _RuleFailed(f"{exc} (expected type {rule.type}, {origin})") from None
        if rule.required and (value is MISSING or value is None or value == ""):
            raise _RuleFailed(f"is required but {origin} gave {'nothing' if value is MISSING else _shown(value)}")
        return value


class _RuleFailed(Exception):
    pass


__all__ = ["MISSING", "CoercionError", "CompiledMapping", "LookupIndex", "coerce"]
