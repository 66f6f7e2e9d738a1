"""What one template render has spent: CPU time, text written, calls nested, output.

``start_budget`` opens a budget for the render that follows (in the current context, so renders in
worker threads each have their own); the sandbox's hooks and the filters it adds to a template's syntax
tree then ``tick``, count written text and enter and leave calls, and a budget over its limit raises
:class:`TemplateLimitError`. Outside a render (no budget open) nothing is counted.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TypeVar

#: Characters a text template may render to (a single ``{{ expression }}`` keeps its value and type).
MAX_OUTPUT_CHARS = 1_000_000
#: Characters one render may write in all, counting text written inside macros, loops and blocks.
MAX_WRITTEN_CHARS = 10_000_000

_CHECK_TIME_EVERY = 8  # hook calls between two looks at the clock (a power of two)

_Item = TypeVar("_Item")


class TemplateLimitError(Exception):
    """A render went over a limit. The message reads on from "template '...' at <where> "."""


@dataclass
class Budget:
    """The limits of one render and what it has spent of them."""

    seconds: float
    max_call_depth: int
    deadline: float
    ticks: int = 0
    depth: int = 0
    written: int = 0

    def over_time(self) -> TemplateLimitError:
        return TemplateLimitError(f"exceeds the {self.seconds:g}-second render time limit")

    def write(self, chars: int) -> None:
        self.written += chars
        if self.written > MAX_WRITTEN_CHARS:
            raise TemplateLimitError(
                f"exceeds the {MAX_WRITTEN_CHARS:,}-character limit on the text one render writes (inside macros, loops and blocks included)"
            )

    def enter_call(self) -> None:
        if self.depth >= self.max_call_depth:
            raise TemplateLimitError(
                f"exceeds the {self.max_call_depth}-call nesting limit (a macro that calls itself without end?)"
            )
        self.depth += 1

    def leave_call(self) -> None:
        self.depth -= 1


_BUDGET: ContextVar[Budget | None] = ContextVar("connector_core_template_budget", default=None)


def start_budget(seconds: float, max_call_depth: int) -> Token[Budget | None]:
    """Count time, written text and call depth for the render that follows; pass the token to ``end_budget``."""
    return _BUDGET.set(Budget(seconds, max_call_depth, time.thread_time() + seconds))


def end_budget(token: Token[Budget | None]) -> None:
    _BUDGET.reset(token)


def current_budget() -> Budget | None:
    """The open render's budget; None outside a render."""
    return _BUDGET.get()


def tick() -> None:
    """Count one step of the open render, if any; every few steps, refuse it if its CPU time is up."""
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.ticks += 1
    if not budget.ticks % _CHECK_TIME_EVERY and time.thread_time() > budget.deadline:
        raise budget.over_time()


def counted(iterable: Iterable[_Item]) -> Iterator[_Item]:
    """``iterable``, each item a step of the open render, if any."""
    budget = _BUDGET.get()
    if budget is None:
        yield from iterable
        return
    for item in iterable:  # tick() inlined: this runs for every iteration of every loop
        budget.ticks += 1
        if not budget.ticks % _CHECK_TIME_EVERY and time.thread_time() > budget.deadline:
            raise budget.over_time()
        yield item


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


__all__ = [
    "MAX_OUTPUT_CHARS",
    "MAX_WRITTEN_CHARS",
    "Budget",
    "TemplateLimitError",
    "bounded_output",
    "counted",
    "current_budget",
    "end_budget",
    "start_budget",
    "tick",
]
