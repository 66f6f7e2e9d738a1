"""Airbyte's Jinja interpolation rewritten into connector-core's template names.

Airbyte templates see ``config``, ``parameters``, ``stream_partition`` / ``stream_slice``,
``stream_interval``, ``next_page_token``, ``record`` and ``response``; ours see ``config``, ``partition``,
``state`` (``state.since`` and ``state.until`` are the incremental bounds), ``slice`` (a time window's
``slice.start`` and ``slice.end``), ``page`` and ``record`` (docs/tutorial.md#templates). ``parameters`` are known when the manifest is read, so they are written in
as values. A template that still names something ours cannot see, or that does not parse, is refused
with a reason; the caller leaves that piece out and reports it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2 import meta

_BLOCK = re.compile(r"({{.*?}}|{%.*?%})", re.DOTALL)
_SUBSCRIPT = re.compile(r"\[\s*(['\"])([A-Za-z_]\w*)\1\s*\]")
_DICT_METHODS = frozenset({"items", "keys", "values", "get", "update", "copy", "pop", "clear", "setdefault"})
_PARAMETER = re.compile(r"\b(?:parameters|options)(?:\.get\(\s*(['\"])(\w+)\1\s*(?:,\s*([^)]*))?\)|\.([A-Za-z_]\w*))")
_SLICE_NAMES = r"(?:stream_partition|stream_slice|stream_interval)"
_SLICE_GET = re.compile(_SLICE_NAMES + r"\.get\(\s*(['\"])(\w+)\1\s*(?:,\s*[^)]*)?\)")
_SLICE_ATTR = re.compile(_SLICE_NAMES + r"\.([A-Za-z_]\w*)")
_PAGE_TOKEN = re.compile(r"next_page_token(?:\.next_page_token|\.get\(\s*(['\"])next_page_token\1\s*\))")
_STRFTIME = re.compile(r"(now_utc\(\)|today_utc\(\))\.strftime\(([^()]*)\)")
_CONFIG_GET = re.compile(r"config\.get\(\s*(['\"])(\w+)\1\s*(?:,\s*([^()]*?))?\s*\)")
_BARE_SLICE = re.compile(r"(?<![.\w])(?:stream_interval|stream_slice)\b(?!\s*[.\[])")


def _environment() -> jinja2.Environment:
    """A plain environment that knows our filter names, to parse translated templates and list their names."""
    from connector_core.engine.interpolation import BUILTIN_FILTERS

    env = jinja2.Environment()
    env.filters.update(BUILTIN_FILTERS)
    return env


_ENV = _environment()


@dataclass
class Scope:
    """What a template may name where it lands, and how Airbyte's slice names map onto ours."""

    allowed: frozenset[str]
    params: Mapping[str, Any] = field(default_factory=dict)
    slice_fields: Mapping[str, str] = field(default_factory=dict)  # stream_partition.X -> our expression
    page_expr: str | None = None  # what next_page_token becomes
    response_body: bool = False  # error rules: Airbyte's `response` is our `response.body`


REQUEST = frozenset({"config", "state", "page", "partition", "slice", "now_utc", "uuid4"})
CONFIG_ONLY = frozenset({"config", "now_utc"})
RECORD = frozenset({"config", "record", "partition", "now_utc"})
RESPONSE = frozenset({"config", "response"})


class Untranslatable(ValueError):
    """A template that cannot be said in connector-core's names; the message says why."""


