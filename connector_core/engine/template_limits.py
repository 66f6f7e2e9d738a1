"""What one template render may cost: CPU time, text, value sizes, integer size and call depth.

A spec template is code written by whoever wrote the spec; a slip (``range`` loops nested one level too
deep, ``10**10**10``) or a hostile spec must fail with a located error, never hang or exhaust the
process. The limits below are far above anything a request, a mapping or a message needs; a template
that reaches one is refused with an :class:`TemplateLimitError`, which the interpolator turns into an
``InterpolationError`` (at render) or a ``SpecError`` (at load) naming the template and where it sits.

How each limit is kept, without signals or threads (renders run in worker threads):

- **Repetition** is checked *before* it happens, in jinja's own sandbox hooks: ``call_binop`` for
  ``*``, ``**``, ``+`` and ``%``; ``call`` for str methods that pad or repeat (``center``, ``zfill``,
  ``replace``, ``join``, ``format`` ...) and for ``range`` and ``lipsum``; a wrapper around every filter
  for the filters that do (``center``, ``indent``, ``replace``, ``join``, ``format``, ``wordwrap``,
  ``batch``, ``slice``, ``tojson``). Every result of those hooks is measured after too, so no value a
  template builds outgrows the limits by feeding a result back in (``namespace`` in a loop).
- **Time** is the CPU time of the rendering thread, looked at every few hook calls and loop iterations:
  each ``{% for %}`` iterates through a counting wrapper, added to the template's syntax tree when it
  compiles, together with a tally of every piece of text written (inside macros and ``{% set %}``
  blocks too) and a measure of each ``~`` concatenation.
- **Recursion** is the nesting of calls made from templates (a macro that calls itself).
- **Constants**: where a template's constant parts already break a limit (``'a' * 10**10``,
  ``range(10**6)``, ``lipsum(10**6)``), loading the spec fails, so ``validate`` reports it.

Kept whole (about 600 lines): the limits, the checks that keep them and the hooks and tree rewrite that
run the checks are one policy sharing one private budget; split, each part would reach into the other's.
"""

from __future__ import annotations

import functools
import math
import re
import string
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer

#: CPU seconds one render may take (one template string, in the thread that renders it).
MAX_RENDER_SECONDS = 1.0
#: Characters a text template may render to (a single ``{{ expression }}`` keeps its value and type).
MAX_OUTPUT_CHARS = 1_000_000
#: Characters one render may write in all, counting text written inside macros, loops and blocks.
MAX_WRITTEN_CHARS = 10_000_000
#: Characters one value built by a template may hold: a string, or all the strings in a list.
MAX_VALUE_CHARS = 10_000_000
#: Items one list or tuple built by a template may hold.
MAX_LIST_ITEMS = 1_000_000
#: Decimal digits of an integer a template computes (Python's own limit for turning one into text).
MAX_INT_DIGITS = 4_300
#: Items in one ``range(...)`` (jinja's sandbox has the same limit).
MAX_RANGE_ITEMS = 100_000
#: Words one ``lipsum(...)`` may make (paragraphs times the most words per paragraph).
MAX_LIPSUM_WORDS = 100_000
#: Calls nested inside calls made from templates: macros calling macros, ``caller()``, ``loop(...)``.
MAX_CALL_DEPTH = 100

_LOG10_2 = math.log10(2)
_PERCENT_WIDTH = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")  # width and precision
_DIGIT_RUN = re.compile(r"\d+")
_CHECK_TIME_EVERY = 8  # hook calls between two looks at the clock (a power of two)


class TemplateLimitError(Exception):
    """A render went over a limit. The message reads on from "template '...' at <where> "."""


@dataclass
class _Budget:
    deadline: float
    ticks: int = 0
    depth: int = 0
    written: int = 0


_BUDGET: ContextVar[_Budget | None] = ContextVar("connector_core_template_budget", default=None)


def start_budget() -> Token[_Budget | None]:
    """Count time, written text and call depth for the render that follows; pass the token to ``end_budget``."""
    return _BUDGET.set(_Budget(time.thread_time() + MAX_RENDER_SECONDS))


def end_budget(token: Token[_Budget | None]) -> None:
    _BUDGET.reset(token)


def _over_time() -> TemplateLimitError:
    return TemplateLimitError(f"exceeds the {MAX_RENDER_SECONDS:g}-second render time limit")


