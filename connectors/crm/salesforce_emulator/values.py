"""Field values: JSON input to stored Python values by field type, and stored values back to JSON/CSV.

Stored forms: text types as ``str``, ``boolean`` as ``bool``, ``int`` as ``int``, other numbers as
``float``, ``date`` as :class:`datetime.date`, ``datetime`` as an aware UTC :class:`datetime.datetime`
at millisecond precision. Salesforce writes datetimes as ``2024-01-31T09:30:00.000+0000``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from .errors import bad_request
from .ids import canonical_id
from .schema import NUMERIC_TYPES, Field

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def format_datetime(value: datetime) -> str:
    """Salesforce's datetime format: ``2024-01-31T09:30:00.000+0000``."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    """An ISO 8601 datetime with ``Z``, ``+hhmm`` or ``+hh:mm`` (none means UTC), or None."""
    match = _DATETIME.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        tz = UTC
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        parsed = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz)
    except ValueError:
        return None
    return truncate_ms(parsed.astimezone(UTC))


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if len(text.strip()) == 10 else None
    except ValueError:
        return None


def truncate_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def from_epoch(seconds: float) -> datetime:
    return truncate_ms(datetime.fromtimestamp(seconds, UTC))


def to_json(field: Field, value: Any) -> Any:
    """A stored value as the REST API writes it."""
    if value is None:
        return None
    if field.type == "datetime":
        return format_datetime(value)
    if field.type == "date":
        return value.isoformat()
    return value


def to_csv(field: Field, value: Any) -> str:
    """A stored value as Bulk API 2.0 writes it in CSV (null is an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and field.type != "double":
        return repr(value)
    return str(to_json(field, value))


def coerce(field: Field, value: Any) -> Any:
    """A JSON value written to ``field``, as stored; raises a 400 SalesforceError when it does not fit."""
    if value is None or (value == "" and field.type not in ("string", "textarea")):
        return None
    kind = field.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _cannot_deserialize(field, value, "boolean")
    if kind in NUMERIC_TYPES:
        if isinstance(value, bool):
            raise _cannot_deserialize(field, value, kind)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _cannot_deserialize(field, value, kind) from None
        if kind == "int":
            if not number.is_integer():
                raise _cannot_deserialize(field, value, kind)
            return int(number)
        return round(number, field.scale) if field.scale else number
    if kind == "date":
        parsed_date = parse_date(str(value)) if isinstance(value, str) else None
        if parsed_date is None:
            raise _cannot_deserialize(field, value, "date", "(YYYY-MM-DD)")
        return parsed_date
    if kind == "datetime":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise _cannot_deserialize(field, value, "datetime", "(YYYY-MM-DDThh:mm:ss.SSS+0000)")
        return parsed
    if not isinstance(value, str | int | float):
        raise _cannot_deserialize(field, value, kind)
    text = str(value)
    if kind in ("reference", "id"):
        normal = canonical_id(text)
        if normal is None:
            raise bad_request("MALFORMED_ID", f"{field.label or field.name}: id value of incorrect type: {text}",
                              [field.name])
        return normal
    if kind == "picklist" and field.restricted and text not in field.picklist:
        raise bad_request("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                          f"{field.label or field.name}: bad value for restricted picklist field: {text}",
                          [field.name])
    if field.length and len(text) > field.length:
        raise bad_request("STRING_TOO_LONG",
                          f"{field.label or field.name}: data value too large: {text[:40]} (max length={field.length})",
                          [field.name])
    return text


def _cannot_deserialize(field: Field, value: Any, kind: str, shape: str = "") -> Exception:
    shown = value if isinstance(value, str) else repr(value)
    where = f" {shape}" if shape else ""
    return bad_request("JSON_PARSER_ERROR",
                       f"Cannot deserialize instance of {kind} from VALUE_STRING value {shown} or value is not "
                       f"in the correct format{where} at [field {field.name}]", [field.name])
