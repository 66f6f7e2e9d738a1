"""Connection files: which two connectors a sync joins, its flows, field mappings and policies.

A connection file (YAML or JSON) names a ``source`` and a ``destination`` connector with their configs,
and a list of ``flows``. Each flow reads one stream of one side and writes each record, mapped, through
a write operation of the other side. ``specs/connection.schema.json`` is generated from the models here.

:func:`load_connection` validates the file against the models, then checks what the models cannot
(streams and operations exist, mapped fields exist in the operation's input schema, constants have the
declared type, templates compile) and reports every problem at once with ``file:line:col``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector_core.engine.documents import Document, load_document
from connector_core.engine.loader import LoadedSpec
from connector_core.engine.registry import Registry
from connector_core.engine.validation import validate_document
from connector_core.errors import SpecError
from connector_core.sync.checks import ConnectionChecker
from connector_core.sync.models import Connection, Endpoint

# -- loading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedConnection:
    """A validated connection with the specs of both sides and where its files are."""

    connection: Connection
    document: Document
    specs: dict[str, LoadedSpec]
    roles: dict[str, str]

    @property
    def path(self) -> Path:
        return self.document.path

    @property
    def name(self) -> str:
        return self.connection.name

    def state_path(self) -> Path:
        if self.connection.state:
            state = Path(self.connection.state).expanduser()
            return state if state.is_absolute() else self.path.parent / state
        return self.path.parent / ".state" / f"{self.connection.name}.sqlite"

    def endpoint(self, side: str) -> Endpoint:
        return self.connection.source if side == "source" else self.connection.destination

    def config_for(self, side: str) -> dict[str, Any] | Path | None:
        """The side's config, with relative paths (the file, or {file: ...} values) resolved beside this file."""
        config = self.endpoint(side).config
        base = self.path.parent
        if isinstance(config, str):
            path = Path(config).expanduser()
            return path if path.is_absolute() else base / path
        if config is None:
            return None
        resolved: dict[str, Any] = _absolute_file_refs(config, base)  # a mapping stays a mapping
        return resolved


def _absolute_file_refs(value: Any, base: Path) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "file" in value and isinstance(value["file"], str):
            path = Path(value["file"]).expanduser()
            return {"file": str(path if path.is_absolute() else base / path)}
        return {k: _absolute_file_refs(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_absolute_file_refs(v, base) for v in value]
    return value


def is_connection_document(doc: Document) -> bool:
    return isinstance(doc.data, dict) and bool({"source", "destination", "flows"} & set(doc.data))


def load_connection(path: str | Path, registry: Registry) -> LoadedConnection:
    """Load and fully check a connection file; raise SpecError listing every located problem."""
    doc = load_document(path)
    try:
        connection: Connection = validate_document(Connection, doc, "connection")
    except SpecError as exc:
        raise _without_shape_noise(exc) from None
    checker = ConnectionChecker(doc, connection, registry)
    problems = checker.run()
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        raise SpecError(f"{doc.path}: invalid connection ({len(problems)} {noun})", problems=problems, spec_path=str(doc.path))
    return LoadedConnection(connection, doc, checker.specs, checker.roles)


def _without_shape_noise(exc: SpecError) -> SpecError:
    """A rule mapping with a problem also fails the plain-string form of the rule: report only the former."""
    located = [p.split(": expected a string, got a mapping", 1)[0] for p in exc.problems if ": expected a string, got a mapping" in p]
    noise = {prefix for prefix in located if sum(p.startswith(prefix + ": ") for p in exc.problems) > 1}
    kept = [p for p in exc.problems if not any(p.startswith(prefix + ": expected a string") for prefix in noise)]
    if len(kept) == len(exc.problems):
        return exc
    noun = "problem" if len(kept) == 1 else "problems"
    return SpecError(f"{exc.spec_path}: invalid connection ({len(kept)} {noun})", problems=kept, spec_path=exc.spec_path, hint=exc.hint)


def connection_schema() -> dict[str, Any]:
    from connector_core.engine.schema import SCHEMA_DIALECT, json_schema

    schema = json_schema(Connection)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": "https://connector-core.dev/schemas/connection.schema.json",
        "title": "connector-core connection",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def other_side(side: str) -> str:
    return "destination" if side == "source" else "source"




__all__ = ["LoadedConnection", "connection_schema", "is_connection_document", "load_connection", "other_side"]
