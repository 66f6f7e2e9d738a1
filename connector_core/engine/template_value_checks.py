"""The checks that keep the values a template builds within the limits, made before an operation runs.

``check_binop`` and ``check_call`` refuse ``*``, ``**``, ``+``, ``%`` and the str methods that pad or
repeat when their result would pass a limit; ``checked`` measures every result after; ``bounded_range``
and ``bounded_lipsum`` stand in for jinja's ``range`` and ``lipsum``. The sandbox (``template_sandbox``),
the filter wrappers (``template_filter_checks``) and the load-time check of a template's constant parts
(``template_constants``) all apply these.
"""

from __future__ import annotations

import math
import re
import string
import types
from collections.abc import Iterable, Mapping
from typing import Any

from jinja2.utils import generate_lorem_ipsum

from connector_core.engine.template_budget import TemplateLimitError

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

_LOG10_2 = math.log10(2)
_PERCENT_WIDTH = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")  # width and precision
_DIGIT_RUN = re.compile(r"\d+")

# -- sizes ---------------------------------------------------------------------------------------


def is_int(value: Any) -> bool:
    return isinstance(value, int)


def _digits(value: int) -> float:
    return math.log10(abs(value)) if value else 0.0


def size_of(value: Any, limit: int = MAX_VALUE_CHARS) -> int:
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


def refuse_chars(what: str, count: float, *, made: bool = False) -> TemplateLimitError:
    verb = "made" if made else "would make"
    return TemplateLimitError(
        f"exceeds the {MAX_VALUE_CHARS:,}-character value limit: {what} {verb} {count:,.0f} characters"
    )


def refuse_items(what: str, count: float, *, made: bool = False) -> TemplateLimitError:
    verb = "made" if made else "would make"
    return TemplateLimitError(
        f"exceeds the {MAX_LIST_ITEMS:,}-item list limit: {what} {verb} {count:,.0f} items"
    )


def _refuse_digits(what: str, digits: float, *, made: bool = False) -> TemplateLimitError:
    verb = "made" if made else "would make"
    return TemplateLimitError(
        f"exceeds the {MAX_INT_DIGITS:,}-digit integer limit: {what} {verb} a number of about {digits:,.0f} digits"
    )


def checked(value: Any, what: str) -> Any:
    """Return ``value`` if a template may hold it; measured after every operation the hooks see."""
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            raise refuse_chars(what, len(value), made=True)
    elif isinstance(value, list | tuple):
        if len(value) > MAX_LIST_ITEMS:
            raise refuse_items(what, len(value), made=True)
    elif isinstance(value, int) and value.bit_length() * _LOG10_2 > MAX_INT_DIGITS:
        raise _refuse_digits(what, value.bit_length() * _LOG10_2, made=True)
    return value


def check_width(what: str, width: Any) -> None:
    if is_int(width) and width > MAX_VALUE_CHARS:
        raise refuse_chars(what, width)


def _check_repeat(what: str, sequence: Any, times: int) -> None:
    if times <= 0:
        return
    if isinstance(sequence, str):
        if len(sequence) * times > MAX_VALUE_CHARS:
            raise refuse_chars(what, len(sequence) * times)
        return
    if len(sequence) * times > MAX_LIST_ITEMS:
        raise refuse_items(what, len(sequence) * times)
    size = size_of(sequence) * times
    if size > MAX_VALUE_CHARS:
        raise refuse_chars(what, size)


# -- operators -----------------------------------------------------------------------------------

_SEQUENCES = (str, list, tuple)


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``left <operator> right`` before it runs if its result would pass a limit."""
    what = f"'{operator}'"
    if operator == "**":
        if is_int(left) and is_int(right) and right > 0 and abs(left) > 1:
            digits = right * _digits(left)
            if digits > MAX_INT_DIGITS:
                raise _refuse_digits(what, digits)
    elif operator == "*":
        if is_int(left) and is_int(right):
            digits = _digits(left) + _digits(right)
            if digits > MAX_INT_DIGITS + 1:
                raise _refuse_digits(what, digits)
        elif isinstance(left, _SEQUENCES) and is_int(right):
            _check_repeat(what, left, right)
        elif is_int(left) and isinstance(right, _SEQUENCES):
            _check_repeat(what, right, left)
    elif operator == "+":
        if isinstance(left, str) and isinstance(right, str):
            if len(left) + len(right) > MAX_VALUE_CHARS:
                raise refuse_chars(what, len(left) + len(right))
        elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
            if len(left) + len(right) > MAX_LIST_ITEMS:
                raise refuse_items(what, len(left) + len(right))
            size = size_of(left) + size_of(right)
            if size > MAX_VALUE_CHARS:
                raise refuse_chars(what, size)
    elif operator == "%" and isinstance(left, str):
        check_percent_format(what, left, right)


def check_percent_format(what: str, template: str, values: Any) -> None:
    """``'%*d' % (10**9, 1)`` and ``'%1000000000d'`` pad to a width; refuse widths past the limit."""
    if "%" not in template:
        return
    for width in _PERCENT_WIDTH.findall(template):
        for number in width:
            if number.isdigit():
                check_width(what, int(number))
    if "*" in template:
        for value in values if isinstance(values, tuple) else (values,):
            check_width(what, value)


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
            check_width(what, int(number))
        if "{" in spec:
            for value in args:
                check_width(what, value)


# -- calls: str methods, range, lipsum -----------------------------------------------------------


def _check_str_method(text: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    what = f"str.{name}()"
    if name in ("center", "ljust", "rjust", "zfill") and args:
        check_width(what, args[0])
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        if is_int(tabsize) and tabsize > 0:
            size = len(text) + text.count("\t") * tabsize
            if size > MAX_VALUE_CHARS:
                raise refuse_chars(what, size)
    elif name == "replace" and len(args) >= 2:
        check_replace(what, text, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count", -1))
    elif name == "join" and args and isinstance(args[0], list | tuple):
        size = size_of(args[0]) + len(text) * max(len(args[0]) - 1, 0)
        if size > MAX_VALUE_CHARS:
            raise refuse_chars(what, size)


def check_replace(what: str, text: Any, old: Any, new: Any, count: Any) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)) or len(new) <= len(old):
        return
    found = len(text) + 1 if old == "" else text.count(old)
    if is_int(count) and count >= 0:
        found = min(found, count)
    size = len(text) + found * (len(new) - len(old))
    if size > MAX_VALUE_CHARS:
        raise refuse_chars(what, size)


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
        raise TemplateLimitError(
            f"exceeds the {MAX_RANGE_ITEMS:,}-item range limit: range({shown}) has {count:,} items"
        )
    return numbers


def bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002 (jinja's names)
    """``lipsum`` for templates: at most ``MAX_LIPSUM_WORDS`` words."""
    if is_int(n) and is_int(max) and n * max > MAX_LIPSUM_WORDS:
        raise TemplateLimitError(
            f"exceeds the {MAX_LIPSUM_WORDS:,}-word lipsum limit: lipsum({n}) with up to {max} words a paragraph would make up to {n * max:,} words"
        )
    return generate_lorem_ipsum(n, html, min, max)


__all__ = [
    "MAX_INT_DIGITS",
    "MAX_LIPSUM_WORDS",
    "MAX_LIST_ITEMS",
    "MAX_RANGE_ITEMS",
    "MAX_VALUE_CHARS",
    "bounded_lipsum",
    "bounded_range",
    "check_binop",
    "check_call",
    "check_percent_format",
    "check_replace",
    "check_width",
    "checked",
    "is_int",
    "refuse_chars",
    "refuse_items",
    "size_of",
]
