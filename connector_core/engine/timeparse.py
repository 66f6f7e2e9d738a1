"""Durations and date-times as users write them: durations ``30``, ``"90s"``, ``"15m"``, ``"2h"``, ``"1d"`` or
ISO ``"P1DT2H"``; date-times as ISO 8601 text, epoch seconds or epoch milliseconds."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_SIMPLE = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h|d|w)?\s*$")
_ISO = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_duration(value: Any) -> dt.timedelta:
    """Read a duration; a bare number means seconds. Raises ValueError with the accepted forms, or when
    the duration is longer than Python's timedelta can hold (about 2.7 million years)."""
    if isinstance(value, dt.timedelta):
        return value
    try:
        return _parse_duration(value)
    except OverflowError:
        shown = value if not isinstance(value, str) or len(value) <= 40 else value[:37] + "..."
        raise ValueError(f"{shown!r} is too long a duration (at most {dt.timedelta.max.days:,} days)") from None


def _parse_duration(value: Any) -> dt.timedelta:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.timedelta(seconds=float(value))
    if isinstance(value, str):
        simple = _SIMPLE.match(value)
        if simple:
            return dt.timedelta(seconds=float(simple["n"]) * _UNIT_SECONDS[simple["unit"]])
        iso = _ISO.match(value.strip().upper())
        if iso and any(iso.groupdict().values()):
            parts = {k: float(v) for k, v in iso.groupdict().items() if v}
            return dt.timedelta(
                weeks=parts.get("w", 0),
                days=parts.get("d", 0),
                hours=parts.get("h", 0),
                minutes=parts.get("m", 0),
                seconds=parts.get("s", 0),
            )
    raise ValueError(f"{value!r} is not a duration; use seconds (30), '90s', '15m', '2h', '1d' or ISO 'P1DT2H'")


def parse_datetime(value: Any) -> dt.datetime:
    """Parse ISO 8601 text, epoch seconds or epoch milliseconds into an aware UTC datetime."""
    if type(value) is str and len(value) >= 10 and value[4:5] == "-":
        try:  # the common case, on the per-record path: ISO text that fromisoformat reads as is
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, int | float) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        number = float(value)
        if abs(number) > 1e11:  # milliseconds
            number /= 1000
        parsed = dt.datetime.fromtimestamp(number, tz=dt.UTC)
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        if " " in text and "T" not in text:
            text = text.replace(" ", "T", 1)
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"cannot read {value!r} as a date-time; expected ISO 8601 (2024-05-01T12:00:00Z), epoch seconds or epoch milliseconds"
            ) from None
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    else:
        raise ValueError(f"cannot read {value!r} as a date-time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


__all__ = ["parse_datetime", "parse_duration"]
