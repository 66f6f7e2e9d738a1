"""The Airbyte protocol's messages, built as plain dicts (no Airbyte package at run time).

The shapes follow the protocol's published models (``airbyte-protocol-models``); the tests parse every
line this module builds with them. Errors become TRACE messages whose ``failure_type`` tells the
platform what to do: ``config_error`` (the user fixes the config or the spec), ``transient_error``
(retry later) or ``system_error`` (anything else).
"""

from __future__ import annotations

import time
import traceback
from typing import Any, Literal

from connector_core.cli.interop.offers import StreamOffer

FailureType = Literal["config_error", "transient_error", "system_error"]
StreamStatus = Literal["STARTED", "RUNNING", "COMPLETE", "INCOMPLETE"]

_LOG_LEVELS = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "ERROR": "ERROR", "CRITICAL": "FATAL"}


def now_ms() -> int:
    return int(time.time() * 1000)


def spec_message(config_schema: dict[str, Any], *, supports_incremental: bool) -> dict[str, Any]:
    """SPEC: the config's JSON Schema, with ``airbyte_secret`` wherever the spec says ``secret``, so the
    platform masks those fields in its UI and logs."""
    return {
        "type": "SPEC",
        "spec": {
            "connectionSpecification": _mark_secrets(config_schema),
            "supportsIncremental": supports_incremental,
            "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"] if supports_incremental else ["overwrite", "append"],
        },
    }


def _mark_secrets(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_mark_secrets(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    marked = {key: _mark_secrets(value) for key, value in schema.items()}
    if schema.get("secret") is True:
        marked["airbyte_secret"] = True
    return marked


def catalog_stream(offer: StreamOffer) -> dict[str, Any]:
    """One AirbyteStream: the cursor and the primary key are the spec's (source-defined)."""
    stream: dict[str, Any] = {
        "name": offer.name,
        "json_schema": offer.json_schema,
        "supported_sync_modes": ["full_refresh", "incremental"] if offer.cursor else ["full_refresh"],
        "source_defined_cursor": bool(offer.cursor),
        "is_resumable": bool(offer.cursor),
    }
    if offer.cursor_path:
        stream["default_cursor_field"] = offer.cursor_path
    if offer.primary_key:
        stream["source_defined_primary_key"] = offer.key_paths
    return stream


def catalog_message(offers: dict[str, StreamOffer]) -> dict[str, Any]:
    return {"type": "CATALOG", "catalog": {"streams": [catalog_stream(offer) for offer in offers.values()]}}


def connection_status(ok: bool, message: str) -> dict[str, Any]:
    return {"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED" if ok else "FAILED", "message": message}}


def _descriptor(stream: str, namespace: str | None) -> dict[str, Any]:
    return {"name": stream, "namespace": namespace} if namespace else {"name": stream}


def record_message(stream: str, data: dict[str, Any], emitted_at: int, namespace: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"stream": stream, "data": data, "emitted_at": emitted_at}
    if namespace:
        record["namespace"] = namespace
    return {"type": "RECORD", "record": record}


def state_message(stream: str, state: dict[str, Any], records_since_last: int, namespace: str | None = None) -> dict[str, Any]:
    """A per-stream STATE; ``sourceStats.recordCount`` counts the records since the stream's last one."""
    return {
        "type": "STATE",
        "state": {
            "type": "STREAM",
            "stream": {"stream_descriptor": _descriptor(stream, namespace), "stream_state": state},
            "sourceStats": {"recordCount": float(records_since_last)},
        },
    }


def stream_status_message(stream: str, status: StreamStatus, namespace: str | None = None) -> dict[str, Any]:
    return {
        "type": "TRACE",
        "trace": {
            "type": "STREAM_STATUS",
            "emitted_at": float(now_ms()),
            "stream_status": {"stream_descriptor": _descriptor(stream, namespace), "status": status},
        },
    }


def log_message(level_name: str, message: str) -> dict[str, Any]:
    return {"type": "LOG", "log": {"level": _LOG_LEVELS.get(level_name, "INFO"), "message": message}}


def failure_of(exc: BaseException) -> tuple[FailureType, bool]:
    """The failure type of an error, and whether it is a bug of ours (then the stack trace helps)."""
    from connector_core.errors import (
        AuthError,
        ConfigError,
        ConnectorError,
        InterpolationError,
        OperationError,
        PluginError,
        RetriableHTTPError,
        SpecError,
        StateUnavailableError,
    )

    if isinstance(exc, SpecError | ConfigError | OperationError | InterpolationError | PluginError | AuthError):
        return "config_error", False
    if isinstance(exc, RetriableHTTPError | StateUnavailableError):
        return "transient_error", False
    if isinstance(exc, ConnectorError):
        return "system_error", False
    return "system_error", True


def trace_error_message(exc: BaseException, *, stream: str | None = None, namespace: str | None = None) -> dict[str, Any]:
    """TRACE ERROR for ``exc``: the located message a user acts on, and a stack trace only for a bug.
    Every text passes the process's secret mask."""
    from connector_core.engine.redaction import redact

    failure, is_bug = failure_of(exc)
    message = f"internal error: {type(exc).__name__}: {exc}" if is_bug else str(exc)
    error: dict[str, Any] = {"message": redact(message), "internal_message": type(exc).__name__, "failure_type": failure}
    if is_bug:
        error["stack_trace"] = redact("".join(traceback.format_exception(exc)))
    if stream is not None:
        error["stream_descriptor"] = _descriptor(stream, namespace)
    return {"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": float(now_ms()), "error": error}}


__all__ = [
    "FailureType",
    "catalog_message",
    "catalog_stream",
    "connection_status",
    "failure_of",
    "log_message",
    "now_ms",
    "record_message",
    "spec_message",
    "state_message",
    "stream_status_message",
    "trace_error_message",
]
