"""An export's ``cast: schema``: the text values of a job's downloads given the types the stream's JSON
Schema names, so a read through the job gives what a read of pages does (a CSV's values are all text).

Only top-level properties typed ``integer``, ``number`` or ``boolean`` (alone or beside ``"null"``) are
converted, and only text values of them; the conversion is the ``cast`` transform's
(:func:`~connector_core.engine.transforms.cast_value`). A schema ``from`` the API is fetched when the job
is chosen, through the run's schema cache (:func:`~connector_core.engine.dynamic_schema.fetched_schema`),
so a read of pages asks for nothing more. What ``validate`` checks is in
:mod:`~connector_core.engine.export_checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connector_core.engine.paths import get_path
from connector_core.engine.schema_casts import schema_casts
from connector_core.engine.spec import DynamicSchema
from connector_core.engine.transforms import CAST_FAILURES, cast_value, not_castable
from connector_core.errors import ConnectorError

if TYPE_CHECKING:
    from connector_core.engine.session import ConnectorSession

RecordCast = Callable[[Any], Any]

def export_cast(connector: ConnectorSession, stream_name: str, stream: Any) -> RecordCast | None:
    """What converts one downloaded record of ``stream``, or None when its export has no ``cast``.

    Called when the job is chosen, before it is created: a schema that cannot be fetched starts no job."""
    if stream.export.cast != "schema":
        return None
    at = ("streams", stream_name, "export", "cast")
    where = ".".join(at)
    declared = stream.record_schema
    if isinstance(declared, DynamicSchema):
        from connector_core.engine.dynamic_schema import fetched_schema

        schema = fetched_schema(connector, stream_name)
    elif isinstance(declared, dict):
        schema = declared
    else:  # validate refuses it; a spec built in code may still get here
        raise ConnectorError(f"{where}: the stream has no `schema` to cast by", hint=f"give streams.{stream_name} a `schema`, or remove {where}")
    casts = schema_casts(schema)
    if not casts:
        return None
    key = stream.primary_key
    keys = [key] if isinstance(key, str) else list(key or [])

    def cast(record: Any) -> Any:
        if not isinstance(record, dict):
            return record
        for name, kind in casts.items():
            value = record.get(name)
            if not isinstance(value, str):
                continue  # null, absent, or already a JSON value
            try:
                if value == "":  # no text means nothing: null, or false, is the decoder's to say
                    raise ValueError("empty")
                record[name] = cast_value(value, kind)
            except CAST_FAILURES:
                raise _not_converted(connector, at, stream, name, value, kind, _record_key(record, keys)) from None
        return record

    return cast


def _record_key(record: dict[str, Any], keys: list[str]) -> str:
    if not keys:
        return ""
    shown = ", ".join(f"{k}={get_path(record, k)!r}" for k in keys)
    return f" of record {shown[:120]}"


def _not_converted(connector: ConnectorSession, at: tuple[str, ...], stream: Any, name: str, value: str, kind: str, record: str) -> ConnectorError:
    where = ".".join(at)
    located = connector.loaded.document.where(at)
    if value == "":
        decoder = ".".join(at[:2]) + (".export.decoder" if stream.export.decoder is not None else ".decoder")
        hint = f"an empty value is read as null only when the decoder says so: add `nulls: [\"\"]` to {decoder}"
    else:
        hint = f"the stream's schema types '{name}' as {kind} but the job wrote {value!r}; check the field's type in the schema (or the API's description of it)"
    redact = connector.redactor.text
    return ConnectorError(f"{located}: {where}: field '{name}'{record} {redact(not_castable(value, kind))}", hint=redact(hint))


__all__ = ["export_cast"]
