"""Sandboxed Jinja templates used by specs and connection files.

A string is a template when it contains ``{{`` or ``{%``. A string that is exactly one expression,
``"{{ input.payload }}"``, evaluates to the expression's native value (a dict stays a dict); any other
template renders to text. Templates run in jinja2's immutable sandbox: no access to Python internals,
no file or network access, no mutation of the values passed in. Undefined variables are errors. What a
render may cost (time, sizes, integer digits, call depth) is bounded by ``template_limits``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

import jinja2
from jinja2 import StrictUndefined, meta, nodes

from connector_core.engine.clock import default_now
from connector_core.engine.template_limits import (
    BoundedSandbox,
    TemplateLimitError,
    bound_filters,
    bounded_output,
    check_constants,
    end_budget,
    start_budget,
)
from connector_core.errors import InterpolationError, SpecError

#: Names a template may refer to. Which ones hold values depends on where the template sits.
CONTEXT_NAMES = frozenset(
    {"config", "state", "partition", "page", "record", "input", "response", "stream", "source", "target", "records", "result", "error", "items"}
    | {"let", "mapped", "item", "index"}  # connection mappings: flow `let` values, `checks`, `each` list elements
    | {"job", "file"}  # export jobs: the job (id, create and poll replies), a result file
    | {"slice", "field", "value"}  # a plugin slicer's slice; a `remove` transform's condition on each field
)

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.DOTALL)


def is_template(value: object) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def parse_datetime(value: Any) -> dt.datetime:
    """Parse ISO 8601 text, epoch seconds or epoch milliseconds into an aware UTC datetime."""
    if type(value) is str and len(value) >= 10 and value[4:5] == "-":
        try:  # the common case, on the per-record path: ISO text that fromisoformat reads as is
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, int | float) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        number = float(value)
        if abs(number) > 1e11:  # milliseconds
            number /= 1000
        parsed = dt.datetime.fromtimestamp(number, tz=dt.UTC)
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        if " " in text and "T" not in text:
            text = text.replace(" ", "T", 1)
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"cannot read {value!r} as a date-time; expected ISO 8601 (2024-05-01T12:00:00Z), epoch seconds or epoch milliseconds"
            ) from None
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    else:
        raise ValueError(f"cannot read {value!r} as a date-time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _format_datetime(value: Any, fmt: str = "%Y-%m-%dT%H:%M:%SZ", tz: str | None = None) -> str:
    moment = parse_datetime(value)
    if tz:
        from zoneinfo import ZoneInfo

        moment = moment.astimezone(ZoneInfo(tz))
    else:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime(fmt)


def _timestamp_ms(value: Any) -> int:
    return int(parse_datetime(value).timestamp() * 1000)


def _timestamp(value: Any) -> int:
    return int(parse_datetime(value).timestamp())


def _sql_string(value: Any) -> str:
    """Quote a value as a SQL string literal: ``O'Brien`` becomes ``'O''Brien'``."""
    if value is None:
        return "NULL"
    text = str(value).replace("\x00", "")
    return "'" + text.replace("'", "''") + "'"