def translate(value: Any, scope: Scope) -> Any:
    """``value`` with every template in it rewritten (strings inside lists and mappings too)."""
    if isinstance(value, str):
        return translate_text(value, scope)
    if isinstance(value, list):
        return [translate(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: translate(item, scope) for key, item in value.items()}
    return value


def translate_text(text: str, scope: Scope) -> Any:
    if "{{" not in text and "{%" not in text:
        return text
    whole = _only_parameter(text, scope.params)
    if whole is not _NOTHING:
        return whole
    out = _BLOCK.sub(lambda m: _rewrite_block(m.group(1), scope), text)
    _check(out, scope)
    return out


_NOTHING = object()


def _only_parameter(text: str, params: Mapping[str, Any]) -> Any:
    """A template that is just one parameter becomes the parameter's value, whatever its type."""
    match = re.fullmatch(r"\s*{{\s*(?:parameters|options)(?:\.(\w+)|\[\s*['\"](\w+)['\"]\s*\])\s*}}\s*", text)
    if not match:
        return _NOTHING
    name = match.group(1) or match.group(2)
    if name not in params:
        return None  # Airbyte renders a parameter nothing sets as nothing
    value = params[name]
    return translate_text(value, Scope(allowed=frozenset(), params=params)) if isinstance(value, str) else value


def _rewrite_block(block: str, scope: Scope) -> str:
    code = _SUBSCRIPT.sub(lambda m: f"[{m.group(1)}{m.group(2)}{m.group(1)}]" if m.group(2) in _DICT_METHODS else f".{m.group(2)}", block)
    code = _PARAMETER.sub(lambda m: _parameter_literal(m, scope.params), code)
    code = _CONFIG_GET.sub(lambda m: f"(config.{m.group(2)} | default({(m.group(3) or '').strip() or 'none'}))", code)
    code = _STRFTIME.sub(lambda m: f"(now_utc() | format_datetime({m.group(2)}))", code)
    code = code.replace("today_utc()", "(now_utc() | format_datetime('%Y-%m-%d'))")
    code = _rewrite_format_datetime(code)
    if scope.page_expr is not None:
        code = _PAGE_TOKEN.sub(scope.page_expr, code)
    code = _SLICE_GET.sub(lambda m: _slice(m.group(2), scope, m.group(0)), code)
    code = _SLICE_ATTR.sub(lambda m: _slice(m.group(1), scope, m.group(0)), code)
    if "" in scope.slice_fields:  # a bare `stream_interval` (is there a window?) is the lower bound
        code = _BARE_SLICE.sub(scope.slice_fields[""], code)
    literal = re.fullmatch(r"{{\s*(?:'([^'\\{}]*)'|(-?\d+(?:\.\d+)?))\s*}}", code)
    if literal:  # a block that was only a parameter is written in as text
        return literal.group(1) if literal.group(1) is not None else literal.group(2)
    if scope.response_body:
        code = re.sub(r"(?<![.\w])response\b(?!\.(?:body|status|headers)\b)", "response.body", code)
        code = re.sub(r"(?<![.\w])headers\b", "response.headers", code)
    return code


def _parameter_literal(match: re.Match[str], params: Mapping[str, Any]) -> str:
    name = match.group(2) or match.group(4)
    if name in params:
        value = params[name]
        return repr(value) if isinstance(value, str | int | float | bool) else repr(str(value))
    if match.group(3) is not None:
        return match.group(3).strip()
    raise Untranslatable(f"it names the parameter '{name}', which no $parameters around it sets")


def _slice(name: str, scope: Scope, original: str) -> str:
    if name in scope.slice_fields:
        expr = scope.slice_fields[name]
        return expr if re.fullmatch(r"[\w.]+", expr) else f"({expr})"
    raise Untranslatable(f"'{original}' names a slice field this stream does not define")


def _rewrite_format_datetime(code: str) -> str:
    """Airbyte's ``format_datetime(value, fmt)`` macro is our ``value | format_datetime(fmt)`` filter."""
    start = code.find("format_datetime(")
    while start != -1:
        if code[:start].rstrip().endswith("|"):  # already our filter
            start = code.find("format_datetime(", start + 1)
            continue
        depth, i, comma = 0, start + len("format_datetime("), -1
        while i < len(code):
            char = code[i]
            if char in "([":
                depth += 1
            elif char in ")]":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0 and comma == -1:
                comma = i
            i += 1
        if i >= len(code) or comma == -1:
            break
        value, fmt = code[start + len("format_datetime(") : comma].strip(), code[comma + 1 : i].strip()
        replacement = f"({value} | format_datetime({fmt}))"
        code = code[:start] + replacement + code[i + 1 :]
        start = code.find("format_datetime(", start + len(replacement))
    return code


def _check(text: str, scope: Scope) -> None:
    try:
        names = meta.find_undeclared_variables(_ENV.parse(text))
    except jinja2.TemplateSyntaxError as exc:
        raise Untranslatable(f"the template does not parse ({exc.message})") from None
    stray = sorted(names - scope.allowed)
    if stray:
        raise Untranslatable(f"it uses {', '.join(repr(n) for n in stray)}, which connector-core templates here do not see")
    if re.search(r"\.(json|strftime|isoformat)\(", text):
        raise Untranslatable("it calls Python methods that are not part of connector-core's template language")


def strip_braces(text: str) -> str | None:
    """The expression inside a template that is exactly one ``{{ ... }}``, else None."""
    match = re.fullmatch(r"\s*{{(.*)}}\s*", text, re.DOTALL)
    return match.group(1).strip() if match and "}}" not in match.group(1) else None


__all__ = ["CONFIG_ONLY", "RECORD", "REQUEST", "RESPONSE", "Scope", "Untranslatable", "strip_braces", "translate", "translate_text"]
