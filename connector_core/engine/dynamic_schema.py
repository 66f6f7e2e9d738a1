"""Record schemas fetched from the API when ``discover`` runs: a stream's ``schema: {from: ...}``.

The request is made once per connector session (a run), its reply handed to the plugin transform the
spec names, and the JSON Schema at ``path`` in the result checked against its metaschema before it is
used. What ``validate`` checks beforehand is in :mod:`~connector_core.engine.dynamic_schema_checks`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import orjson

from connector_core.engine.http import response_body
from connector_core.engine.paths import get_path
from connector_core.engine.spec import DynamicSchema, SchemaFrom
from connector_core.errors import ConnectorError

if TYPE_CHECKING:
    from connector_core.engine.session import ConnectorSession, RequestArgs

log = logging.getLogger("connector_core.engine.dynamic_schema")

# One cache per session (a run): streams described by the same request share one reply, and a closed
# session's schemas go with it.
_FETCHED: WeakKeyDictionary[ConnectorSession, dict[str, dict[str, Any]]] = WeakKeyDictionary()


def fetched_schema(connector: ConnectorSession, stream_name: str) -> dict[str, Any]:
    """The JSON Schema of a stream whose ``schema`` is ``{from: ...}``, fetched on first use."""
    declared = connector.spec.streams[stream_name].record_schema
    if not isinstance(declared, DynamicSchema):
        raise ConnectorError(f"stream '{stream_name}' declares no schema to fetch from the API")
    source = declared.source
    where = f"streams.{stream_name}.schema.from"
    args = connector.build_request(source.request, {"stream": stream_name}, f"{where}.request")
    key = orjson.dumps([args.method, args.path, args.params, source.transform, source.path], option=orjson.OPT_SORT_KEYS, default=str).decode()
    cache = _FETCHED.setdefault(connector, {})
    if key not in cache:
        cache[key] = _fetch(connector, stream_name, source, args)
    schema = cache[key]
    return _narrowed(connector, stream_name, schema, source.fields) if source.fields is not None else schema


def _fetch(connector: ConnectorSession, stream_name: str, source: SchemaFrom, args: RequestArgs) -> dict[str, Any]:
    where = f"streams.{stream_name}.schema.from"
    try:
        body = response_body(connector.send(args))
    except ConnectorError as exc:
        # the error's class is kept (an auth failure stays one); only where it happened is added
        exc.message = f"stream '{stream_name}': its schema could not be fetched ({where}.request, {args.method} {connector.redactor.text(args.path)}): {exc.message}"
        exc.args = (exc.message,)
        exc.hint = exc.hint or f"check {where}.request against the API, or give the stream a written `schema`"
        raise
    result = body
    if source.transform is not None:
        transform = connector.registry.transforms.get(source.transform)
        if transform is None:
            raise ConnectorError(f"{where}.transform: no plugin transform '{source.transform}' is installed", hint="install the plugin that provides it")
        result = transform(body) if isinstance(body, dict) else None
        if result is None:
            raise ConnectorError(
                f"{where}.transform: '{source.transform}' gave nothing for the reply of {args.method} {connector.redactor.text(args.path)}: {_excerpt(connector, body)}",
                hint="the reply is not what the transform expects; check the request's path",
            )
    schema = get_path(result, source.path) if source.path else result
    if not isinstance(schema, dict):
        at = f"'{source.path}' in " if source.path else ""
        raise ConnectorError(
            f"{where}: {at}the reply of {args.method} {connector.redactor.text(args.path)} is not a JSON Schema (a mapping): {_excerpt(connector, schema)}",
            hint=f"check {where}.path" + (f" and what the transform '{source.transform}' returns" if source.transform else ""),
        )
    problems = schema_problems(schema)
    if problems:
        raise ConnectorError(
            f"{where}: the schema built from {args.method} {connector.redactor.text(args.path)} is not a valid JSON Schema: {'; '.join(problems[:3])}",
            hint="the API's description could not be turned into a JSON Schema; check the transform",
        )
    log.info("%s: schema fetched from %s %s (%d properties)", where, args.method, connector.redactor.text(args.path), len(schema.get("properties") or {}))
    return schema


def _narrowed(connector: ConnectorSession, stream_name: str, schema: dict[str, Any], fields: list[str] | str) -> dict[str, Any]:
    """The schema with only the properties the stream reads (in the order they are listed)."""
    where = f"streams.{stream_name}.schema.from"
    wanted = connector.render(fields, {"stream": stream_name}, f"{where}.fields") if isinstance(fields, str) else fields
    if not isinstance(wanted, list) or not all(isinstance(name, str) for name in wanted):
        raise ConnectorError(f"{where}.fields gave {_excerpt(connector, wanted)}, not a list of field names", hint=f"make {where}.fields a list, or a template giving one")
    described = schema.get("properties") or {}
    missing = [name for name in wanted if name not in described]
    if missing:
        log.warning("%s: the API does not describe the field(s) %s; they are left out of the schema", where, ", ".join(missing))
    kept = {**schema, "properties": {name: described[name] for name in dict.fromkeys(wanted) if name in described}}
    if "required" in schema:
        required = [name for name in schema["required"] if name in kept["properties"]]
        if required:
            kept["required"] = required
        else:
            del kept["required"]
    return kept


def schema_problems(schema: dict[str, Any]) -> list[str]:
    """What makes ``schema`` an invalid JSON Schema (against the metaschema it names, else 2020-12)."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    errors = sorted(cls(cls.META_SCHEMA).iter_errors(schema), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}" for error in errors]


def _excerpt(connector: ConnectorSession, value: Any) -> str:
    return connector.redactor.text(str(value))[:200]


__all__ = ["fetched_schema", "schema_problems"]
