"""Running a parsed SOQL query against the org: field resolution, filtering, ordering, projection.

Semantics kept from SOQL: string comparisons and ``LIKE`` ignore case; a comparison with a null field
is false (``= null`` / ``!= null`` test for it); ``ORDER BY`` puts nulls first ascending and last
descending unless told; a date or datetime field must be compared with an unquoted date or datetime
literal (a quoted one is ``INVALID_FIELD``, as the API answers); ids compare in either length.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cmp_to_key
from typing import Any

from .errors import SalesforceError
from .ids import canonical_id
from .schema import NUMERIC_TYPES, Field, SObjectType
from .soql_parser import BoolOp, Comparison, Condition, DateLiteral, Not, Path, Query, pointer_message
from .store import OrgStore, Record
from .values import to_json

_FIELD_HINT = ("If you are attempting to use a custom field, be sure to append the '__c' after the custom "
               "field name. Please reference your WSDL or the describe call for the appropriate names.")
_TYPE_HINT = ("If you are attempting to use a custom object, be sure to append the '__c' after the entity "
              "name. Please reference your WSDL or the describe call for the appropriate names.")


@dataclass(frozen=True)
class ResolvedPath:
    """A path resolved against the schema: the reference fields walked, then the final field."""

    path: Path
    hops: tuple[Field, ...]
    field: Field
    names: tuple[str, ...]  # canonical names: relationship names, then the field name


@dataclass
class QueryResult:
    total_size: int
    records: list[dict[str, Any]]
    rows: list[Record]
    resolved: list[ResolvedPath]
    sobject: SObjectType


def _error(query: str, code: str, line: int, column: int, detail: str) -> SalesforceError:
    return SalesforceError(400, code, pointer_message(query, line, column, detail))


class QueryRunner:
    """Runs queries for one request (the caller holds the store lock)."""

    def __init__(self, store: OrgStore, version: str, today: Callable[[], datetime]) -> None:
        self.store = store
        self.version = version
        self.today = today

    def run(self, text: str, parsed: Query, *, include_deleted: bool) -> QueryResult:
        sobject = self.store.find_type(parsed.sobject)
        if sobject is None:
            raise _error(text, "INVALID_TYPE", parsed.sobject_line, parsed.sobject_column,
                         f"sObject type '{parsed.sobject}' is not supported. {_TYPE_HINT}")
        selected = [self._resolve(text, sobject, p) for p in parsed.fields]
        order = [(self._resolve(text, sobject, o.path), o) for o in parsed.order]
        predicate = self._compile(text, sobject, parsed.where) if parsed.where else None
        rows = [r for r in self.store.rows(sobject, include_deleted=include_deleted)
                if predicate is None or predicate(r)]
        if order:
            rows.sort(key=cmp_to_key(lambda a, b: self._compare_rows(a, b, order)))
        total = len(rows)
        if parsed.offset:
            rows = rows[parsed.offset:]
        if parsed.limit is not None:
            rows = rows[:parsed.limit]
            total = min(total, parsed.limit)
        if parsed.count_only:
            return QueryResult(total, [], [], [], sobject)
        total = len(rows)
        records = [self.project(sobject, row, selected) for row in rows]
        return QueryResult(total, records, rows, selected, sobject)

    # -- resolution ------------------------------------------------------------------------------
    def _resolve(self, text: str, sobject: SObjectType, path: Path) -> ResolvedPath:
        current, hops, names = sobject, [], []
        for part in path.parts[:-1]:
            ref = current.relationship(part)
            if ref is None:
                raise _error(text, "INVALID_FIELD", path.line, path.column,
                             f"Didn't understand relationship '{part}' in field path. {_FIELD_HINT}")
            hops.append(ref)
            names.append(ref.relationship_name or part)
            current = self.store.types[ref.reference_to[0]]
        field = current.field(path.parts[-1])
        if field is None:
            raise _error(text, "INVALID_FIELD", path.line, path.column,
                         f"No such column '{path.parts[-1]}' on entity '{current.name}'. {_FIELD_HINT}")
        names.append(field.name)
        return ResolvedPath(path, tuple(hops), field, tuple(names))

    def value(self, row: Record, resolved: ResolvedPath) -> Any:
        record: Record | None = row
        for hop in resolved.hops:
            target_id = record.get(hop.name) if record is not None else None
            record = self._lookup(hop, target_id) if target_id else None
            if record is None:
                return None
        return record.get(resolved.field.name) if record is not None else None

    def _lookup(self, hop: Field, target_id: str) -> Record | None:
        for target in hop.reference_to:
            found = self.store.records[target].get(target_id)
            if found is not None:
                return found
        return None

    # -- projection ------------------------------------------------------------------------------
    def attributes(self, sobject: SObjectType, record_id: str) -> dict[str, str]:
        return {"type": sobject.name, "url": f"/services/data/v{self.version}/sobjects/{sobject.name}/{record_id}"}

    def project(self, sobject: SObjectType, row: Record, selected: list[ResolvedPath]) -> dict[str, Any]:
        """A row as the REST API returns it: ``attributes``, then fields in select order, parents nested."""
        out: dict[str, Any] = {"attributes": self.attributes(sobject, row["Id"])}
        for resolved in selected:
            self._place(out, sobject, row, resolved, 0)
        return out

    def _place(self, out: dict[str, Any], sobject: SObjectType, row: Record, resolved: ResolvedPath,
               depth: int) -> None:
        if depth == len(resolved.hops):
            out[resolved.field.name] = to_json(resolved.field, row.get(resolved.field.name))
            return
        hop = resolved.hops[depth]
        key = resolved.names[depth]
        target_id = row.get(hop.name)
        parent = self._lookup(hop, target_id) if target_id else None
        if parent is None:
            out.setdefault(key, None)
            return
        nested = out.get(key)
        parent_type = self.store.types[self.store.type_of_id(parent["Id"]).name]  # type: ignore[union-attr]
        if not isinstance(nested, dict):
            nested = {"attributes": self.attributes(parent_type, parent["Id"])}
            out[key] = nested
        self._place(nested, parent_type, parent, resolved, depth + 1)

    # -- filtering -------------------------------------------------------------------------------
    def _compile(self, text: str, sobject: SObjectType, cond: Condition) -> Callable[[Record], bool]:
        if isinstance(cond, BoolOp):
            parts = [self._compile(text, sobject, c) for c in cond.operands]
            if cond.operator == "AND":
                return lambda r: all(p(r) for p in parts)
            return lambda r: any(p(r) for p in parts)
        if isinstance(cond, Not):
            inner = self._compile(text, sobject, cond.operand)
            return lambda r: not inner(r)
        return self._comparison(text, sobject, cond)

    def _comparison(self, text: str, sobject: SObjectType, cond: Comparison) -> Callable[[Record], bool]:
        resolved = self._resolve(text, sobject, cond.path)
        field = resolved.field
        literals = [self._literal(text, cond, field, v) for v in cond.values]
        op = cond.operator
        if op == "LIKE":
            if not isinstance(cond.values[0], str):
                raise _error(text, "INVALID_FIELD", cond.path.line, cond.path.column,
                             f"invalid operator on field {field.name}: LIKE needs a string")
            pattern = _like_regex(cond.values[0])
            return lambda r: isinstance(v := self.value(r, resolved), str) and pattern.match(v) is not None
        if op in ("IN", "NOT IN"):
            def member(r: Record) -> bool:
                v = self.value(r, resolved)
                return any(_equal(v, lit) for lit in literals)
            return member if op == "IN" else (lambda r: self.value(r, resolved) is not None and not member(r))
        literal = literals[0]
        return lambda r: _apply(op, self.value(r, resolved), literal)

    def _literal(self, text: str, cond: Comparison, field: Field, value: Any) -> Any:
        """A literal converted to the field's stored form; a date literal becomes a (start, end) range."""
        kind = field.type

        def wrong(expected: str) -> SalesforceError:
            return _error(text, "INVALID_FIELD", cond.path.line, cond.path.column,
                          f"value of filter criterion for field '{field.name}' must be of type {expected} and "
                          "should not be enclosed in quotes")

        if value is None:
            return None
        if isinstance(value, DateLiteral):
            if kind not in ("date", "datetime"):
                raise wrong(kind)
            return self._date_range(value, kind)
        if kind == "datetime":
            if isinstance(value, datetime):
                return value
            raise wrong("dateTime")
        if kind == "date":
            if isinstance(value, date) and not isinstance(value, datetime):
                return value
            raise wrong("date")
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            raise wrong("boolean")
        if kind in NUMERIC_TYPES:
            if isinstance(value, Decimal):
                return float(value)
            raise wrong("double" if kind != "int" else "int")
        if not isinstance(value, str):
            raise wrong("string")
        if kind in ("id", "reference"):
            normal = canonical_id(value)
            if normal is None:
                raise _error(text, "INVALID_QUERY_FILTER_OPERATOR", cond.path.line, cond.path.column,
                             f"invalid ID field: {value}")
            return normal
        return value

    def _date_range(self, literal: DateLiteral, kind: str) -> tuple[Any, Any]:
        today = self.today().date()
        start, end = {
            "TODAY": (today, today + timedelta(days=1)),
            "YESTERDAY": (today - timedelta(days=1), today),
            "TOMORROW": (today + timedelta(days=1), today + timedelta(days=2)),
            "LAST_N_DAYS": (today - timedelta(days=literal.days), today + timedelta(days=1)),
            "NEXT_N_DAYS": (today + timedelta(days=1), today + timedelta(days=literal.days + 1)),
        }[literal.name]
        if kind == "datetime":
            return (datetime.combine(start, time(), UTC), datetime.combine(end, time(), UTC))
        return (start, end)

    def _compare_rows(self, a: Record, b: Record, order: list[tuple[ResolvedPath, Any]]) -> int:
        for resolved, item in order:
            va, vb = self.value(a, resolved), self.value(b, resolved)
            if va is None or vb is None:
                if va is None and vb is None:
                    continue
                nulls_first = not item.nulls_last
                return (-1 if nulls_first else 1) * (1 if va is None else -1)
            c = _cmp(va, vb)
            if c:
                return -c if item.descending else c
        return 0


def _key(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _cmp(a: Any, b: Any) -> int:
    ka, kb = _key(a), _key(b)
    return int(ka > kb) - int(ka < kb)


def _equal(value: Any, literal: Any) -> bool:
    if isinstance(literal, tuple):
        return value is not None and literal[0] <= value < literal[1]
    if value is None or literal is None:
        return value is None and literal is None
    return bool(_key(value) == _key(literal))


def _apply(op: str, value: Any, literal: Any) -> bool:
    if op == "=":
        return _equal(value, literal)
    if op == "!=":
        return not _equal(value, literal)
    if value is None or literal is None:
        return False
    if isinstance(literal, tuple):  # a date literal's [start, end) range
        start, end = literal
        ranged: dict[str, bool] = {"<": value < start, "<=": value < end, ">": value >= end, ">=": value >= start}
        return ranged[op]
    c = _cmp(value, literal)
    outcomes = {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}
    return outcomes[op]


def _like_regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE | re.DOTALL)
