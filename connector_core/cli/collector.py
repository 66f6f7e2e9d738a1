"""The garbage collector tuned for one command.

A command's start-up creates some 40,000 long-lived objects (modules, classes, the loaded spec) and
almost no garbage, yet the collector's default thresholds scan them again and again while they are
made: a quarter of the collector's work in a short ``read``, and more in a long one, where every later
full collection walks them again. So collections are rarer while the command starts, and once the
connector is open those objects are frozen (``gc.freeze``): the collector no longer looks at them, and
garbage made while records flow is collected as before. A command that opens no connector and runs
until stopped (``ui``, ``worker``, ``sandbox``) calls :func:`started` once it serves.

Only the ``connector-core`` executable does this (``cli.run``): a process that calls the command line in
process (a test, a script) keeps its collector as it is.
"""

from __future__ import annotations

import gc

#: Allocations between young-generation collections while the command starts (the default is 700).
START_UP_THRESHOLD = 200_000

_usual: tuple[int, int, int] | None = None  # the thresholds before start_up(); None: not tuned


def start_up() -> None:
    """Collect rarely while modules are imported and the spec is loaded."""
    global _usual
    _usual = gc.get_threshold()
    gc.set_threshold(START_UP_THRESHOLD, *_usual[1:])


def started() -> None:
    """The long-lived objects exist: freeze them and collect as usual from here on (nothing unless
    :func:`start_up` tuned this process)."""
    global _usual
    if _usual is None:
        return
    gc.freeze()
    gc.set_threshold(*_usual)
    _usual = None


__all__ = ["START_UP_THRESHOLD", "start_up", "started"]
