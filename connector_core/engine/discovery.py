"""`check` and `discover`: the connection test and the catalog of streams and operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, overload

from connector_core.engine.connection_check import check_streams, with_check_hint
from connector_core.engine.reader import StreamReader
from connector_core.errors import ConnectorError

if TYPE_CHECKING:
    from connector_core.engine.session import ConnectorSession
    from connector_core.engine.spec import ConnectorSpec



@dataclass
class CheckResult:
    """What ``check`` found: whether the connection works, in words, with details for machines."""

    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def check_connection(connector: ConnectorSession) -> CheckResult:
    """Make the spec's test call, or read one page of its check stream(s), or of its first stream."""
    check = connector.spec.check
    if check is not None and check.streams:
        return CheckResult(*check_streams(connector, check))
    try:
        return _check_once(connector)
    except ConnectorError as exc:
        if check is not None and check.hint:
            with_check_hint(connector, check, exc)
        raise


def _check_once(connector: ConnectorSession) -> CheckResult:
    check = connector.spec.check
    if check is not None and check.request is not None:
        args = connector.build_request(check.request, {}, "check.request")
        # a person is waiting: a few quick retries, not the patient policy of a scheduled sync
        policy = connector.spec.defaults.retries
        quick = policy.model_copy(update={"attempts": min(3, policy.attempts), "max_backoff": min(5.0, policy.max_backoff)})
        response = connector.http.send(
            args.method, args.path, params=args.params, headers=args.headers, json=args.json if args.has_json else _unset(),
            data=args.data, files=args.files, timeout=args.timeout, retry_policy=quick,
        )
        return CheckResult(True, f"{connector.name}: connection works ({args.method} {connector.redactor.text(args.path)} answered {response.status_code})")
    visible = (name for name, spec in connector.spec.streams.items() if not spec.hidden)
    stream = check.stream if check is not None and check.stream else next(visible, None)
    if stream is None:
        raise ConnectorError(f"connector '{connector.name}' declares neither a check request nor a stream to try")
    count = sum(1 for _ in StreamReader(connector, stream, None, limit=1, internal=True).records())
    return CheckResult(True, f"{connector.name}: connection works (stream '{stream}' answered, {count} record(s) on its first page)")


def _unset() -> Any:
    from connector_core.engine.http import _UNSET

    return _UNSET


def infer_schema(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON Schema describing sample records: one entry per field, with every type seen."""
    properties: dict[str, set[str]] = {}
    for record in records:
        for key, value in record.items():
            properties.setdefault(key, set()).add(_json_type(value))
    return {
        "type": "object",
        "properties": {k: {"type": sorted(v)[0] if len(v) == 1 else sorted(v)} for k, v in sorted(properties.items())},
    }


def _has_session(connector: object) -> bool:
    """Whether discovery may make requests (a connector bound to a config, not a spec alone)."""
    from connector_core.engine.session import ConnectorSession

    return isinstance(connector, ConnectorSession)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class SpecSource(Protocol):
    """Enough of a connector for discovery without sampling: its spec and name, no config."""

    @property
    def spec(self) -> ConnectorSpec[Any, Any, Any, Any, Any]: ...

    @property
    def name(self) -> str: ...


@overload
def discover_streams(connector: ConnectorSession, *, sample: bool = False) -> dict[str, Any]: ...


@overload
def discover_streams(connector: SpecSource, *, sample: Literal[False] = False) -> dict[str, Any]: ...


def discover_streams(connector: ConnectorSession | SpecSource, *, sample: bool = False) -> dict[str, Any]:
    """Streams with their schemas and sync modes, and operations with their input schemas.

    A stream without a declared schema gets one inferred from its first records when ``sample`` is true
    (which needs a connector session: the overloads accept a bare :class:`SpecSource` only without it).
    A stream whose schema is ``{from: ...}`` gets it from the API when ``connector`` is a session (once
    per session), and ``{"type": "object"}`` from a bare spec.
    """
    streams = []
    for name, stream in connector.spec.streams.items():
        if stream.hidden:
            continue  # a helper that only feeds other streams' partitions
        schema = stream.record_schema
        inferred = from_api = False
        if schema is not None and not isinstance(schema, dict):  # `schema: {from: ...}`: the API describes the records
            schema = None
            if _has_session(connector):
                from connector_core.engine.dynamic_schema import fetched_schema

                schema, from_api = fetched_schema(cast("ConnectorSession", connector), name), True
        elif schema is None and sample:
            session = cast("ConnectorSession", connector)  # sampling is only allowed with one (the overloads)
            records = list(StreamReader(session, name, None, limit=50).records())
            schema, inferred = infer_schema(records), True
        cursor = stream.cursor if isinstance(stream.cursor, str) else (stream.cursor.field if stream.cursor else None)
        key = stream.primary_key
        streams.append(
            {
                "name": name,
                "description": stream.description,
                "json_schema": schema or {"type": "object"},
                "schema_inferred": inferred,
                "schema_from_api": from_api,
                "sync_modes": ["full_refresh", "incremental"] if cursor else ["full_refresh"],
                "cursor_field": cursor,
                "primary_key": [key] if isinstance(key, str) else key,
            }
        )
    operations = [
        {"name": name, "kind": op.kind, "description": op.description, "input_schema": op.input}
        for name, op in connector.spec.operations.items()
    ]
    return {"connector": connector.name, "version": connector.spec.version, "streams": streams, "operations": operations}


__all__ = ["SpecSource", "check_connection", "discover_streams", "infer_schema"]
