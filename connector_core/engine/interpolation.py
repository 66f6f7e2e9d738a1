"""Sandboxed Jinja templates used by specs and connection files.

A string is a template when it contains ``{{`` or ``{%``. A string that is exactly one expression,
``"{{ input.payload }}"``, evaluates to the expression's native value (a dict stays a dict); any other
template renders to text. Templates run in jinja2's immutable sandbox: no access to Python internals,
no file or network access, no mutation of the values passed in. Undefined variables are errors. What a
render may cost (time, sizes, integer digits, call depth) is bounded by ``template_limits``.

A template that is one plain lookup, ``{{ config.base_url }}``, is answered by looking the keys up, as
Jinja would; Jinja itself (``jinja_templates``) is loaded for the first template that is anything more,
or for a lookup that is not plain (a missing key, a value that is not a mapping, a key that is also a
mapping's attribute).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

# BUILTIN_FILTERS, TrustedPath and parse_datetime are re-exported: plugins import them from here.
from connector_core.engine.template_builtins import BUILTIN_FILTERS, CONTEXT_NAMES, TrustedPath, is_template
from connector_core.engine.timeparse import parse_datetime

if TYPE_CHECKING:
    import jinja2

    from connector_core.engine.jinja_templates import JinjaTemplates

#: ``{{ name.key.key }}``: the templates answered without Jinja (names only; `_`-prefixed keys and
#: Jinja's keywords go to Jinja).
_PLAIN_LOOKUP = re.compile(r"^\s*\{\{\s*([A-Za-z][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z][A-Za-z0-9_]*)*)\s*\}\}\s*$")
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "True", "False", "None"})
_NOT_PLAIN = object()


def _plain_lookup(source: str) -> tuple[str, ...] | None:
    """The names of a template that is one plain lookup of a context name, or None."""
    match = _PLAIN_LOOKUP.match(source)
    if match is None:
        return None
    names = tuple(name.strip() for name in match.group(1).split("."))
    if names[0] not in CONTEXT_NAMES or any(name in _KEYWORDS for name in names):
        return None
    return names


def _look_up(names: tuple[str, ...], context: Mapping[str, Any]) -> Any:
    """What Jinja's sandbox finds for ``names`` when each step is a dict holding the key (and the key is
    not also a dict attribute, which Jinja would find first); ``_NOT_PLAIN`` otherwise."""
    value = context.get(names[0], _NOT_PLAIN)
    for name in names[1:]:
        if type(value) is not dict or name not in value or hasattr(dict, name):
            return _NOT_PLAIN
        value = value[name]
    return value


class Interpolator:
    """Compiles and renders templates in one sandboxed environment, caching compiled templates.

    Request paths render in a second environment in which every ``{{ value }}`` is escaped as one
    path segment (``a/b?c`` becomes ``a%2Fb%3Fc``), so an id coming from data cannot change which
    resource is called; ``{{ value | path }}`` keeps slashes where a spec means a multi-segment path.
    """

    def __init__(self, filters: Mapping[str, Callable[..., Any]] | None = None, *, now: Callable[[], dt.datetime] | None = None) -> None:
        self._filters = filters
        self._now = now
        self._jinja: JinjaTemplates | None = None
        self._lookups: dict[str, tuple[str, ...] | None] = {}  # template -> its names when a plain lookup

    @property
    def jinja(self) -> JinjaTemplates:
        if self._jinja is None:
            from connector_core.engine.jinja_templates import JinjaTemplates

            self._jinja = JinjaTemplates(self._filters, self._now)
        return self._jinja

    @property
    def env(self) -> jinja2.Environment:
        """The sandboxed environment values render in (parsing a template to inspect it, its filters)."""
        return self.jinja.env

    @property
    def path_env(self) -> jinja2.Environment:
        return self.jinja.path_env

    def render_path(self, source: str, context: Mapping[str, Any], where: str = "") -> str:
        """Render a request path, escaping each inserted value as a single path segment."""
        if not is_template(source):
            return source
        return self.jinja.render_path(source, context, where)

    def compile(self, source: str, where: str = "") -> Callable[[Mapping[str, Any]], Any]:
        """Compile ``source`` once; raise SpecError naming ``where`` on bad syntax or unknown names."""
        names = self._names(source)
        if names is None:
            return self.jinja.compile(source, where)

        def look_up(context: Mapping[str, Any]) -> Any:
            found = _look_up(names, context)
            return self.jinja.compile(source, where)(context) if found is _NOT_PLAIN else found

        return look_up

    def _names(self, source: str) -> tuple[str, ...] | None:
        try:
            return self._lookups[source]
        except KeyError:
            names = self._lookups[source] = _plain_lookup(source)
            return names

    def render(self, value: Any, context: Mapping[str, Any], where: str = "") -> Any:
        """Render every template inside ``value`` (strings, dicts, lists) against ``context``."""
        if isinstance(value, str):
            if not is_template(value):
                return value
            names = self._names(value)
            if names is not None:
                found = _look_up(names, context)
                if found is not _NOT_PLAIN:
                    return found
            return self.jinja.render(value, context, where)
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
