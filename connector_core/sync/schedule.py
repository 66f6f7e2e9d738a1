"""Connection schedules: an interval (``every 15m``) or a cron expression, and when a run is next due."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connector_core.engine.timeparse import parse_duration

# -- schedules ---------------------------------------------------------------------------------------


def parse_schedule(text: str) -> Any:
    """An interval (``every 15m``) as a timedelta, or a validated cron expression string."""
    stripped = text.strip()
    if stripped.lower().startswith("every "):
        try:
            interval = parse_duration(stripped[6:].strip())
        except ValueError as exc:
            raise ValueError(f"{stripped!r}: {exc}") from None
        if interval.total_seconds() < 1:
            raise ValueError(f"{stripped!r}: the interval must be at least one second")
        return interval
    from croniter import croniter

    if not croniter.is_valid(stripped):
        raise ValueError(f"{stripped!r} is neither a cron expression ('*/15 * * * *') nor an interval ('every 15m')")
    return stripped


def next_due(schedule: str, last_start: dt.datetime | None) -> dt.datetime | None:
    """When a connection last started at ``last_start`` is next due (None: never ran, due now)."""
    if last_start is None:
        return None
    parsed = parse_schedule(schedule)
    if isinstance(parsed, dt.timedelta):
        return last_start + parsed
    from croniter import croniter

    result: dt.datetime = croniter(parsed, last_start).get_next(dt.datetime)
    return result


__all__ = ["next_due", "parse_schedule"]
