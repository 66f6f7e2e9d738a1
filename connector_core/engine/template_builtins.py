"""What every template may use, shared by :mod:`~connector_core.engine.interpolation` (plain lookups) and
:mod:`~connector_core.engine.jinja_templates` (everything else): the names of a template's context, the
built-in filters and globals, and the escaping of values inserted into request paths.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from connector_core.engine.clock import default_now
from connector_core.engine.timeparse import parse_datetime, parse_duration

#: Names a template may refer to. Which ones hold values depends on where the template sits.
CONTEXT_NAMES = frozenset(
    {"config", "state", "partition", "page", "record", "input", "response", "stream", "source", "target"}
    | {"records", "result", "error", "items"}
    # connection mappings: flow `let` values, `checks`, `each` list elements
    | {"let", "mapped", "item", "index"}
    # export jobs: the job (id, create and poll replies), a result file
    | {"job", "file"}
    # a plugin slicer's slice; a `remove` transform's condition on each field
    | {"slice", "field", "value"}
)


def is_template(value: object) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _format_datetime(value: Any, fmt: str = "%Y-%m-%dT%H:%M:%SZ", tz: str | None = None) -> str:
    moment = parse_datetime(value)
    if tz:
        from zoneinfo import ZoneInfo

        moment = moment.astimezone(ZoneInfo(tz))
    else:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime(fmt)


def _timestamp_ms(value: Any) -> int:
    return int(parse_datetime(value).timestamp() * 1000)


def _timestamp(value: Any) -> int:
    return int(parse_datetime(value).timestamp())


def _sql_string(value: Any) -> str:
    """Quote a value as a SQL string literal: ``O'Brien`` becomes ``'O''Brien'``."""
    if value is None:
        return "NULL"
    text = str(value).replace("\x00", "")
    return "'" + text.replace("'", "''") + "'"


def _sql_number(value: Any) -> str:
    """Render a value as a SQL number literal, refusing anything that is not a number."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return repr(value)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return text
    raise ValueError(f"{value!r} is not a number")


def _wrap_each(values: Any, key: str) -> list[dict[str, Any]]:
    """``['1', '2'] | wrap_each('id')`` gives ``[{'id': '1'}, {'id': '2'}]`` (request bodies listing ids)."""
    return [{key: value} for value in values]


def _now_utc() -> dt.datetime:
    return default_now()


def _duration_seconds(value: Any) -> float:
    return parse_duration(value).total_seconds()


BUILTIN_FILTERS: dict[str, Callable[..., Any]] = {
    "format_datetime": _format_datetime,
    "parse_datetime": parse_datetime,
    "timestamp_ms": _timestamp_ms,
    "timestamp": _timestamp,
    "sql_string": _sql_string,
    "sql_number": _sql_number,
    "urlencode_path": lambda v: quote(str(v), safe=""),
    "b64encode": lambda v: base64.b64encode(str(v).encode()).decode(),
    "sha256": lambda v: hashlib.sha256(str(v).encode()).hexdigest(),
    "json": lambda v: json.dumps(v, separators=(",", ":"), default=str),
    "wrap_each": _wrap_each,
}

BUILTIN_GLOBALS: dict[str, Any] = {
    "now_utc": _now_utc,
    "uuid4": lambda: str(uuid.uuid4()),
    "duration_seconds": _duration_seconds,
}


class TrustedPath(str):
    """A value marked by the ``path`` filter: inserted into a request path with its slashes kept."""


def escape_path_value(value: Any) -> str:
    if isinstance(value, TrustedPath):
        return str(value)
    return quote(str(value), safe="")


__all__ = [
    "BUILTIN_FILTERS",
    "BUILTIN_GLOBALS",
    "CONTEXT_NAMES",
    "TrustedPath",
    "escape_path_value",
    "is_template",
]
