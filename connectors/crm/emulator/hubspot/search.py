"""CRM search: filter groups (OR of ANDed filters), sorts, free-text query, result cap."""

from __future__ import annotations

import fnmatch
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

from .errors import validation
from .objecttypes import MODIFIED_PROP
from .properties import PropertyRegistry
from .searchindex import SearchIndex
from .store import CrmObject
from .values import ms_from_text, number_from_text

OPERATORS = {
    "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN",
    "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
}
_TOKEN_SPLIT = re.compile(r"[^0-9a-z_@.\-]+|[.\-@_]")

#: Properties the free-text ``query`` looks in.
QUERY_PROPS = {
    "companies": ("name", "domain", "website", "phone"),
    "contacts": ("firstname", "lastname", "email", "phone", "company"),
    "deals": ("dealname",),
}

Getter = Callable[[CrmObject], Any]
Predicate = Callable[[CrmObject], bool]


def _getter(object_type: str, registry: PropertyRegistry, name: str) -> tuple[Getter, str]:
    """Return a value getter (comparable form) and the comparison kind for one property."""
    if name == "hs_object_id":
        return (lambda o: o.id), "number"
    if name == "createdate":
        return (lambda o: o.created_ms), "number"
    if name == MODIFIED_PROP[object_type]:
        return (lambda o: o.updated_ms), "number"
    d = registry.get(name)
    if d is None:
        raise validation(f"There was a problem with the request: property \"{name}\" does not exist.",
                         context={"propertyName": [name]})
    if d.type in ("datetime", "date"):
        def get_ms(o: CrmObject, _n: str = name) -> int | None:
            v = o.props.get(_n)
            return ms_from_text(v) if v is not None else None
        return get_ms, "number"
    if d.type == "number":
        def get_num(o: CrmObject, _n: str = name) -> float | None:
            v = o.props.get(_n)
            return number_from_text(v) if v is not None else None
        return get_num, "number"

    def get_text(o: CrmObject, _n: str = name) -> str | None:
        v = o.props.get(_n)
        return v.lower() if v is not None else None
    return get_text, "text"


def _convert(kind: str, value: Any, name: str, registry: PropertyRegistry) -> Any:
    """Convert a filter value to the getter's comparable form."""
    if value is None:
        raise validation(f"Filter on {name} is missing a value.")
    if kind == "number":
        d = registry.get(name)
        if isinstance(value, bool):
            raise validation(f"{value} is not a valid value for {name}.")
        if isinstance(value, (int, float)):
            return value
        text = str(value).strip()
        is_time = name in ("createdate", "hs_lastmodifieddate", "lastmodifieddate") or (
            d is not None and d.type in ("datetime", "date"))
        converted = ms_from_text(text) if is_time else number_from_text(text)
        if converted is None:
            raise validation(f"{value} is not a valid value for {name}.")
        return converted
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


def _tokens(text: str) -> set[str]:
    lowered = text.lower()
    return {t for t in _TOKEN_SPLIT.split(lowered) if t} | {t for t in re.split(r"\s+", lowered) if t}


def _contains_token(actual: str | None, needle: str) -> bool:
    if actual is None:
        return False
    needle = needle.lower()
    if "*" in needle:
        return any(fnmatch.fnmatchcase(t, needle) for t in _tokens(actual)) or fnmatch.fnmatchcase(actual.lower(), needle)
    return needle in _tokens(actual) or actual.lower() == needle


def compile_filter(object_type: str, registry: PropertyRegistry, f: Any) -> Predicate:
    if not isinstance(f, dict):
        raise validation("Invalid input JSON: each filter must be an object.")
    name = f.get("propertyName")
    op = str(f.get("operator", "EQ")).upper()
    if not name:
        raise validation("Filter is missing propertyName.")
    if op not in OPERATORS:
        raise validation(f"Invalid operator {op}. Valid operators are {sorted(OPERATORS)}.")
    get, kind = _getter(object_type, registry, str(name))
    if op == "HAS_PROPERTY":
        return lambda o: get(o) is not None
    if op == "NOT_HAS_PROPERTY":
        return lambda o: get(o) is None
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        needle = str(f.get("value", ""))
        if op == "CONTAINS_TOKEN":
            return lambda o: _contains_token(o.props.get(name), needle)
        return lambda o: not _contains_token(o.props.get(name), needle)
    if op in ("IN", "NOT_IN"):
        values = f.get("values")
        if not isinstance(values, list) or not values:
            raise validation(f"Operator {op} requires a non-empty 'values' list.")
        wanted = {_convert(kind, v, name, registry) for v in values}
        if op == "IN":
            return lambda o: get(o) in wanted
        return lambda o: (v := get(o)) is not None and v not in wanted
    value = _convert(kind, f.get("value"), name, registry)
    if op == "EQ":
        return lambda o: get(o) == value
    if op == "NEQ":
        return lambda o: (v := get(o)) is not None and v != value
    if op == "BETWEEN":
        high = _convert(kind, f.get("highValue"), name, registry)
        return lambda o: (v := get(o)) is not None and value <= v <= high
    comparisons: dict[str, Callable[[Any], bool]] = {
        "LT": lambda v: v < value, "LTE": lambda v: v <= value,
        "GT": lambda v: v > value, "GTE": lambda v: v >= value,
    }
    compare = comparisons[op]
    return lambda o: (v := get(o)) is not None and compare(v)


