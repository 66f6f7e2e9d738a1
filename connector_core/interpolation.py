"""Sandboxed Jinja templates used by specs and connection files.

A string is a template when it contains ``{{`` or ``{%``. A string that is exactly one expression,
``"{{ input.payload }}"``, evaluates to the expression's native value (a dict stays a dict); any other
template renders to text. Templates run in jinja2's immutable sandbox: no access to Python internals,
no file or network access, no mutation of the values passed in. Undefined variables are errors.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

import jinja2
from jinja2 import StrictUndefined, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from connector_core.errors import InterpolationError, SpecError

#: Names a template may refer to. Which ones hold values depends on where the template sits.
CONTEXT_NAMES = frozenset(
    {"config", "state", "partition", "page", "record", "input", "response", "stream", "source", "target"}
)

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.DOTALL)


def is_template(value: object) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def parse_datetime(value: Any) -> dt.datetime:
    """Parse ISO 8601 text, epoch seconds or epoch milliseconds into an aware UTC datetime."""
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
        parsed = dt.datetime.fromisoformat(text)
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
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return text
    raise ValueError(f"{value!r} is not a number")


def _now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _duration_seconds(value: Any) -> float:
    from connector_core.timeparse import parse_duration

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
}

BUILTIN_GLOBALS: dict[str, Any] = {
    "now_utc": _now_utc,
    "uuid4": lambda: str(uuid.uuid4()),
    "duration_seconds": _duration_seconds,
}


class TrustedPath(str):
    """A value marked by the ``path`` filter: inserted into a request path with its slashes kept."""


def _escape_path_value(value: Any) -> str:
    if isinstance(value, TrustedPath):
        return str(value)
    return quote(str(value), safe="")


def _make_environment(filters: Mapping[str, Callable[..., Any]] | None, **options: Any) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, **options)
    env.filters.update(BUILTIN_FILTERS)
    env.filters["path"] = lambda v: TrustedPath(str(v))
    env.filters.update(filters or {})
    env.globals.update(BUILTIN_GLOBALS)
    return env


class Interpolator:
    """Compiles and renders templates in one sandboxed environment, caching compiled templates.

    Request paths render in a second environment in which every ``{{ value }}`` is escaped as one
    path segment (``a/b?c`` becomes ``a%2Fb%3Fc``), so an id coming from data cannot change which
    resource is called; ``{{ value | path }}`` keeps slashes where a spec means a multi-segment path.
    """

    def __init__(self, filters: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.env = _make_environment(filters)
        self.path_env = _make_environment(filters, finalize=_escape_path_value)
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
        try:
            return template.render(context)
        except jinja2.UndefinedError as exc:
            raise InterpolationError(f"template at {where or 'path'}: {exc.message}") from None
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise InterpolationError(f"template at {where or 'path'} failed: {exc}") from None

    def compile(self, source: str, where: str = "") -> Callable[[Mapping[str, Any]], Any]:
        """Compile ``source`` once; raise SpecError naming ``where`` on bad syntax or unknown names."""
        cached = self._cache.get(source)
        if cached is not None:
            return cached
        try:
            ast = self.env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            raise SpecError(f"template syntax error at {where or 'template'}: {exc.message}") from None
        unknown = meta.find_undeclared_variables(ast) - CONTEXT_NAMES - set(self.env.globals)
        if unknown:
            raise SpecError(
                f"template at {where or 'template'} uses unknown name(s) {sorted(unknown)}; "
                f"known: {sorted(CONTEXT_NAMES)}"
            )
        match = _SINGLE_EXPRESSION.match(source)
        if match:
            expression = self.env.compile_expression(match.group("expr"), undefined_to_none=False)

            def render_native(context: Mapping[str, Any]) -> Any:
                return expression(**context)

            renderer: Callable[[Mapping[str, Any]], Any] = render_native
        else:
            template = self.env.from_string(source)

            def render_text(context: Mapping[str, Any]) -> Any:
                return template.render(context)

            renderer = render_text
        self._cache[source] = renderer
        return renderer

    def render(self, value: Any, context: Mapping[str, Any], where: str = "") -> Any:
        """Render every template inside ``value`` (strings, dicts, lists) against ``context``."""
        if isinstance(value, str):
            if not is_template(value):
                return value
            renderer = self.compile(value, where)
            try:
                return renderer(context)
            except jinja2.UndefinedError as exc:
                raise InterpolationError(f"template at {where or 'template'}: {exc.message}") from None
            except jinja2.exceptions.SecurityError as exc:
                raise InterpolationError(f"template at {where or 'template'} was refused by the sandbox: {exc}") from None
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise InterpolationError(f"template at {where or 'template'} failed: {exc}") from None
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
