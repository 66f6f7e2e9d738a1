"""Checks of a spec that the models cannot make, beyond references: paths the reader would read as
nothing, templates that would fail on every record where they run, and regular expressions in
embedded JSON Schemas. :class:`~connector_core.engine.loader.SpecChecker` calls them; each problem
goes to its ``problem(at, message)`` and comes out located.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import nodes

from connector_core.engine.documents import PathKey
from connector_core.engine.interpolation import Interpolator
from connector_core.engine.paths import split_path

#: Reports one problem at a path of the document.
Problem = Callable[[PathKey, str], None]


class StreamChecker:
    """Checks of one stream that the models cannot make: paths the reader would read as nothing, and
    templates that would fail on every record (a name their place does not provide, ``state.since``
    without a cursor, a cursor on a field the stream's transforms make)."""

    #: The names the templates of each place see at run time (besides ``config`` and the globals).
    REQUEST_NAMES = frozenset({"state", "partition", "stream", "page"})
    ENRICH_NAMES = REQUEST_NAMES | {"records"}  # an enrichment request sees the page's records too
    RECORD_NAMES = frozenset({"record", "partition"})

    def __init__(self, problem: Problem, interpolator: Interpolator, at: PathKey, stream: Any) -> None:
        self.problem = problem
        self.at = at
        self.stream = stream
        self.interpolator = interpolator

    def run(self) -> None:
        stream, at = self.stream, self.at
        records = stream.records
        selector_path = records if isinstance(records, str) else records.path
        self.check_records_path((*at, "records") if isinstance(records, str) else (*at, "records", "path"), selector_path)
        if not isinstance(records, str):
            self.check_selector((*at, "records"), records)
        keys = [stream.primary_key] if isinstance(stream.primary_key, str) else list(stream.primary_key or [])
        for index, key in enumerate(keys):
            check_dotted_path(self.problem, (*at, "primary_key") if isinstance(stream.primary_key, str) else (*at, "primary_key", index), key)
        if stream.partitions is not None and stream.partitions.parent is not None:
            check_dotted_path(self.problem, (*at, "partitions", "field"), stream.partitions.field)
        if stream.partitions is not None and isinstance(stream.partitions.values, str):
            # the partitions are listed before any request: only the config (and globals) exist then
            self.check_names((*at, "partitions", "values"), stream.partitions.values, frozenset(), "a partition list")
        for index, enrich in enumerate(stream.enrich):
            for name in ("key", "results", "match"):
                check_dotted_path(self.problem, (*at, "enrich", index, name), getattr(enrich, name))
        sliced = not isinstance(stream.cursor, str | None) and (stream.cursor.slicer is not None or stream.cursor.window is not None)
        self.check_request((*at, "request"), stream.request, self.REQUEST_NAMES | {"slice"} if sliced else self.REQUEST_NAMES)
        for index, enrich in enumerate(stream.enrich):
            self.check_request((*at, "enrich", index, "request"), enrich.request, self.ENRICH_NAMES)
        if not isinstance(records, str) and records.filter:
            self.check_names((*at, "records", "filter"), records.filter, self.RECORD_NAMES, "a record filter")
        for index, transform in enumerate(stream.transforms):
            for path, value in (transform.set or {}).items():
                for where, text in template_places(value, (*at, "transforms", index, "set", path)):
                    self.check_names(where, text, self.RECORD_NAMES, "a transform")
            condition = getattr(transform.remove, "when", None)
            if condition:
                self.check_names((*at, "transforms", index, "remove", "when"), condition, self.RECORD_NAMES | {"field", "value"}, "a remove condition")
        self.check_cursor()

    def check_records_path(self, at: PathKey, path: str) -> None:
        """The records path may hold ``*`` (every item), but no template: it is taken as written."""
        if "{{" in path or "{%" in path:
            self.problem(at, f"{path!r} is a template, but a records path is taken as written (it would find no records); write the dotted path itself, e.g. data.items")
            return
        found = dotted_path_problem(path, wildcards=True)
        if found:
            self.problem(at, found)

    def check_selector(self, at: PathKey, selector: Any) -> None:
        if selector.extractor is not None and selector.path:
            self.problem((*at, "path"), "set 'path' or 'extractor', not both: the plugin's extractor finds the records, so the path would be ignored")
        expand = selector.expand
        if expand is None:
            return
        if not split_path(expand.path):
            self.problem((*at, "expand", "path"), f"{expand.path!r} is not a field path; name the nested list to expand, e.g. lines")
        else:
            check_dotted_path(self.problem, (*at, "expand", "path"), expand.path)
        if expand.as_field is not None and not expand.as_field.strip():
            self.problem((*at, "expand", "as"), "'as' names the field each item goes into; it cannot be empty")
        for name, path in expand.carry.items():
            if not name.strip():
                self.problem((*at, "expand", "carry"), f"{name!r} is not a field name; name the field each record gets, e.g. invoice_id: id")
            check_dotted_path(self.problem, (*at, "expand", "carry", name), path)
            if not split_path(path):
                self.problem((*at, "expand", "carry", name), f"{path!r} is not a field path; name the record's field to carry, e.g. id")

    def parse(self, text: str) -> nodes.Template | None:
        try:
            return self.interpolator.env.parse(text)
        except Exception:  # a syntax error: the template checker has reported it
            return None

    def check_request(self, at: PathKey, request: Any, names: frozenset[str] = REQUEST_NAMES) -> None:
        """A request sees config, state, partition, stream and page (an enrichment's also records);
        ``state.since`` and ``state.until`` exist only in a stream with a cursor."""
        data = request.model_dump(by_alias=True, exclude_defaults=True)
        for where, text in template_places(data, at):
            ast = self.check_names(where, text, names, "a request")
            if ast is None or self.stream.cursor is not None:
                continue
            for name in sorted(_state_bounds(ast)):
                self.problem(
                    where,
                    f"template uses state.{name}, which only a stream with a `cursor` has (this one would fail on its first request); "
                    f"add `cursor: FIELD` to the stream, or drop state.{name}",
                )

    def check_names(self, at: PathKey, text: str, allowed: frozenset[str], place: str) -> nodes.Template | None:
        ast = self.parse(text)
        if ast is None:
            return None
        from jinja2 import meta

        visible = allowed | {"config"}
        unknown = sorted(meta.find_undeclared_variables(ast) - visible - set(self.interpolator.env.globals))
        for name in unknown:
            extra = ""
            if name == "state" and "state" not in allowed:
                extra = "; the cursor's bounds already drop records older than the saved state (cursor.filter_records)"
            self.problem(at, f"template uses '{name}', which {place} does not see; it sees {', '.join(sorted(visible))}{extra}")
        return ast

    def check_cursor(self) -> None:
        """The reader takes the cursor (and primary key) from each record as the API sends it, before the
        filter and transforms: a cursor on a field that a transform makes is never found, so the stream
        reads everything every time and never saves a state."""
        cursor = self.stream.cursor
        if cursor is None:
            return
        field = cursor if isinstance(cursor, str) else cursor.field
        if "{{" in field or "{%" in field:
            return
        at = (*self.at, "cursor") if isinstance(cursor, str) else (*self.at, "cursor", "field")
        wanted = split_path(field)
        for index, transform in enumerate(self.stream.transforms):
            for path, value in (transform.set or {}).items():
                made = split_path(path)
                if not made or not _overlaps(made, wanted):
                    continue
                read = sorted(_record_fields(self.parse(value) if isinstance(value, str) else None))
                if field in read:
                    continue  # a transform that rewrites the field in place: the raw record has it
                source = f"; use the field of the API's record it is made from ({', '.join(repr(r) for r in read)})" if read else ""
                self.problem(
                    at,
                    f"the cursor '{field}' is made by transforms[{index}] (set), but the cursor is read from each record as the API "
                    f"sends it, before transforms: no record has it then, so the stream would read everything every time and never "
                    f"save a state{source}",
                )
            for old, new in (transform.rename or {}).items():
                if _overlaps((new,), wanted) and old != new:
                    self.problem(
                        at,
                        f"the cursor '{field}' is made by transforms[{index}] (rename from '{old}'), but the cursor is read from each "
                        f"record as the API sends it, before transforms: no record has it then, so the stream would never save a state; "
                        f"use '{old}'",
                    )


def check_new_transform(problem: Problem, at: PathKey, transform: Any) -> None:
    """The paths of a remove, flatten or cast transform (set, drop and rename are the loader's)."""
    remove = transform.remove
    patterns = remove if isinstance(remove, list) else (remove.fields if remove is not None else [])
    where = (*at, "remove") if isinstance(remove, list) else (*at, "remove", "fields")
    for index, pattern in enumerate(patterns):
        if not split_path(pattern):
            problem((*where, index), f"{pattern!r} is not a field pattern; name the fields to remove, e.g. '_links' or '*_url'")
        elif pattern.startswith("$") or "[" in pattern:
            problem((*where, index), f"{pattern!r} looks like JSONPath; a pattern is dotted steps, each a glob, e.g. meta.* or *_url")
    if transform.flatten is not None and transform.flatten.path is not None:
        check_dotted_path(problem, (*at, "flatten", "path"), transform.flatten.path)
    for path in transform.cast or {}:
        found = dotted_path_problem(path) if split_path(path) else f"{path!r} is not a field path; name the field to convert"
        if found:
            problem((*at, "cast", path), found)


def check_dotted_path(problem: Problem, at: PathKey, path: str) -> None:
    """A dotted path (``data.items``, ``results.0.id``) holds no wildcard or JSONPath, which
    :func:`~connector_core.engine.paths.get_path` would read as keys and silently find nothing."""
    found = dotted_path_problem(path)
    if found:
        problem(at, found)


def dotted_path_problem(path: str, *, wildcards: bool = False) -> str | None:
    """Why ``path`` is not a dotted path the reader can follow, or None. With ``wildcards`` (a
    records path) a ``*`` that is a whole step is allowed."""
    parts = path.split(".")
    if wildcards and any("*" in part and part != "*" for part in parts):
        bad = next(part for part in parts if "*" in part and part != "*")
        return f"{path!r} has {bad!r}; a wildcard is a whole step ('*', as in data.*.items), never part of a key"
    if not wildcards and any("*" in part for part in parts):
        return (
            f"{path!r} has a wildcard; a path is dotted keys and list positions (data.items, results.0.id) and wildcards are "
            "not supported (yet), so it would find nothing; point it at one list or value"
        )
    if path.startswith("$") or any("[" in part or "]" in part for part in parts):
        return f"{path!r} looks like JSONPath; a path is dotted keys and list positions, e.g. data.items or results.0.id"
    return None


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` does not compile as a regular expression (the ``re`` dialect jsonschema uses), or None."""
    import re

    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        return f"pattern {pattern if len(pattern) <= 60 else pattern[:57] + '...'!r} is not a valid regular expression: {exc}"
    return None


_SCHEMA_DATA_KEYWORDS = frozenset({"default", "const", "enum", "examples"})


def schema_patterns(schema: Any, at: PathKey) -> list[tuple[PathKey, str, bool]]:
    """Every ``pattern`` value and ``patternProperties`` key in a JSON Schema, with where it is and
    whether the location is a key; values given as data (defaults, enums, examples) are not schemas."""
    found: list[tuple[PathKey, str, bool]] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in _SCHEMA_DATA_KEYWORDS:
                continue
            if key == "pattern" and isinstance(value, str):
                found.append(((*at, key), value, False))
            elif key == "patternProperties" and isinstance(value, dict):
                found.extend(((*at, key, name), name, True) for name in value if isinstance(name, str))
                for name, sub in value.items():
                    found.extend(schema_patterns(sub, (*at, key, name)))
            elif key == "properties" and isinstance(value, dict):
                for name, sub in value.items():  # a property may be called "pattern"
                    found.extend(schema_patterns(sub, (*at, key, name)))
            else:
                found.extend(schema_patterns(value, (*at, key)))
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            found.extend(schema_patterns(item, (*at, index)))
    return found


def template_places(value: Any, at: PathKey) -> list[tuple[PathKey, str]]:
    """``(path, template)`` for each template string nested in ``value``, which sits at ``at``."""
    if isinstance(value, str):
        return [(at, value)] if "{{" in value or "{%" in value else []
    if isinstance(value, dict):
        return [found for key, child in value.items() for found in template_places(child, (*at, key))]
    if isinstance(value, list):
        return [found for index, child in enumerate(value) for found in template_places(child, (*at, index))]
    return []


def _attribute_chains(ast: nodes.Template, root: str) -> list[tuple[str, ...]]:
    """``record.a.b`` (or ``record['a']``) as ('a', 'b') for every outermost attribute chain on ``root``."""
    chains = []
    inner: set[int] = set()
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        if id(node) in inner:
            continue
        parts: list[str] = []
        current: Any = node
        while isinstance(current, nodes.Getattr | nodes.Getitem):
            inner.add(id(current))
            if isinstance(current, nodes.Getattr):
                parts.append(current.attr)
            elif isinstance(current.arg, nodes.Const) and isinstance(current.arg.value, str | int):
                parts.append(str(current.arg.value))
            else:
                parts = []
            current = current.node
        if isinstance(current, nodes.Name) and current.name == root and parts:
            chains.append(tuple(reversed(parts)))
    return chains


def _record_fields(ast: nodes.Template | None) -> set[str]:
    """The dotted record fields a template reads (``record.a.b`` → 'a.b')."""
    return {".".join(chain) for chain in _attribute_chains(ast, "record")} if ast is not None else set()


def _state_bounds(ast: nodes.Template) -> set[str]:
    return {chain[0] for chain in _attribute_chains(ast, "state") if chain[0] in ("since", "until")}


def _overlaps(made: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """One path is the other or lies inside it (setting ``meta`` makes ``meta.changed`` too)."""
    shorter = min(len(made), len(wanted))
    return shorter > 0 and made[:shorter] == wanted[:shorter]


__all__ = ["Problem", "StreamChecker", "check_dotted_path", "check_new_transform", "dotted_path_problem", "regex_problem", "schema_patterns"]
