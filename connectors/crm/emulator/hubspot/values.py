"""Value formats: ISO timestamps, epoch milliseconds, numbers, and per-type write coercion."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@lru_cache(maxsize=8192)
def _day_prefix(day: int) -> str:
    t = time.gmtime(day * 86_400)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"


def iso_from_ms(ms: int) -> str:
    """Epoch ms -> ``2024-01-01T00:00:00.000Z``."""
    day, rem = divmod(int(ms), 86_400_000)
    h, rem = divmod(rem, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, frac = divmod(rem, 1000)
    return f"{_day_prefix(day)}{h:02d}:{m:02d}:{s:02d}.{frac:03d}Z"


def date_from_ms(ms: int) -> str:
    t = time.gmtime(int(ms) // 1000)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"


@lru_cache(maxsize=200_000)
def ms_from_text(text: str) -> int | None:
    """Parse epoch-ms digits, ``YYYY-MM-DD`` or ISO 8601 into epoch ms; ``None`` if unparseable."""
    text = text.strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    if not _ISO_RE.match(text):
        return None
    candidate = text[:-1] + "+00:00" if text.endswith("Z") else text
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(round(parsed.timestamp() * 1000))


@lru_cache(maxsize=200_000)
def number_from_text(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def format_number(value: Any) -> str | None:
    """Canonical string for a number property, or ``None`` if not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        text = value.strip()
        if number_from_text(text) is None or text.lower() in ("nan", "inf", "-inf", "infinity"):
            return None
        return text
    return None


class CoercionError(ValueError):
    """A value that does not fit its property type; carries HubSpot's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def coerce(prop_type: str, field_type: str, value: Any, options: list[str] | None, name: str) -> str | None:
    """Convert an incoming JSON value to the stored string form; ``None`` clears the value."""
    if value is None:
        return None
    if isinstance(value, str) and value == "":
        return None
    if prop_type == "number":
        out = format_number(value)
        if out is None:
            raise CoercionError("INVALID_FLOAT", f"{value} was not a valid number.")
        return out
    if prop_type == "bool":
        text = str(value).strip().lower() if not isinstance(value, bool) else ("true" if value else "false")
        if text not in ("true", "false"):
            raise CoercionError("INVALID_BOOLEAN", f"{value} was not a valid boolean.")
        return text
    if prop_type == "datetime":
        ms = _to_ms(value)
        if ms is None:
            raise CoercionError("INVALID_DATETIME", f"{value} was not a valid long or ISO 8601 datetime.")
        return iso_from_ms(ms)
    if prop_type == "date":
        if isinstance(value, str) and _DATE_RE.match(value.strip()):
            ms = ms_from_text(value.strip())
            if ms is None:
                raise CoercionError("INVALID_DATE", f"{value} was not a valid date.")
            return value.strip()
        ms = _to_ms(value)
        if ms is None:
            raise CoercionError("INVALID_DATE", f"{value} was not a valid date.")
        rem = ms % 86_400_000
        if rem:
            h, rem2 = divmod(rem, 3_600_000)
            m, rem3 = divmod(rem2, 60_000)
            s, milli = divmod(rem3, 1000)
            raise CoercionError("INVALID_DATE", f"{value} is at {h}:{m:02d}:{s:02d}.{milli:03d} UTC, not midnight!")
        return date_from_ms(ms)
    if prop_type == "enumeration":
        text = value if isinstance(value, str) else ("true" if value is True else "false" if value is False else str(value))
        if options:
            parts = text.split(";") if field_type == "checkbox" else [text]
            for part in parts:
                if part not in options:
                    allowed = ", ".join(options)
                    raise CoercionError(
                        "INVALID_OPTION", f"{part} was not one of the allowed options: [{allowed}]"
                    )
        return text
    # string and anything else: stringify
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise CoercionError("INVALID_STRING", f"{name} must be a string value.")
    return str(value)


def _to_ms(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        return ms_from_text(value)
    return None