def compile_groups(object_type: str, registry: PropertyRegistry, groups: Any, limits: tuple[int, int, int]) -> Predicate | None:
    if not groups:
        return None
    if not isinstance(groups, list):
        raise validation("Invalid input JSON: filterGroups must be a list.")
    max_groups, max_per_group, max_total = limits
    if len(groups) > max_groups:
        raise validation(f"Too many filter groups: {len(groups)}. The maximum is {max_groups}.")
    total = 0
    compiled: list[list[Predicate]] = []
    for g in groups:
        if not isinstance(g, dict) or not isinstance(g.get("filters") or [], list):
            raise validation("Invalid input JSON: each filter group must be an object with 'filters'.")
        filters = g.get("filters") or []
        if len(filters) > max_per_group:
            raise validation(f"Too many filters in a group: {len(filters)}. The maximum is {max_per_group}.")
        total += len(filters)
        compiled.append([compile_filter(object_type, registry, f) for f in filters])
    if total > max_total:
        raise validation(f"Too many filters: {total}. The maximum across all groups is {max_total}.")

    def match(o: CrmObject) -> bool:
        for preds in compiled:
            if all(p(o) for p in preds):
                return True
        return False
    return match


def parse_sorts(sorts: Any) -> list[tuple[str, bool]]:
    """Return ``[(property, descending)]`` from object or ``"-prop"`` string forms."""
    if not sorts:
        return []
    if not isinstance(sorts, list):
        sorts = [sorts]
    out = []
    for s in sorts:
        if isinstance(s, str):
            desc = s.startswith("-")
            out.append((s.lstrip("-+"), desc))
        elif isinstance(s, dict) and s.get("propertyName"):
            direction = str(s.get("direction", "ASCENDING")).upper()
            if direction not in ("ASCENDING", "DESCENDING"):
                raise validation(f"Invalid sort direction {direction}.")
            out.append((str(s["propertyName"]), direction == "DESCENDING"))
        else:
            raise validation("Invalid input JSON: each sort needs a propertyName.")
    return out


def _query_predicate(object_type: str, query: str) -> Predicate:
    words = [w for w in query.lower().split() if w]
    props = QUERY_PROPS[object_type]

    def match(o: CrmObject) -> bool:
        texts = [o.props.get(p, "").lower() for p in props]
        return all(any(w in t for t in texts) for w in words)
    return match


class SearchEngine:
    """Runs searches against a :class:`SearchIndex`, caching the ordered id list per query."""

    def __init__(self, cache_size: int = 32) -> None:
        self._cache: OrderedDict[tuple[Any, ...], tuple[int, list[CrmObject]]] = OrderedDict()
        self._cache_size = cache_size

    def clear(self) -> None:
        self._cache.clear()

    def run(self, object_type: str, registry: PropertyRegistry, index: SearchIndex, body: dict[str, Any],
            limits: tuple[int, int, int]) -> list[CrmObject]:
        """All matching live records in result order (the caller slices and caps)."""
        index.refresh()
        key = (object_type, orjson.dumps([body.get("filterGroups"), body.get("sorts"), body.get("query")],
                                         option=orjson.OPT_SORT_KEYS))
        hit = self._cache.get(key)
        if hit is not None and hit[0] == index.version:
            self._cache.move_to_end(key)
            return hit[1]
        predicate = compile_groups(object_type, registry, body.get("filterGroups"), limits)
        sorts = parse_sorts(body.get("sorts"))
        query = body.get("query")
        query_pred = _query_predicate(object_type, str(query)) if query else None
        sort_getters = [(_getter(object_type, registry, name)[0], desc) for name, desc in sorts]
        rows = [o for o in index.records() if not o.archived
                and (predicate is None or predicate(o)) and (query_pred is None or query_pred(o))]
        rows.sort(key=lambda o: o.id)
        for get, desc in reversed(sort_getters):
            present = [o for o in rows if get(o) is not None]
            missing = [o for o in rows if get(o) is None]
            present.sort(key=get, reverse=desc)
            rows = present + missing  # records without a value sort last either way
        if len(self._cache) >= self._cache_size:
            self._cache.popitem(last=False)
        self._cache[key] = (index.version, rows)
        return rows
