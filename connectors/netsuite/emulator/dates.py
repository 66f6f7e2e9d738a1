"""Date handling: storage format, NetSuite date preferences, Oracle format masks.

Every date and datetime is stored in SQLite as UTC text ``YYYY-MM-DD HH:MM:SS`` (dates at
midnight), so string comparison orders them correctly.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from sqlglot.dialects.oracle import Oracle
from sqlglot.time import format_time

STORE_FORMAT = "%Y-%m-%d %H:%M:%S"

#: A value SQLite hands a user-defined function, and one such a function may return.
SqlValue = str | bytes | int | float | None


@lru_cache(maxsize=4096)
def _day_prefix(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")


def to_store(ts: float) -> str:
    """Unix seconds → storage text (seconds precision, UTC). Hot path for seeding."""
    t = int(ts)
    day, sec = divmod(t, 86400)
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    return f"{_day_prefix(day)}{h:02d}:{m:02d}:{s:02d}"


def from_store(text: str) -> datetime:
    return datetime.strptime(text[:19], STORE_FORMAT).replace(tzinfo=UTC)


def iso_datetime(text: str) -> str:
    """Storage text → record API datetime. NetSuite returns minute precision (seconds 00) with Z."""
    return f"{text[:10]}T{text[11:16]}:00Z"


def iso_date(text: str) -> str:
    return text[:10]


def parse_body_date(value: str) -> str | None:
    """Accept ``YYYY-MM-DD`` or a full ISO datetime (NetSuite accepts both for date fields)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?", value.strip())
    if not m:
        return None
    try:
        d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return d.strftime("%Y-%m-%d") + " 00:00:00"


def parse_body_datetime(value: str) -> str | None:
    """Accept an ISO-8601 datetime (any offset) or a date; return storage text in UTC."""
    text = value.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime(STORE_FORMAT)


# --- account date preference (e.g. "M/D/YYYY") -------------------------------------------

_PREF_TOKENS = re.compile(r"YYYY|MM|M|DD|D|Mon|MON")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@lru_cache(maxsize=16)
def _pref_parts(pref: str) -> tuple[list[str], re.Pattern[str]]:
    tokens: list[str] = []
    pattern = ""
    pos = 0
    for m in _PREF_TOKENS.finditer(pref):
        pattern += re.escape(pref[pos : m.start()])
        tok = m.group(0)
        tokens.append(tok)
        pattern += {
            "YYYY": r"(\d{4})",
            "MM": r"(\d{1,2})",
            "M": r"(\d{1,2})",
            "DD": r"(\d{1,2})",
            "D": r"(\d{1,2})",
        }.get(tok, r"([A-Za-z]{3})")
        pos = m.end()
    pattern += re.escape(pref[pos:])
    return tokens, re.compile(pattern)


def format_pref(text: str, pref: str) -> str:
    """Storage text → the account date preference, time dropped (raw SuiteQL date columns)."""
    y, mo, d = int(text[0:4]), int(text[5:7]), int(text[8:10])
    out = []
    pos = 0
    for m in _PREF_TOKENS.finditer(pref):
        out.append(pref[pos : m.start()])
        tok = m.group(0)
        out.append(
            {
                "YYYY": f"{y:04d}",
                "MM": f"{mo:02d}",
                "M": str(mo),
                "DD": f"{d:02d}",
                "D": str(d),
                "Mon": _MONTHS[mo - 1],
                "MON": _MONTHS[mo - 1].upper(),
            }[tok]
        )
        pos = m.end()
    out.append(pref[pos:])
    return "".join(out)


def parse_pref(value: str, pref: str) -> date | None:
    """Parse a date written in the account date preference; ``None`` if it does not match."""
    tokens, rx = _pref_parts(pref)
    m = rx.fullmatch(value.strip())
    if not m:
        return None
    parts: dict[str, int] = {}
    for tok, raw in zip(tokens, m.groups(), strict=True):
        if tok in ("Mon", "MON"):
            try:
                parts["m"] = [x.lower() for x in _MONTHS].index(raw.lower()) + 1
            except ValueError:
                return None
        else:
            parts[tok[0].lower()] = int(raw)
    try:
        return date(parts["y"], parts["m"], parts["d"])
    except (KeyError, ValueError):
        return None


def date_store(d: date, days: int = 0) -> str:
    return (d + timedelta(days=days)).strftime("%Y-%m-%d") + " 00:00:00"


# --- Oracle format masks (TO_CHAR / TO_DATE) ----------------------------------------------

@lru_cache(maxsize=256)
def oracle_to_strftime(mask: str) -> str:
    """Translate an Oracle format mask to a strftime pattern (via sqlglot's mapping)."""
    out = format_time(mask, Oracle.TIME_MAPPING, Oracle.TIME_TRIE) or mask
    return re.sub(r"\b(?:AM|PM|A\.M\.|P\.M\.)", "%p", out)


def to_char(value: object, py_format: str | None) -> str | None:
    """SQLite UDF body for ``TO_CHAR``: format stored datetimes, stringify anything else."""
    if value is None:
        return None
    if py_format is None or not isinstance(value, str):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if py_format == STORE_FORMAT and len(value) >= 19:
        return value[:19]  # the common TO_CHAR(col, 'YYYY-MM-DD HH24:MI:SS') read
    try:
        if len(value) >= 19:
            dt = datetime(int(value[0:4]), int(value[5:7]), int(value[8:10]),
                          int(value[11:13]), int(value[14:16]), int(value[17:19]))
        else:
            dt = datetime(int(value[0:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return value
    return dt.strftime(py_format)


def strptime_store(value: object, py_format: str | None) -> str | None:
    """SQLite UDF body for ``TO_DATE``/``TO_TIMESTAMP``: parse into storage text."""
    if value is None:
        return None
    text = str(value)
    fmt = py_format or "%Y-%m-%d"
    try:
        return datetime.strptime(text, fmt).strftime(STORE_FORMAT)
    except ValueError as err:
        raise ValueError(f"Unparseable date: \"{text}\"") from err


def trunc(value: SqlValue) -> SqlValue:
    """SQLite UDF body for ``TRUNC``: dates to midnight, numbers toward zero."""
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        return value[:10] + " 00:00:00"
    if isinstance(value, float):
        return float(int(value))
    return value
