"""Template filters for Salesforce specs: SOQL literals and names, and record ids.

Every value that goes into a SOQL query passes through one of these, never as raw text: strings are
quoted with SOQL's backslash escapes (not SQL's doubled quote), dates and date-times take SOQL's literal
forms, and field and object names must be plain API names (``Name``, ``NetSuite_Id__c``,
``Account.Name``), so that no input can change the shape of a query.

Record ids come in a 15-character case-sensitive form and an 18-character form whose last three
characters encode the case of the first fifteen; :func:`id18` turns either into the 18-character one,
so the two forms of one record compare equal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any

from connector_core.engine.interpolation import parse_datetime

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_PATH = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")
_ID = re.compile(r"[A-Za-z0-9]{15}([A-Za-z0-9]{3})?")
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# SOQL's escapes in quoted strings (Salesforce SOQL reference, "Quoted String Escape Sequences").
_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def soql_string(value: Any) -> str:
    """A SOQL string literal: ``O'Brien`` becomes ``'O\\'Brien'``; None becomes ``null``."""
    if value is None:
        return "null"
    text = str(value).replace("\x00", "")
    return "'" + "".join(_ESCAPES.get(char, char) for char in text) + "'"


def soql_like(value: Any) -> str:
    """A SOQL string literal for LIKE, with ``%`` and ``_`` in the value matched literally."""
    if value is None:
        return "null"
    inner = soql_string(value)[1:-1]
    return "'" + inner.replace("%", "\\%").replace("_", "\\_") + "'"


def soql_datetime(value: Any, up: bool = False) -> str:
    """A SOQL date-time literal in UTC, e.g. ``2024-01-31T09:00:00Z`` (no quotes).

    SOQL literals stop at the second while stamps have milliseconds: a fraction is dropped, or with
    ``up`` (for an upper bound) rounded up to the next second, so that a bound never leaves out a
    record it should include.
    """
    moment = value if isinstance(value, dt.datetime) else parse_datetime(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if up and moment.microsecond:
        moment += dt.timedelta(seconds=1)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_date(value: Any) -> str:
    """A SOQL date literal, e.g. ``2024-01-31`` (no quotes)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text).isoformat()
    return soql_datetime(text)[:10]


def soql_name(value: Any) -> str:
    """An object or field API name (``Account``, ``NetSuite_Id__c``); anything else is refused."""
    text = str(value).strip()
    if not _NAME.fullmatch(text):
        raise ValueError(f"{value!r} is not a Salesforce API name (letters, digits and underscores, starting with a letter)")
    return text


def soql_fields(values: Any) -> str:
    """A SELECT list from field names or relationship paths (``Account.Name``), each once, in order."""
    names = [values] if isinstance(values, str) else list(values or [])
    if not names:
        raise ValueError("the field list is empty; a SOQL query selects at least one field")
    chosen: dict[str, str] = {}
    for name in names:
        text = str(name).strip()
        if not _PATH.fullmatch(text):
            raise ValueError(f"{name!r} is not a Salesforce field name or relationship path (e.g. Name, Account.Name)")
        chosen.setdefault(text.lower(), text)  # SOQL names are case-insensitive: a repeated field is an error
    return ", ".join(chosen.values())


def soql_list(values: Iterable[Any]) -> str:
    """A parenthesised list of string literals for IN, e.g. ``('a', 'b')``."""
    quoted = [soql_string(v) for v in values]
    if not quoted:
        raise ValueError("an IN list needs at least one value")
    return "(" + ", ".join(quoted) + ")"


def id18(value: Any) -> str:
    """The 18-character form of a 15- or 18-character record id (the case-safe checksum appended)."""
    text = str(value).strip()
    if not _ID.fullmatch(text):
        raise ValueError(f"{value!r} is not a Salesforce record id (15 or 18 letters and digits)")
    base = text[:15]
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, char in enumerate(base[start : start + 5]) if char.isupper())
        suffix += _CHECKSUM_ALPHABET[bits]
    if len(text) == 18 and text[15:].upper() != suffix:
        raise ValueError(f"{value!r} is not a Salesforce record id: its last three characters are not the checksum of the first fifteen")
    return base + suffix


def without(mapping: Any, *names: str) -> dict[str, Any]:
    """``mapping`` without the named keys, in any letter case (an upsert's body must not repeat its key field)."""
    drop = {n.lower() for n in names}
    return {k: v for k, v in dict(mapping or {}).items() if str(k).lower() not in drop}


FILTERS: dict[str, Callable[..., Any]] = {
    "soql_string": soql_string,
    "soql_like": soql_like,
    "soql_datetime": soql_datetime,
    "soql_date": soql_date,
    "soql_name": soql_name,
    "soql_fields": soql_fields,
    "soql_list": soql_list,
    "sf_id18": id18,
    "sf_without": without,
}

__all__ = ["FILTERS", "id18", "soql_date", "soql_datetime", "soql_fields", "soql_like", "soql_list", "soql_name", "soql_string", "without"]