def _sql_number(value: Any) -> str:
    """Render a value as a SQL number literal, refusing anything that is not a number."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return repr(value)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return text
    raise ValueError(f"{value!r} is not a number")


def _wrap_each(values: Any, key: str) -> list[dict[str, Any]]:
    """``['1', '2'] | wrap_each('id')`` gives ``[{'id': '1'}, {'id': '2'}]`` (request bodies listing ids)."""
    return [{key: value} for value in values]


def _now_utc() -> dt.datetime:
    return default_now()


def _duration_seconds(value: Any) -> float:
    from connector_core.engine.timeparse import parse_duration

    return parse_duration(value).total_seconds()


BUILTIN_FILTERS: dict[str, Callable[..., Any]] = {
    "format_datetime": _format_datetime,
    "parse_datetime": parse_datetime,
    "timestamp_ms": _timestamp_ms,
    "timestamp": _timestamp,
    "sql_string": _sql_string,
    "sql_number": _sql_number,
    "urlencode_path": lambda v: quote(str(v), safe=""),
    "b64encode": lambda v: base64.b64encode(str(v).encode()).decode(),
    "sha256": lambda v: hashlib.sha256(str(v).encode()).hexdigest(),
    "json": lambda v: json.dumps(v, separators=(",", ":"), default=str),
    "wrap_each": _wrap_each,
}

BUILTIN_GLOBALS: dict[str, Any] = {
    "now_utc": _now_utc,
    "uuid4": lambda: str(uuid.uuid4()),
    "duration_seconds": _duration_seconds,
}


class _Undefined(StrictUndefined):
    """StrictUndefined whose message names the missing key and suggests a near one.

    Only key names are mentioned, never values: the mapping may be the config, which holds secrets.
    """

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        # Jinja annotates the name as str, but a subscript like ``items[3]`` passes the int index.
        name: object = self._undefined_name
        target = self._undefined_obj
        if target is jinja2.utils.missing:
            return f"{name!r} is undefined"
        if isinstance(target, Mapping):
            keys = [str(k) for k in target]
            guess = _suggest(str(name), keys)
            hint = f"; did you mean {guess!r}?" if guess else ("" if keys else " (the mapping is empty)")
            return f"no key {name!r}{hint}"
        if isinstance(target, list | tuple) and isinstance(name, int):
            return f"index {name} is out of range (the list has {len(target)} item{'s' if len(target) != 1 else ''})"
        return f"a {type(target).__name__} value has no attribute {name!r}"


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def _first_undefined(value: Any) -> jinja2.Undefined | None:
    if isinstance(value, jinja2.Undefined):
        return value
    if isinstance(value, dict):
        items: Iterable[Any] = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return None
    for item in items:
        found = _first_undefined(item)
        if found is not None:
            return found
    return None


def _describe_template(source: str, where: str) -> str:
    text = " ".join(source.split())
    text = text if len(text) <= 70 else text[:67] + "..."
    return f"template {text!r} at {where or 'template'}"


class TrustedPath(str):
    """A value marked by the ``path`` filter: inserted into a request path with its slashes kept."""


def _escape_path_value(value: Any) -> str:
    if isinstance(value, TrustedPath):
        return str(value)
    return quote(str(value), safe="")


def _make_environment(filters: Mapping[str, Callable[..., Any]] | None, **options: Any) -> BoundedSandbox:
    env = BoundedSandbox(undefined=_Undefined, autoescape=False, keep_trailing_newline=True, **options)
    env.filters.update(BUILTIN_FILTERS)
    env.filters["path"] = lambda v: TrustedPath(str(v))
    env.filters.update(filters or {})
    env.filters = bound_filters(env.filters)
    env.globals.update(BUILTIN_GLOBALS)
    return env


def _located(exc: Exception, source: str, where: str) -> Exception:
    """The InterpolationError naming ``where`` for what a render raised (anything unforeseen as it is)."""
    described = _describe_template(source, where)
    if isinstance(exc, TemplateLimitError):
        return InterpolationError(f"{described} {exc}", hint=_LIMITS_HINT)
    if isinstance(exc, RecursionError):
        return InterpolationError(f"{described} nests too deeply (Python's recursion limit)", hint=_LIMITS_HINT)
    if isinstance(exc, MemoryError):
        return InterpolationError(f"{described} ran out of memory", hint=_LIMITS_HINT)
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return InterpolationError(f"{described} was refused by the sandbox: {exc}")
    if isinstance(exc, jinja2.UndefinedError):
        return InterpolationError(f"{described}: {exc.message}")
    if isinstance(exc, TypeError | ValueError | ArithmeticError | LookupError):
        return InterpolationError(f"{described} failed: {exc}")
    if isinstance(exc, jinja2.TemplateError):
        return InterpolationError(f"{described} failed: {exc.message}")
    return exc


def _bounded_render(render: Callable[[Mapping[str, Any]], Any], context: Mapping[str, Any], source: str, where: str) -> Any:
    """Render under a fresh budget (template_limits); errors come out located."""
    budget = start_budget()
    try:
        return render(context)
    except Exception as exc:
        located = _located(exc, source, where)
        if located is exc:
            raise
        raise located from None
    finally:
        end_budget(budget)


_LIMITS_HINT = "templates are bounded in time, size and depth; see 'Template limits' in docs/tutorial.md"


class Interpolator:
    """Compiles and renders templates in one sandboxed environment, caching compiled templates.

    Request paths render in a second environment in which every ``{{ value }}`` is escaped as one
    path segment (``a/b?c`` becomes ``a%2Fb%3Fc``), so an id coming from data cannot change which
    resource is called; ``{{ value | path }}`` keeps slashes where a spec means a multi-segment path.
    """

    def __init__(self, filters: Mapping[str, Callable[..., Any]] | None = None, *, now: Callable[[], dt.datetime] | None = None) -> None:
        self.env = _make_environment(filters)
        self.path_env = _make_environment(filters, finalize=_escape_path_value)
        if now is not None:  # the session's clock (connector_core.engine.clock), pinned for reproducible runs
            self.env.globals["now_utc"] = self.path_env.globals["now_utc"] = now
        self._cache: dict[str, Callable[[Mapping[str, Any]], Any]] = {}
        self._path_cache: dict[str, jinja2.Template] = {}

    def render_path(self, source: str, context: Mapping[str, Any], where: str = "") -> str:
        """Render a request path, escaping each inserted value as a single path segment."""
        if not is_template(source):
            return source
        template = self._path_cache.get(source)
        if template is None:
            self.compile(source, where)  # same syntax and name checks as any template
            template = self.path_env.from_string(source)
            self._path_cache[source] = template
        rendered: str = _bounded_render(lambda values: bounded_output(template.generate(values)), context, source, where or "path")
        return rendered

    def compile(self, source: str, where: str = "") -> Callable[[Mapping[str, Any]], Any]:
        """Compile ``source`` once; raise SpecError naming ``where`` on bad syntax or unknown names."""
        cached = self._cache.get(source)
        if cached is not None:
            return cached
        label = where or "template"
        try:
            ast = self.env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            raise SpecError(f"template syntax error at {label}: {self._syntax_message(exc, source)}") from None
        for node in ast.find_all((nodes.Filter, nodes.Test)):
            kind, table = ("filter", self.env.filters) if isinstance(node, nodes.Filter) else ("test", self.env.tests)
            if node.name not in table:
                guess = _suggest(node.name, [name for name in table if ":" not in name])  # not the internal ones
                raise SpecError(f"template at {label} uses unknown {kind} '{node.name}'" + (f"; did you mean '{guess}'?" if guess else ""))
        unknown = sorted(meta.find_undeclared_variables(ast) - CONTEXT_NAMES - set(self.env.globals))
        if unknown:
            known = sorted(CONTEXT_NAMES | set(BUILTIN_GLOBALS))
            described = []
            for name in unknown:
                guess = _suggest(name, known)
                described.append(f"'{name}'" + (f" (did you mean '{guess}'?)" if guess else ""))
            message = f"template at {label} uses unknown name{'s' if len(unknown) > 1 else ''} {', '.join(described)}"
            if not all("did you mean" in d for d in described):
                message += f"; templates can use: {', '.join(known)}"
            raise SpecError(message)
        try:
            check_constants(ast, self.env.binop_table)
        except TemplateLimitError as exc:
            raise SpecError(f"template at {label} {exc}", hint=_LIMITS_HINT) from None
        match = _SINGLE_EXPRESSION.match(source)
        try:
            if match:
                expression = self.env.compile_expression(match.group("expr"), undefined_to_none=False)
                # a literal dict or list can hold an undefined value that nothing would ever print
                nested = any(True for _ in ast.find_all((nodes.Dict, nodes.List, nodes.Tuple)))

                def render_native(context: Mapping[str, Any]) -> Any:
                    result = expression(**context)
                    undefined = _first_undefined(result) if nested else result
                    if isinstance(undefined, jinja2.Undefined):
                        undefined._fail_with_undefined_error()
                    return result

                renderer: Callable[[Mapping[str, Any]], Any] = render_native
            else:
                template = self.env.from_string(source)

                def render_text(context: Mapping[str, Any]) -> Any:
                    return bounded_output(template.generate(context))

                renderer = render_text
        except jinja2.TemplateSyntaxError as exc:
            raise SpecError(f"template syntax error at {label}: {self._syntax_message(exc, source)}") from None
        self._cache[source] = renderer
        return renderer

    def _syntax_message(self, exc: jinja2.TemplateSyntaxError, source: str) -> str:
        message = exc.message or "invalid template"
        for opening, closing in (("{{", "}}"), ("{%", "%}")):
            if source.count(opening) != source.count(closing):
                return f"{message.rstrip('.')}; each '{opening}' needs a matching '{closing}'"
        found = re.match(r"No (filter|test) named '([^']+)'", message)
        if found:
            kind, name = found.groups()
            choices = self.env.filters if kind == "filter" else self.env.tests
            guess = _suggest(name, choices)
            return f"unknown {kind} '{name}'" + (f"; did you mean '{guess}'?" if guess else "")
        return message.rstrip(".")

    def render(self, value: Any, context: Mapping[str, Any], where: str = "") -> Any:
        """Render every template inside ``value`` (strings, dicts, lists) against ``context``."""
        if isinstance(value, str):
            if not is_template(value):
                return value
            return _bounded_render(self.compile(value, where), context, value, where)
        if isinstance(value, dict):
            return {
                self.render(k, context, where): self.render(v, context, f"{where}.{k}" if where else str(k))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.render(v, context, f"{where}[{i}]") for i, v in enumerate(value)]
        return value

    def check(self, value: Any, where: str = "") -> None:
        """Compile every template in ``value`` so mistakes surface when a spec loads."""
        for path, text in iter_templates(value, where):
            self.compile(text, path)


def iter_templates(value: Any, where: str = "") -> Iterable[tuple[str, str]]:
    """Yield ``(path, template)`` for each template string nested in ``value``."""
    if isinstance(value, str):
        if is_template(value):
            yield where, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from iter_templates(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from iter_templates(v, f"{where}[{i}]")


__all__ = ["BUILTIN_FILTERS", "CONTEXT_NAMES", "Interpolator", "TrustedPath", "is_template", "iter_templates", "parse_datetime"]
