"""Every filter a template may use, wrapped: the render's clock ticks, a filter that can pad or repeat
(``center``, ``indent``, ``replace``, ``join``, ``format``, ``wordwrap``, ``slice``, ``batch``,
``tojson``) is checked before it runs, and every result is measured after.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from connector_core.engine.template_budget import tick
from connector_core.engine.template_value_checks import (
    MAX_LIST_ITEMS,
    MAX_VALUE_CHARS,
    check_percent_format,
    check_replace,
    check_width,
    checked,
    is_int,
    refuse_chars,
    refuse_items,
    size_of,
)

#: The sandbox's own filters start with this; it is not an identifier, so no template can name them.
INTERNAL_FILTER_PREFIX = "limits:"


def _filter_center(value: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    check_width("filter 'center'", width)


def _filter_indent(text: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    step = len(width) if isinstance(width, str) else width
    if is_int(step) and step > 0:
        size = len(str(text)) + (str(text).count("\n") + 1) * step
        if size > MAX_VALUE_CHARS:
            raise refuse_chars("filter 'indent'", size)


def _filter_replace(text: Any, old: Any = "", new: Any = "", count: Any = None, *_: Any, **__: Any) -> None:
    check_replace("filter 'replace'", text, old, new, count)


def _filter_join(value: Any, separator: Any = "", *_: Any, **__: Any) -> None:
    if isinstance(value, list | tuple):
        size = size_of(value) + len(str(separator)) * max(len(value) - 1, 0)
        if size > MAX_VALUE_CHARS:
            raise refuse_chars("filter 'join'", size)


def _filter_format(value: Any, *args: Any, **kwargs: Any) -> None:
    if isinstance(value, str):
        check_percent_format("filter 'format'", value, tuple(args))


def _filter_wordwrap(
    text: Any, width: Any = 79, breaks: Any = True, wrapstring: Any = None, *_: Any, **kwargs: Any
) -> None:
    wrapstring = kwargs.get("wrapstring", wrapstring)
    if isinstance(wrapstring, str) and isinstance(text, str):
        size = len(text) + (len(text) + 1) * len(wrapstring)
        if size > MAX_VALUE_CHARS:
            raise refuse_chars("filter 'wordwrap'", size)


def _filter_slice(value: Any, slices: Any = 1, *_: Any, **__: Any) -> None:
    if is_int(slices) and slices > MAX_LIST_ITEMS:
        raise refuse_items("filter 'slice'", slices)


def _filter_batch(value: Any, linecount: Any = 1, fill_with: Any = None, *_: Any, **kwargs: Any) -> None:
    if kwargs.get("fill_with", fill_with) is not None and is_int(linecount) and linecount > MAX_LIST_ITEMS:
        raise refuse_items("filter 'batch'", linecount)


def _filter_tojson(value: Any, indent: Any = None, *_: Any, **__: Any) -> None:
    if is_int(indent) and indent > 0:
        size = size_of(value) * (indent + 1)
        if size > MAX_VALUE_CHARS:
            raise refuse_chars("filter 'tojson'", size)


_FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": _filter_center,
    "indent": _filter_indent,
    "replace": _filter_replace,
    "join": _filter_join,
    "format": _filter_format,
    "wordwrap": _filter_wordwrap,
    "slice": _filter_slice,
    "batch": _filter_batch,
    "tojson": _filter_tojson,
}


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    check = _FILTER_CHECKS.get(name)
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0  # the context or environment
    what = f"filter '{name}'"

    @functools.wraps(func)  # keeps jinja_pass_arg
    def bounded(*args: Any, **kwargs: Any) -> Any:
        tick()
        if check is not None:
            check(*args[skip:], **kwargs)
        return checked(func(*args, **kwargs), what)

    return bounded


def bound_filters(filters: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Every filter wrapped: the clock ticks, amplifying ones are checked first, each result after."""
    return {
        name: func if name.startswith(INTERNAL_FILTER_PREFIX) else _bounded_filter(name, func)
        for name, func in filters.items()
    }


__all__ = ["INTERNAL_FILTER_PREFIX", "bound_filters"]