def _tick() -> None:
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.ticks += 1
    if not budget.ticks % _CHECK_TIME_EVERY and time.thread_time() > budget.deadline:
        raise _over_time()


def bounded_output(chunks: Iterable[str]) -> str:
    """Join a text template's output, refusing it once it passes ``MAX_OUTPUT_CHARS``."""
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise TemplateLimitError(f"exceeds the {MAX_OUTPUT_CHARS:,}-character output limit")
        parts.append(chunk)
    return "".join(parts)


# -- sizes ---------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _digits(value: int) -> float:
    return math.log10(abs(value)) if value else 0.0


def _size(value: Any, limit: int = MAX_VALUE_CHARS) -> int:
    """Characters of text in ``value`` (strings count their length, anything else 1), up to just past ``limit``.

    Visits at most ``limit`` items, so measuring a value costs no more than the limit allows it to hold.
    """
    if isinstance(value, str):
        return len(value)
    total = 0
    stack: list[Any] = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple):
            total += 1
            stack.extend(item)
        elif isinstance(item, dict):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        else:
            total += 1
    return total


def _refuse_chars(what: str, count: float, *, made: bool = False) -> TemplateLimitError:
    verb = "made" if made else "would make"
    return TemplateLimitError(f"exceeds the {MAX_VALUE_CHARS:,}-character value limit: {what} {verb} {count:,.0f} characters")


def _refuse_items(what: str, count: float, *, made: bool = False) -> TemplateLimitError:
    verb = "made" if made else "would make"
    return TemplateLimitError(f"exceeds the {MAX_LIST_ITEMS:,}-item list limit: {what} {verb} {count:,.0f} items")


def _refuse_digits(what: str, digits: float, *, made: bool = False) -> TemplateLimitError:
    verb = "made" if made else "would make"
    return TemplateLimitError(f"exceeds the {MAX_INT_DIGITS:,}-digit integer limit: {what} {verb} a number of about {digits:,.0f} digits")


def checked(value: Any, what: str) -> Any:
    """Return ``value`` if a template may hold it; measured after every operation the hooks see."""
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            raise _refuse_chars(what, len(value), made=True)
    elif isinstance(value, list | tuple):
        if len(value) > MAX_LIST_ITEMS:
            raise _refuse_items(what, len(value), made=True)
    elif isinstance(value, int) and value.bit_length() * _LOG10_2 > MAX_INT_DIGITS:
        raise _refuse_digits(what, value.bit_length() * _LOG10_2, made=True)
    return value


def _check_width(what: str, width: Any) -> None:
    if _is_int(width) and width > MAX_VALUE_CHARS:
        raise _refuse_chars(what, width)


def _check_repeat(what: str, sequence: Any, times: int) -> None:
    if times <= 0:
        return
    if isinstance(sequence, str):
        if len(sequence) * times > MAX_VALUE_CHARS:
            raise _refuse_chars(what, len(sequence) * times)
        return
    if len(sequence) * times > MAX_LIST_ITEMS:
        raise _refuse_items(what, len(sequence) * times)
    size = _size(sequence) * times
    if size > MAX_VALUE_CHARS:
        raise _refuse_chars(what, size)


# -- operators -----------------------------------------------------------------------------------

_SEQUENCES = (str, list, tuple)


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``left <operator> right`` before it runs if its result would pass a limit."""
    what = f"'{operator}'"
    if operator == "**":
        if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
            digits = right * _digits(left)
            if digits > MAX_INT_DIGITS:
                raise _refuse_digits(what, digits)
    elif operator == "*":
        if _is_int(left) and _is_int(right):
            digits = _digits(left) + _digits(right)
            if digits > MAX_INT_DIGITS + 1:
                raise _refuse_digits(what, digits)
        elif isinstance(left, _SEQUENCES) and _is_int(right):
            _check_repeat(what, left, right)
        elif _is_int(left) and isinstance(right, _SEQUENCES):
            _check_repeat(what, right, left)
    elif operator == "+":
        if isinstance(left, str) and isinstance(right, str):
            if len(left) + len(right) > MAX_VALUE_CHARS:
                raise _refuse_chars(what, len(left) + len(right))
        elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
            if len(left) + len(right) > MAX_LIST_ITEMS:
                raise _refuse_items(what, len(left) + len(right))
            size = _size(left) + _size(right)
            if size > MAX_VALUE_CHARS:
                raise _refuse_chars(what, size)
    elif operator == "%" and isinstance(left, str):
        _check_percent_format(what, left, right)


def _check_percent_format(what: str, template: str, values: Any) -> None:
    """``'%*d' % (10**9, 1)`` and ``'%1000000000d'`` pad to a width; refuse widths past the limit."""
    if "%" not in template:
        return
    for width in _PERCENT_WIDTH.findall(template):
        for number in width:
            if number.isdigit():
                _check_width(what, int(number))
    if "*" in template:
        for value in values if isinstance(values, tuple) else (values,):
            _check_width(what, value)


def _check_str_format(what: str, template: str, args: Iterable[Any]) -> None:
    """``'{:>1000000000}'.format(x)`` pads too; so may a width given as an argument (``{:{}}``)."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return  # malformed: str.format raises its own error
    for _, _, spec, _ in fields:
        if not spec:
            continue
        for number in _DIGIT_RUN.findall(spec):
            _check_width(what, int(number))
        if "{" in spec:
            for value in args:
                _check_width(what, value)


