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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any

from connector_core.engine.interpolation import Interpolator, parse_datetime
from connector_core.engine.paths import get_path, set_path
from connector_core.errors import ConnectorError
from connector_core.sync.models import Check, Lookup, MappingRule, Rule

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
    lookups: tuple[Lookup, ...] = ()
    each: CompiledMapping | None = None
    items: tuple[CompiledMapping, ...] = ()
    fallback: _Compiled | None = None


def _as_rule(rule: MappingRule | dict[str, Any]) -> Rule:
    if isinstance(rule, str):
        return Rule.model_validate({"from": rule})
    if isinstance(rule, dict):
        return Rule.model_validate(rule)
    return rule


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in {"", "false", "0", "no", "off", "none"}
    return bool(value)


def _empty(value: Any) -> bool:
    return value is MISSING or value is None or value == "" or value == []


class CompiledMapping:
    """A flow's mapping, compiled once: ``apply(record)`` gives the mapped values and the problems.

    ``let`` rules are computed first (each sees the earlier ones as ``let``) and are not written;
    ``checks`` run last, over the record, ``let`` and the ``mapped`` fields.
    """

    def __init__(
        self,
        mapping: Mapping[str, MappingRule | dict[str, Any]],
        interpolator: Interpolator,
        where: str = "mapping",
        *,
        let: Mapping[str, MappingRule | dict[str, Any]] | None = None,
        checks: Sequence[Check] = (),
    ) -> None:
        self.interpolator = interpolator
        self.where = where
        self.rules: list[_Compiled] = [self._compile(field, rule, f"{where}.{field}") for field, rule in mapping.items()]
        self.let: list[_Compiled] = [self._compile(name, rule, f"{where}.let.{name}") for name, rule in (let or {}).items()]
        self.checks = list(checks)
        for index, check in enumerate(self.checks):
            interpolator.compile(check.that, f"{where}.checks[{index}].that")
            interpolator.compile(check.message, f"{where}.checks[{index}].message")

    def _compile(self, field: str, rule: MappingRule | dict[str, Any], where: str) -> _Compiled:
        rule = _as_rule(rule)
        if rule.template is not None:
            self.interpolator.compile(rule.template, f"{where}.template")
        for lookup in rule.lookups:
            if lookup.filter:
                self.interpolator.compile(lookup.filter, f"{where}.lookup.filter")
        each = None
        if rule.each is not None:
            if rule.each.filter:
                self.interpolator.compile(rule.each.filter, f"{where}.each.filter")
            if rule.each.template is not None:
                self.interpolator.compile(rule.each.template, f"{where}.each.template")
            each = CompiledMapping(rule.each.mapping, self.interpolator, f"{where}.each.mapping")
        items = tuple(CompiledMapping(entry, self.interpolator, f"{where}.items[{i}]") for i, entry in enumerate(rule.items or []))
        fallback = self._compile(field, rule.fallback, f"{where}.fallback") if rule.fallback is not None else None
        value_map = {str(k): v for k, v in rule.map.items()} if rule.map is not None else None
        return _Compiled(field, rule, "default" in rule.model_fields_set, value_map, tuple(rule.lookups), each, items, fallback)

    @property
    def lookups(self) -> list[Lookup]:
        found: list[Lookup] = []

        def walk(compiled: _Compiled) -> None:
            found.extend(compiled.lookups)
            for nested in ([compiled.each] if compiled.each else []) + list(compiled.items):
                found.extend(nested.lookups)
            if compiled.fallback is not None:
                walk(compiled.fallback)

        for compiled in self.let + self.rules:
            walk(compiled)
        return found

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
        label = f"record {record_id}" if record_id is not None else "record"
        values: dict[str, Any] = {**(context or {}), "record": record}
        problems: list[str] = []
        if self.let:
            computed: dict[str, Any] = {}
            values["let"] = computed
            for compiled in self.let:
                try:
                    value = self._value(compiled, record, values, lookups, label, "let.", "")
                except _RuleFailed as failure:
                    problems.append(f"{label}: let.{compiled.field}: {failure}")
                    value = None
                except _NestedFailed as nested:
                    problems.extend(nested.problems)
                    value = None
                computed[compiled.field] = None if value is MISSING else value
        mapped, more = self._map(record, values, lookups, label, "", "")
        problems.extend(more)
        if self.checks and not problems:
            checked = {**values, "mapped": mapped}
            for index, check in enumerate(self.checks):
                try:
                    if not _truthy(self.interpolator.render(check.that, checked, f"{self.where}.checks[{index}].that")):
                        message = self.interpolator.render(check.message, checked, f"{self.where}.checks[{index}].message")
                        problems.append(f"{label}: check failed: {message}")
                except ConnectorError as exc:
                    problems.append(f"{label}: checks[{index}] failed: {exc.message}")
        return mapped, problems

    def _map(
        self, record: Mapping[str, Any], values: Mapping[str, Any], lookups: LookupIndex | None, label: str, prefix: str, origin: str
    ) -> tuple[dict[str, Any], list[str]]:
        mapped: dict[str, Any] = {}
        problems: list[str] = []
        for compiled in self.rules:
            try:
                value = self._value(compiled, record, values, lookups, label, prefix, origin)
            except _RuleFailed as failure:
                problems.append(f"{label}: field {prefix}{compiled.field}: {failure}")
                continue
            except _NestedFailed as nested:
                problems.extend(nested.problems)
                continue
            if value is not MISSING:
                set_path(mapped, compiled.field, value)
        return mapped, problems

    def _value(
        self,
        compiled: _Compiled,
        record: Mapping[str, Any],
        values: Mapping[str, Any],
        lookups: LookupIndex | None,
        label: str,
        prefix: str,
        origin_prefix: str,
    ) -> Any:
        rule = compiled.rule
        try:
            value, origin = self._found(compiled, record, values, lookups, label, prefix, origin_prefix)
            miss = None
        except _RuleFailed as failure:
            if compiled.fallback is None:
                raise
            value, origin, miss = MISSING, "", str(failure)
        if compiled.fallback is not None and _empty(value):
            try:
                value = self._value(compiled.fallback, record, values, lookups, label, prefix, origin_prefix)
            except _RuleFailed as failure:
                first = miss or f"{origin} gave {'nothing' if value is MISSING else _shown(value)}"
                raise _RuleFailed(f"{first}; fallback: {failure}") from None
            origin = "fallback"
        if (value is MISSING or value is None) and compiled.has_default:
            value = rule.default
        if rule.type is not None and value is not MISSING and value is not None:
            try:
                value = coerce(value, rule.type)
            except CoercionError as exc:
                raise _RuleFailed(f"{exc} (expected type {rule.type}, {origin})") from None
        if rule.required and _empty(value):
            raise _RuleFailed(f"is required but {origin} gave {'nothing' if value is MISSING else _shown(value)}")
        return value

    def _found(
        self,
        compiled: _Compiled,
        record: Mapping[str, Any],
        values: Mapping[str, Any],
        lookups: LookupIndex | None,
        label: str,
        prefix: str,
        origin_prefix: str,
    ) -> tuple[Any, str]:
        """The rule's value before default, type and required: source, value map, lookups; and where it came from."""
        rule = compiled.rule
        if compiled.each is not None or compiled.items:
            return self._list(compiled, record, values, lookups, label, prefix, origin_prefix)
        if rule.from_ is not None:
            value = get_path(record, rule.from_, MISSING)
            origin = f"from {origin_prefix}{rule.from_}"
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
            elif compiled.has_default and compiled.fallback is None:
                value = rule.default
            else:
                known = ", ".join(repr(k) for k in list(compiled.map)[:10])
                raise _RuleFailed(f"value {_shown(value)} ({origin}) is not in the value map (known: {known}); add it to `map` or set a `default`")
        for lookup in compiled.lookups:
            if value is MISSING or value is None:
                break
            if lookups is None:
                raise _RuleFailed("a lookup is declared but no lookup data is available")
            index = lookups(lookup)
            key = coerce(value, "string") if not isinstance(value, dict | list) else repr(value)
            if key in index:
                value = index[key]
                origin = f"{origin} via {lookup.stream}"
            elif compiled.has_default and compiled.fallback is None:
                value = rule.default
                break
            else:
                which = f"whose {lookup.key} is {_shown(value)}" + (" and that passes the lookup filter" if lookup.filter else "")
                raise _RuleFailed(
                    f"lookup found no record in {lookup.stream} {which} ({origin})"
                    + (f"; {len(index)} records there" if index else "; the stream is empty")
                )
        return value, origin

    def _list(
        self,
        compiled: _Compiled,
        record: Mapping[str, Any],
        values: Mapping[str, Any],
        lookups: LookupIndex | None,
        label: str,
        prefix: str,
        origin_prefix: str,
    ) -> tuple[Any, str]:
        """A list rule: each (one element per source item) or items (fixed elements over the record)."""
        out: list[Any] = []
        problems: list[str] = []
        field = f"{prefix}{compiled.field}"
        if compiled.each is not None:
            each = compiled.rule.each
            assert each is not None
            if each.from_ is not None:
                origin = f"from {origin_prefix}{each.from_}"
                source = get_path(record, each.from_, MISSING)
            else:
                assert each.template is not None
                origin = "from each.template"
                try:
                    source = self.interpolator.render(each.template, values, f"{self.where}.{compiled.field}.each.template")
                except ConnectorError as exc:
                    raise _RuleFailed(f"each.template failed: {exc.message}") from None
            if source is MISSING or source is None:
                return source, origin
            if not isinstance(source, list):
                kind = "mapping" if isinstance(source, dict) else type(source).__name__
                raise _RuleFailed(f"{_shown(source)} ({origin}) is a {kind}, not a list (expected a list for `each`)")
            for index, item in enumerate(source):
                scope = {**values, "item": item, "index": index}
                if each.filter:
                    try:
                        keep = self.interpolator.render(each.filter, scope, f"{self.where}.{compiled.field}.each.filter")
                    except ConnectorError as exc:
                        problems.append(f"{label}: field {field}: each.filter failed on item {index}: {exc.message}")
                        continue
                    if not _truthy(keep):
                        continue
                element_origin = f"{origin_prefix}{each.from_ if each.from_ is not None else 'each.template'}.{index}."
                if not isinstance(item, Mapping):
                    item = {}
                element, more = compiled.each._map(item, scope, lookups, label, f"{field}[{len(out)}].", element_origin)
                problems.extend(more)
                out.append(element)
        else:
            origin = "items"
            for index, entry in enumerate(compiled.items):
                element, more = entry._map(record, {**values, "index": index}, lookups, label, f"{field}[{index}].", origin_prefix)
                problems.extend(more)
                out.append(element)
        if problems:
            raise _NestedFailed(problems)
        return out, origin


