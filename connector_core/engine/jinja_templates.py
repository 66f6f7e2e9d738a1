"""The Jinja side of :mod:`~connector_core.engine.interpolation`: the sandboxed environments, compiling
a template with its checks (syntax, names, filters, constants), and rendering it under the limits of
``template_limits`` with errors located. Imported on the first template that is more than a plain
lookup (``{{ config.base_url }}``), so a command whose templates are all plain lookups never loads Jinja.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jinja2
from jinja2 import StrictUndefined, meta, nodes

from connector_core.engine.template_builtins import (
    BUILTIN_FILTERS,
    BUILTIN_GLOBALS,
    CONTEXT_NAMES,
    TrustedPath,
    escape_path_value,
    is_template,
)
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

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.DOTALL)

Renderer = Callable[[Mapping[str, Any]], Any]


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


def make_environment(filters: Mapping[str, Callable[..., Any]] | None, **options: Any) -> BoundedSandbox:
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


def bounded_render(render: Callable[[Mapping[str, Any]], Any], context: Mapping[str, Any], source: str, where: str) -> Any:
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


class JinjaTemplates:
    """The two sandboxed environments of an :class:`~connector_core.engine.interpolation.Interpolator`
    (one for values, one for request paths, which escapes every inserted value as one path segment) and
    the templates compiled in them."""

    def __init__(self, filters: Mapping[str, Callable[..., Any]] | None, now: Callable[[], Any] | None) -> None:
        self.env = make_environment(filters)
        self.path_env = make_environment(filters, finalize=escape_path_value)
        if now is not None:  # the session's clock (connector_core.engine.clock), pinned for reproducible runs
            self.env.globals["now_utc"] = self.path_env.globals["now_utc"] = now
        self._cache: dict[str, Renderer] = {}
        self._path_cache: dict[str, jinja2.Template] = {}

    def render(self, source: str, context: Mapping[str, Any], where: str = "") -> Any:
        """Render one template under the limits, errors located."""
        return bounded_render(self.compile(source, where), context, source, where)

    def render_path(self, source: str, context: Mapping[str, Any], where: str = "") -> str:
        """Render a request path, escaping each inserted value as a single path segment."""
        if not is_template(source):
            return source
        template = self._path_cache.get(source)
        if template is None:
            self.compile(source, where)  # same syntax and name checks as any template
            template = self.path_env.from_string(source)
            self._path_cache[source] = template
        rendered: str = bounded_render(lambda values: bounded_output(template.generate(values)), context, source, where or "path")
        return rendered

    def compile(self, source: str, where: str = "") -> Renderer:
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

                renderer: Renderer = render_native
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

