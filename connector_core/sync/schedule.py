"""Connection schedules: an interval (``every 15m``) or a cron expression, and when a run is next due."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connector_core.engine.timeparse import parse_duration

# -- schedules ---------------------------------------------------------------------------------------

#: The longest interval: a schedule is read against dates, and a run a year apart is what cron's
#: yearly expressions give; anything longer is a typo (and overflowed datetime arithmetic).
MAX_INTERVAL = dt.timedelta(days=366)


def parse_schedule(text: str) -> Any:
    """An interval (``every 15m``) as a timedelta, or a validated cron expression string.

    Raises ValueError (which the connection's model reports at ``schedule``) for anything else,
    including an interval over :data:`MAX_INTERVAL` and a cron expression that never fires (31 February).
    """
    stripped = text.strip()
    shown = stripped if len(stripped) <= 60 else stripped[:57] + "..."
    if stripped.lower().startswith("every "):
        try:
            interval = parse_duration(stripped[6:].strip())
        except ValueError as exc:
            if "too long a duration" not in str(exc):
                raise ValueError(f"{shown!r}: {exc}") from None
            interval = dt.timedelta.max
        if interval.total_seconds() < 1:
            raise ValueError(f"{shown!r}: the interval must be at least one second")
        if interval > MAX_INTERVAL:
            raise ValueError(f"{shown!r}: the interval must be at most {MAX_INTERVAL.days} days (use a cron expression such as '0 3 1 1 *' for a yearly run)")
        return interval
    from croniter import croniter

    if not croniter.is_valid(stripped):
        raise ValueError(f"{shown!r} is neither a cron expression ('*/15 * * * *') nor an interval ('every 15m')")
    try:
        croniter(stripped, dt.datetime(2024, 1, 1, tzinfo=dt.UTC)).get_next(dt.datetime)
    except (ValueError, OverflowError):  # croniter's CroniterBadDateError is a ValueError
        raise ValueError(f"{shown!r}: this cron expression never fires (a day that does not exist in its months?)") from None
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


__all__ = ["MAX_INTERVAL", "next_due", "parse_schedule"]
