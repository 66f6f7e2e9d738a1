"""What one template render may cost: CPU time, text, value sizes, integer size and call depth.

A spec template is code written by whoever wrote the spec; a slip (``range`` loops nested one level too
deep, ``10**10**10``) or a hostile spec must fail with a located error, never hang or exhaust the
process. The limits are far above anything a request, a mapping or a message needs; a template that
reaches one is refused with an :class:`TemplateLimitError`, which the interpolator turns into an
``InterpolationError`` (at render) or a ``SpecError`` (at load) naming the template and where it sits.

How each limit is kept, without signals or threads (renders run in worker threads), and where:

- **Repetition** is checked *before* it happens, in jinja's own sandbox hooks (``template_sandbox``):
  ``call_binop`` for ``*``, ``**``, ``+`` and ``%``; ``call`` for str methods that pad or repeat
  (``center``, ``zfill``, ``replace``, ``join``, ``format`` ...) and for ``range`` and ``lipsum``
  (the checks are in ``template_value_checks``); a wrapper around every filter for the filters that do
  (``center``, ``indent``, ``replace``, ``join``, ``format``, ``wordwrap``, ``batch``, ``slice``,
  ``tojson``; ``template_filter_checks``). Every result of those hooks is measured after too, so no
  value a template builds outgrows the limits by feeding a result back in (``namespace`` in a loop).
- **Time** is the CPU time of the rendering thread, looked at every few hook calls and loop iterations
  (``template_budget``): each ``{% for %}`` iterates through a counting wrapper, added to the
  template's syntax tree when it compiles, together with a tally of every piece of text written (inside
  macros and ``{% set %}`` blocks too) and a measure of each ``~`` concatenation.
- **Recursion** is the nesting of calls made from templates (a macro that calls itself).
- **Constants**: where a template's constant parts already break a limit (``'a' * 10**10``,
  ``range(10**6)``, ``lipsum(10**6)``), loading the spec fails, so ``validate`` reports it
  (``template_constants``).

This module is the address the rest of the engine imports them from.
"""

from __future__ import annotations

from contextvars import Token

from connector_core.engine import template_budget
from connector_core.engine.template_budget import (
    MAX_OUTPUT_CHARS,
    MAX_WRITTEN_CHARS,
    Budget,
    TemplateLimitError,
    bounded_output,
    end_budget,
)
from connector_core.engine.template_constants import check_constants
from connector_core.engine.template_filter_checks import bound_filters
from connector_core.engine.template_sandbox import BoundedSandbox
from connector_core.engine.template_value_checks import (
    MAX_INT_DIGITS,
    MAX_LIPSUM_WORDS,
    MAX_LIST_ITEMS,
    MAX_RANGE_ITEMS,
    MAX_VALUE_CHARS,
)

# The two limits each render's budget starts with; read when it starts, so setting them here takes effect.
#: CPU seconds one render may take (one template string, in the thread that renders it).
MAX_RENDER_SECONDS = 1.0
#: Calls nested inside calls made from templates: macros calling macros, ``caller()``, ``loop(...)``.
MAX_CALL_DEPTH = 100


def start_budget() -> Token[Budget | None]:
    """Count time, written text and call depth for the render that follows; pass the token to ``end_budget``."""
    return template_budget.start_budget(MAX_RENDER_SECONDS, MAX_CALL_DEPTH)


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