# -- calls: str methods, range, lipsum -----------------------------------------------------------


def _check_str_method(text: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    what = f"str.{name}()"
    if name in ("center", "ljust", "rjust", "zfill") and args:
        _check_width(what, args[0])
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        if _is_int(tabsize) and tabsize > 0:
            size = len(text) + text.count("\t") * tabsize
            if size > MAX_VALUE_CHARS:
                raise _refuse_chars(what, size)
    elif name == "replace" and len(args) >= 2:
        _check_replace(what, text, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count", -1))
    elif name == "join" and args and isinstance(args[0], list | tuple):
        size = _size(args[0]) + len(text) * max(len(args[0]) - 1, 0)
        if size > MAX_VALUE_CHARS:
            raise _refuse_chars(what, size)


def _check_replace(what: str, text: Any, old: Any, new: Any, count: Any) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)) or len(new) <= len(old):
        return
    found = len(text) + 1 if old == "" else text.count(old)
    if _is_int(count) and count >= 0:
        found = min(found, count)
    size = len(text) + found * (len(new) - len(old))
    if size > MAX_VALUE_CHARS:
        raise _refuse_chars(what, size)


def check_call(obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Refuse a call from a template before it runs if its result would pass a limit."""
    if isinstance(obj, types.BuiltinMethodType) and isinstance(obj.__self__, str):
        _check_str_method(obj.__self__, obj.__name__, args, kwargs)
        return
    wrapped = getattr(obj, "__wrapped__", None)  # the sandbox's safe str.format / str.format_map
    if isinstance(wrapped, types.BuiltinMethodType) and isinstance(wrapped.__self__, str):
        values: list[Any] = [*args, *kwargs.values()]
        if wrapped.__name__ == "format_map" and args and isinstance(args[0], Mapping):
            values = list(args[0].values())
        _check_str_format(f"str.{wrapped.__name__}()", wrapped.__self__, values)


def bounded_range(*args: int) -> range:
    """``range`` for templates: at most ``MAX_RANGE_ITEMS`` items."""
    numbers = range(*args)
    try:
        count = len(numbers)
    except OverflowError:
        count = MAX_RANGE_ITEMS + 1
    if count > MAX_RANGE_ITEMS:
        shown = ", ".join(str(a) for a in args)
        raise TemplateLimitError(f"exceeds the {MAX_RANGE_ITEMS:,}-item range limit: range({shown}) has {count:,} items")
    return numbers


def bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002 (jinja's names)
    """``lipsum`` for templates: at most ``MAX_LIPSUM_WORDS`` words."""
    if _is_int(n) and _is_int(max) and n * max > MAX_LIPSUM_WORDS:
        raise TemplateLimitError(
            f"exceeds the {MAX_LIPSUM_WORDS:,}-word lipsum limit: lipsum({n}) with up to {max} words a paragraph would make up to {n * max:,} words"
        )
    return generate_lorem_ipsum(n, html, min, max)


# -- filters -------------------------------------------------------------------------------------


def _filter_center(value: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    _check_width("filter 'center'", width)


def _filter_indent(text: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    step = len(width) if isinstance(width, str) else width
    if _is_int(step) and step > 0:
        size = len(str(text)) + (str(text).count("\n") + 1) * step
        if size > MAX_VALUE_CHARS:
            raise _refuse_chars("filter 'indent'", size)


def _filter_replace(text: Any, old: Any = "", new: Any = "", count: Any = None, *_: Any, **__: Any) -> None:
    _check_replace("filter 'replace'", text, old, new, count)


def _filter_join(value: Any, separator: Any = "", *_: Any, **__: Any) -> None:
    if isinstance(value, list | tuple):
        size = _size(value) + len(str(separator)) * max(len(value) - 1, 0)
        if size > MAX_VALUE_CHARS:
            raise _refuse_chars("filter 'join'", size)


def _filter_format(value: Any, *args: Any, **kwargs: Any) -> None:
    if isinstance(value, str):
        _check_percent_format("filter 'format'", value, tuple(args))


def _filter_wordwrap(text: Any, width: Any = 79, breaks: Any = True, wrapstring: Any = None, *_: Any, **kwargs: Any) -> None:
    wrapstring = kwargs.get("wrapstring", wrapstring)
    if isinstance(wrapstring, str) and isinstance(text, str):
        size = len(text) + (len(text) + 1) * len(wrapstring)
        if size > MAX_VALUE_CHARS:
            raise _refuse_chars("filter 'wordwrap'", size)


def _filter_slice(value: Any, slices: Any = 1, *_: Any, **__: Any) -> None:
    if _is_int(slices) and slices > MAX_LIST_ITEMS:
        raise _refuse_items("filter 'slice'", slices)


def _filter_batch(value: Any, linecount: Any = 1, fill_with: Any = None, *_: Any, **kwargs: Any) -> None:
    if kwargs.get("fill_with", fill_with) is not None and _is_int(linecount) and linecount > MAX_LIST_ITEMS:
        raise _refuse_items("filter 'batch'", linecount)


def _filter_tojson(value: Any, indent: Any = None, *_: Any, **__: Any) -> None:
    if _is_int(indent) and indent > 0:
        size = _size(value) * (indent + 1)
        if size > MAX_VALUE_CHARS:
            raise _refuse_chars("filter 'tojson'", size)


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
        _tick()
        if check is not None:
            check(*args[skip:], **kwargs)
        return checked(func(*args, **kwargs), what)

    return bounded


def bound_filters(filters: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Every filter wrapped: the clock ticks, amplifying ones are checked first, each result after."""
    return {name: func if name.startswith(_INTERNAL) else _bounded_filter(name, func) for name, func in filters.items()}


# -- the syntax tree: loops, written text, concatenation -----------------------------------------

_INTERNAL = "limits:"  # not an identifier, so no template can name these filters
_LOOP, _WRITE, _CONCAT = f"{_INTERNAL}loop", f"{_INTERNAL}write", f"{_INTERNAL}concat"


@pass_context  # never folded into a constant at compile time
def _loop_filter(context: Context, iterable: Any) -> Iterator[Any]:
    budget = _BUDGET.get()
    if budget is None:
        yield from iterable
        return
    for item in iterable:
        budget.ticks += 1
        if not budget.ticks % _CHECK_TIME_EVERY and time.thread_time() > budget.deadline:
            raise _over_time()
        yield item


@pass_context
def _write_filter(context: Context, value: Any, literal: int = 0) -> Any:
    """Count ``value`` and ``literal`` characters of template text written next to it."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.written += literal + len(value if isinstance(value, str) else str(value))
        if budget.written > MAX_WRITTEN_CHARS:
            raise TemplateLimitError(
                f"exceeds the {MAX_WRITTEN_CHARS:,}-character limit on the text one render writes (inside macros, loops and blocks included)"
            )
    return value


@pass_context
def _concat_filter(context: Context, value: Any) -> Any:
    return checked(value, "'~'")


class _Bounder(NodeTransformer):
    """Routes loops, written text and ``~`` through the budget (see the module docstring)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(node, _CONCAT, [], [], None, None, lineno=node.lineno)

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        # One tally per expression written; the first also counts the node's literal text.
        self.generic_visit(node)
        literal = sum(len(child.data) for child in node.nodes if isinstance(child, nodes.TemplateData))
        children: list[nodes.Expr] = []
        for child in node.nodes:
            if not isinstance(child, nodes.TemplateData):
                child = nodes.Filter(child, _WRITE, [nodes.Const(literal)], [], None, None, lineno=child.lineno)
                literal = 0
            children.append(child)
        if literal:
            children.append(nodes.Filter(nodes.Const(""), _WRITE, [nodes.Const(literal)], [], None, None, lineno=node.lineno))
        node.nodes = children
        return node


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """jinja's immutable sandbox with the limits of this module kept by its hooks."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = bounded_range
        self.globals["lipsum"] = bounded_lipsum
        self.filters.update({_LOOP: _loop_filter, _WRITE: _write_filter, _CONCAT: _concat_filter})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        check_binop(operator, left, right)
        return checked(self.binop_table[operator](left, right), f"'{operator}'")

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _tick()
        check_call(obj, args, kwargs)
        budget = _BUDGET.get()
        if budget is None:
            return checked(super().call(context, obj, *args, **kwargs), "a call")
        if budget.depth >= MAX_CALL_DEPTH:
            raise TemplateLimitError(f"exceeds the {MAX_CALL_DEPTH}-call nesting limit (a macro that calls itself without end?)")
        budget.depth += 1
        try:
            return checked(super().call(context, obj, *args, **kwargs), "a call")
        finally:
            budget.depth -= 1

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False) -> str:
        # The one place every compiled template passes through (from_string and compile_expression alike).
        return super()._generate(_Bounder().visit(source), name, filename, defer_init=defer_init)


# -- load time: constant parts -------------------------------------------------------------------


class _Unknown:
    pass


_UNKNOWN = _Unknown()
_BINOPS: dict[type[nodes.BinExpr], str] = {
    nodes.Add: "+",
    nodes.Sub: "-",
    nodes.Mul: "*",
    nodes.Div: "/",
    nodes.FloorDiv: "//",
    nodes.Mod: "%",
    nodes.Pow: "**",
}


def check_constants(ast: nodes.Template, binops: Mapping[str, Callable[[Any, Any], Any]]) -> None:
    """Raise TemplateLimitError if a constant part of ``ast`` (``'a' * 10**10``) already breaks a limit."""
    for node in ast.find_all((nodes.BinExpr, nodes.Concat, nodes.Call)):
        _fold(node, binops)


def _fold(node: nodes.Node, binops: Mapping[str, Callable[[Any, Any], Any]]) -> Any:
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.List | nodes.Tuple):
        items = [_fold(item, binops) for item in node.items]
        if any(item is _UNKNOWN for item in items):
            return _UNKNOWN
        return items if isinstance(node, nodes.List) else tuple(items)
    if isinstance(node, nodes.Neg | nodes.Pos):
        value = _fold(node.node, binops)
        if _is_int(value):
            return -value if isinstance(node, nodes.Neg) else value
        return _UNKNOWN
    if isinstance(node, nodes.BinExpr) and type(node) in _BINOPS:
        operator = _BINOPS[type(node)]
        left, right = _fold(node.left, binops), _fold(node.right, binops)
        if left is _UNKNOWN or right is _UNKNOWN:
            return _UNKNOWN
        check_binop(operator, left, right)
        try:
            return checked(binops[operator](left, right), f"'{operator}'")
        except TemplateLimitError:
            raise
        except Exception:
            return _UNKNOWN  # 1/0 and the like fail when the template renders, as before
    if isinstance(node, nodes.Concat):
        parts = [_fold(part, binops) for part in node.nodes]
        if any(part is _UNKNOWN for part in parts):
            return _UNKNOWN
        return checked("".join(str(part) for part in parts), "'~'")
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name in ("range", "lipsum"):
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            return _UNKNOWN
        args = [_fold(arg, binops) for arg in node.args]
        kwargs = {kw.key: _fold(kw.value, binops) for kw in node.kwargs}
        if any(v is _UNKNOWN or not _is_int(v) for v in [*args, *kwargs.values()]):
            return _UNKNOWN
        try:
            if node.node.name == "range":
                return bounded_range(*args, **kwargs)
            bounded_lipsum(*args, **kwargs)
        except TypeError:
            pass  # a wrong argument fails when the template renders, as before
    return _UNKNOWN


__all__ = [
    "MAX_CALL_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_LIPSUM_WORDS",
    "MAX_LIST_ITEMS",
    "MAX_OUTPUT_CHARS",
    "MAX_RANGE_ITEMS",
    "MAX_RENDER_SECONDS",
    "MAX_VALUE_CHARS",
    "MAX_WRITTEN_CHARS",
    "BoundedSandbox",
    "TemplateLimitError",
    "bound_filters",
    "bounded_output",
    "check_constants",
    "end_budget",
    "start_budget",
]