def lookup_index(records: Iterable[Mapping[str, Any]], lookup: Lookup, interpolator: Interpolator) -> dict[str, Any]:
    """{key as text: value} over a stream's records for one lookup: its filter, list-valued keys and sort order applied.
    With ``lookup.all``, {key as text: [every matching record's value]}, in read order or by ``sort_by``."""
    if lookup.all:
        return _every_match(records, lookup, interpolator)
    best: dict[str, tuple[Any, Any]] = {}
    for record in records:
        if lookup.filter and not _truthy(interpolator.render(lookup.filter, {"record": record}, f"lookup {lookup.stream}.filter")):
            continue
        found = get_path(record, lookup.key)
        keys = found if isinstance(found, list) else [found]
        rank = get_path(record, lookup.sort_by) if lookup.sort_by else None
        value = get_path(record, lookup.value) if lookup.value else record
        for key in keys:
            if key is None or isinstance(key, dict | list):
                continue
            text = coerce(key, "string")
            if text not in best or (lookup.sort_by and _before(rank, best[text][0], lookup.order)):
                best[text] = (rank, value)
    return {key: value for key, (_, value) in best.items()}


def _every_match(records: Iterable[Mapping[str, Any]], lookup: Lookup, interpolator: Interpolator) -> dict[str, list[Any]]:
    found: dict[str, list[tuple[Any, Any]]] = {}
    for record in records:
        if lookup.filter and not _truthy(interpolator.render(lookup.filter, {"record": record}, f"lookup {lookup.stream}.filter")):
            continue
        keys = get_path(record, lookup.key)
        rank = get_path(record, lookup.sort_by) if lookup.sort_by else None
        value = get_path(record, lookup.value) if lookup.value else record
        for key in dict.fromkeys(k for k in (keys if isinstance(keys, list) else [keys]) if k is not None and not isinstance(k, dict | list)):
            found.setdefault(coerce(key, "string"), []).append((rank, value))
    if lookup.sort_by:
        def compare(a: tuple[Any, Any], b: tuple[Any, Any]) -> int:
            return -1 if _before(a[0], b[0], lookup.order) else 1 if _before(b[0], a[0], lookup.order) else 0

        for matches in found.values():
            matches.sort(key=cmp_to_key(compare))  # stable: equal ranks keep their read order
    return {key: [value for _, value in matches] for key, matches in found.items()}


