"""Time windows: the built-in, declarative slicer of a date-time cursor (``cursor.window``).

The range from the read's lower bound (the saved cursor less the lookback, else ``start``) to its
upper bound (``end``, else the engine's clock) is cut into windows of ``step``, read one after the
other by the same loop as a plugin's slicer (:mod:`connector_core.engine.slicing`). Window *i* begins
at ``lower + i * step`` (counted from the lower bound, so month steps do not drift past short months)
and ends where the next begins, or one ``granularity`` before it when the API's bounds are inclusive.
Once a window is read to its last page the cursor moves up to the window's end and is checkpointed,
so an interrupted read resumes at the first unfinished window.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from dateutil.relativedelta import relativedelta

from connector_core.engine.paths import set_path
from connector_core.engine.timeparse import parse_duration

#: ISO 8601 periods with calendar parts (years, months), which have no fixed length.
_CALENDAR = re.compile(r"^P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+)S)?)?$")

Step: TypeAlias = dt.timedelta | relativedelta


def parse_step(value: Any) -> Step:
    """A window's length: a duration (``7d``, ``12h``, ``P7D``, seconds) or a calendar period (``P1M``,
    ``P3M``, ``P1Y``). Raises ValueError, naming the accepted forms, for anything else or a zero step."""
    if isinstance(value, str):
        calendar = _CALENDAR.match(value.strip().upper())
        if calendar and (calendar["y"] or calendar["mo"]):
            parts = {k: int(v) for k, v in calendar.groupdict().items() if v}
            step = relativedelta(
                years=parts.get("y", 0), months=parts.get("mo", 0), weeks=parts.get("w", 0), days=parts.get("d", 0),
                hours=parts.get("h", 0), minutes=parts.get("mi", 0), seconds=parts.get("s", 0),
            )
            return step
    try:
        duration = parse_duration(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a window step; use a duration ('7d', '12h', 'P7D', seconds) or calendar months/years ('P1M', 'P3M', 'P1Y')"
        ) from None
    if duration <= dt.timedelta(0):
        raise ValueError(f"{value!r} is not a window step: a window must last longer than zero")
    return duration


@dataclass(frozen=True)
class TimeWindow:
    """One window: its bounds as date-times, and as the mapping requests see as ``slice``."""

    start: dt.datetime
    end: dt.datetime
    piece: dict[str, str]


def time_windows(
    step: Step, granularity: float | None, fmt: str, lower: dt.datetime, upper: dt.datetime
) -> Iterator[TimeWindow]:
    """The windows covering ``[lower, upper]`` in order (none when ``lower`` is not before ``upper``)."""
    gap = dt.timedelta(seconds=granularity or 0)
    index = 0
    start = lower
    while start < upper:
        following = lower + (step * (index + 1) if isinstance(step, dt.timedelta) else _times(step, index + 1))
        end = min(following - gap, upper)
        yield TimeWindow(start, end, {"start": start.strftime(fmt), "end": end.strftime(fmt)})
        index += 1
        start = following


def _times(step: relativedelta, count: int) -> relativedelta:
    return relativedelta(
        years=step.years * count, months=step.months * count, days=step.days * count,
        hours=step.hours * count, minutes=step.minutes * count, seconds=step.seconds * count,
    )


def stamp_records(pages: Iterator[list[Any]], fields: Mapping[str, str], piece: dict[str, str]) -> Iterator[list[Any]]:
    """Pages whose records carry the window's bounds (``fields``: record field → ``start`` or ``end``)."""
    for records in pages:
        for record in records:
            if isinstance(record, dict):
                for name, bound in fields.items():
                    set_path(record, name, piece[bound])
        yield records


def check_window(problem: Callable[[tuple[Any, ...], str], None], at: tuple[Any, ...], cursor: Any) -> None:
    """Report what would make a windowed read fail at run time: no start, a cursor that is not a
    date-time, a plugin slicer beside the window, a granularity as long as a window."""
    window = getattr(cursor, "window", None)
    if window is None:
        return
    where = (*at, "window")
    if cursor.type != "datetime":
        problem((*at, "type"), f"a windowed read needs a date-time cursor, not type '{cursor.type}'; drop `type` or the `window`")
    if cursor.slicer is not None:
        problem(where, "a stream takes `window` or a plugin's `slicer`, not both; keep one")
    if not cursor.start:
        problem(where, "a windowed read needs `start` (where the first window begins on a first run), e.g. start: '{{ config.start_date }}'")
    step = parse_step(window.step)
    if window.granularity and isinstance(step, dt.timedelta) and window.granularity >= step.total_seconds():
        problem((*where, "granularity"), f"granularity ({window.granularity:g}s) must be shorter than the step ({window.step}): every window would be empty")


__all__ = ["TimeWindow", "check_window", "parse_step", "stamp_records", "time_windows"]
