"""Airbyte incremental syncs (``DatetimeBasedCursor``, ``IncrementingCountCursor``) as a stream's ``cursor``.

Airbyte sends the bounds of each time window (``stream_interval.start_time`` / ``end_time``, formatted
with ``datetime_format``); connector-core's bounds are ``state.since`` and ``state.until``, datetimes
that a template formats (docs/tutorial.md#templates). Windows of a fixed ``step`` become the cursor's
``window``, whose bounds requests see as ``slice.start`` and ``slice.end``, written in the manifest's
``datetime_format``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector_core.cli.importers.airbyte.context import Conversion, custom_class
from connector_core.cli.importers.airbyte.templates import CONFIG_ONLY, Scope, strip_braces

_EPOCH = ("%s", "%s_as_float", "%ms")
SLICER_HOOK = "write a slicer plugin (docs/plugins.md#stream-components-an-extractor-a-partition-router-a-slicer) and set cursor.slicer"


@dataclass
class Cursor:
    """The stream's ``cursor``, the request parameters that carry its bounds, and what Airbyte's
    interval names become in templates."""

    spec: dict[str, Any] | None = None
    inject: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (RequestOption, template)
    slice_fields: dict[str, str] = field(default_factory=dict)


def bound(name: str, datetime_format: str | None) -> str:
    """The expression giving ``state.since`` / ``state.until`` as Airbyte's ``datetime_format`` writes it."""
    fmt = datetime_format or "%Y-%m-%dT%H:%M:%S.%f%z"
    if fmt in ("%s", "%s_as_float"):
        shown = f"{name} | timestamp"
    elif fmt == "%ms":
        shown = f"{name} | timestamp_ms"
    else:
        shown = f"{name} | format_datetime({fmt.replace('%_ms', '000')!r})"
    return f"({shown}) if {name} else none"


def convert_cursor(node: Any, conv: Conversion, fallback: str) -> Cursor:
    if not isinstance(node, dict):
        return Cursor()
    at = conv.where(node, fallback)
    kind = node.get("type")
    if custom_class(node):
        conv.lost(at, f"custom incremental sync {custom_class(node)}: the stream is read in full each time",
                  "set the stream's `cursor` by hand (docs/spec-reference.md#stream)")
        return Cursor()
    params = conv.resolved.params(node)
    scope = Scope(allowed=CONFIG_ONLY, params=params)
    cursor_field = conv.template(node.get("cursor_field") or params.get("cursor_field"), scope, f"{at}.cursor_field", "cursor_field")
    if not isinstance(cursor_field, str) or "{" in cursor_field:
        if cursor_field is not None:
            conv.lost(f"{at}.cursor_field", f"cursor_field {cursor_field!r} depends on the config: the stream is read in full each time",
                      "set the stream's `cursor` to the field by hand")
        return Cursor()
    if kind == "IncrementingCountCursor":
        spec: dict[str, Any] = {"field": cursor_field, "type": "integer"}
        start = node.get("start_value")
        if start is not None:
            spec["start"] = str(start)
        if node.get("start_value_option"):
            conv.lost(f"{at}.start_value_option", "the saved count is not sent to the API: records are filtered after they are read",
                      "add a query parameter `{{ state.since }}` to the stream's request", "changed")
        return Cursor(spec)
    if kind != "DatetimeBasedCursor":
        conv.lost(at, f"incremental sync {kind!r} is not converted: the stream is read in full each time", SLICER_HOOK)
        return Cursor()
    spec = {"field": cursor_field, "type": "datetime"}
    start = _datetime(node.get("start_datetime"), conv, scope, f"{at}.start_datetime")
    if start is not None:
        spec["start"] = start
    end = _datetime(node.get("end_datetime"), conv, scope, f"{at}.end_datetime")
    if end is not None and "now_utc()" not in end:
        spec["end"] = end
    lookback = node.get("lookback_window")
    if isinstance(lookback, str) and "{" not in lookback:
        spec["lookback"] = lookback
    elif lookback:
        conv.lost(f"{at}.lookback_window", f"lookback_window {lookback!r} is a template: no lookback is used", "set cursor.lookback by hand", "changed")
    fmt = node.get("datetime_format")
    since, until = bound("state.since", fmt), bound("state.until", fmt)
    if node.get("step") and _windows_built_in():
        spec["window"] = _window(node, fmt)
        since, until = _window_bound("slice.start", fmt), _window_bound("slice.end", fmt)
    elif node.get("step"):
        conv.lost(f"{at}.step", f"windows of {node['step']} are not built in: the stream reads from its cursor to now in one window",
                  SLICER_HOOK, "changed")
    if node.get("is_data_feed"):
        conv.lost(f"{at}.is_data_feed", "a data feed (newest first) is read to its last page; records older than the cursor are dropped after reading",
                  "nothing to fix; to stop early, write a paginator plugin", "note")
    for key in ("clamping", "is_compare_strictly", "global_substream_cursor"):
        if node.get(key):
            conv.lost(f"{at}.{key}", f"{key} is not converted", SLICER_HOOK, "changed")
    cursor = Cursor(spec, slice_fields={
        "": "slice.start" if "window" in spec else "state.since",
        node.get("partition_field_start") or "start_time": since,
        node.get("partition_field_end") or "end_time": until,
    })
    for key, expr in (("start_time_option", since), ("end_time_option", until)):
        if isinstance(node.get(key), dict):
            cursor.inject.append((node[key], "{{ " + expr + " }}"))
    return cursor


def _windows_built_in() -> bool:
    from connector_core.engine import spec

    return hasattr(spec, "Window")


def _window(node: dict[str, Any], fmt: str | None) -> dict[str, Any]:
    """``cursor.window``: Airbyte's ``step`` windows, inclusive of one ``cursor_granularity`` when it is given."""
    window: dict[str, Any] = {"step": node["step"]}
    if node.get("cursor_granularity"):
        window["granularity"] = node["cursor_granularity"]
    if fmt and fmt not in _EPOCH:
        window["format"] = fmt.replace("%_ms", "000")
    return window


def _window_bound(name: str, fmt: str | None) -> str:
    """A window's bound as the API wants it: ``slice.start`` is already written with the window's format."""
    if fmt in ("%s", "%s_as_float"):
        return f"{name} | timestamp"
    if fmt == "%ms":
        return f"{name} | timestamp_ms"
    return name


def _datetime(value: Any, conv: Conversion, scope: Scope, at: str) -> str | None:
    if isinstance(value, dict):  # MinMaxDatetime
        if value.get("min_datetime") or value.get("max_datetime"):
            conv.lost(at, "min_datetime / max_datetime are not converted", "clamp the value in the config instead", "changed")
        value = value.get("datetime")
    if value is None:
        return None
    text = conv.template(str(value), scope, at, "the date-time")
    if text is None:
        return None
    inner = strip_braces(text)
    # `config.start | format_datetime('%Y-%m-%d')` formats a date the engine parses anyway: keep the value
    if inner and "| format_datetime(" in inner and inner.startswith("(") and inner.count("|") == 1:
        return "{{ " + inner[1:].split("|", 1)[0].strip() + " }}"
    return str(text)


__all__ = ["Cursor", "bound", "convert_cursor"]