def _before(rank: Any, current: Any, order: str) -> bool:
    """``rank`` sorts before ``current`` (desc: greater first); missing values sort last."""
    if rank in (None, ""):
        return False
    if current in (None, ""):
        return True
    a, b = _sortable(rank), _sortable(current)
    if type(a) is not type(b):
        a, b = str(rank), str(current)
    return bool(a > b) if order == "desc" else bool(a < b)


def _sortable(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return parse_datetime(value).timestamp()
        except (ValueError, TypeError, OverflowError):
            return value
    return str(value)


class _RuleFailed(Exception):
    pass


class _NestedFailed(Exception):
    """Problems of a list rule's elements, already labelled with record and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems




class CompiledTarget:
    """``match.target``: the id of a record's counterpart on the written side, from a rule (with fallbacks)."""

    def __init__(self, rule: MappingRule, interpolator: Interpolator, where: str = "match.target") -> None:
        self.mapping = CompiledMapping({"target": rule}, interpolator, where)

    def resolve(
        self, record: Mapping[str, Any], *, record_id: Any = None, context: Mapping[str, Any] | None = None, lookups: LookupIndex | None = None
    ) -> tuple[str | None, str | None]:
        """(the counterpart's id, None), or (None, why none was found)."""
        mapped, problems = self.mapping.apply(record, record_id=record_id, context=context, lookups=lookups)
        if problems:
            label = f"record {record_id}: field target: " if record_id is not None else "record: field target: "
            return None, "; ".join(p[len(label):] if p.startswith(label) else p for p in problems)
        value = mapped.get("target")
        if _empty(value) or isinstance(value, dict | list):
            return None, f"match.target gave {'nothing' if value is None or value is MISSING else _shown(value)}"
        return coerce(value, "string"), None


__all__ = ["MISSING", "CoercionError", "CompiledMapping", "CompiledTarget", "LookupIndex", "coerce", "lookup_index"]
