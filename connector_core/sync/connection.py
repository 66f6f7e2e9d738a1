"""Connection files: which two connectors a sync joins, its flows, field mappings and policies.

A connection file (YAML or JSON) names a ``source`` and a ``destination`` connector with their configs,
and a list of ``flows``. Each flow reads one stream of one side and writes each record, mapped, through
a write operation of the other side. ``specs/connection.schema.json`` is generated from the models here.

:func:`load_connection` validates the file against the models, then checks what the models cannot
(streams and operations exist, mapped fields exist in the operation's input schema, constants have the
declared type, templates compile) and reports every problem at once with ``file:line:col``.
"""

from __future__ import annotations

import os
import re
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

#: The state database for connections whose file names none (`--state` and `state:` come first).
STATE_URL_ENV = "CONNECTOR_CORE_STATE_URL"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(value: str) -> bool:
    """``value`` is a URL (``postgresql://…``, ``sqlite:///…``), not a file path."""
    return bool(_URL.match(value))


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
        """The SQLite file of this connection's state when ``state`` names a file (or by default)."""
        if self.connection.state and not is_url(self.connection.state):
            state = Path(self.connection.state).expanduser()
            return state if state.is_absolute() else self.path.parent / state
        return self.default_state_path()

    def default_state_path(self) -> Path:
        return self.path.parent / ".state" / f"{self.connection.name}.sqlite"

    def state_location(self, override: str | Path | None = None) -> str | Path:
        """Where this connection's state lives, first found: ``override`` (``--state``, relative to the
        working directory), the file's ``state`` (relative to the file), ``$CONNECTOR_CORE_STATE_URL``,
        else ``.state/<name>.sqlite`` beside the file. A URL (``postgresql://…``, ``sqlite:///…``) is
        returned as text: it is not a path."""
        if override:
            return override if isinstance(override, Path) or is_url(override) else Path(override).expanduser()
        if self.connection.state:
            return self.connection.state if is_url(self.connection.state) else self.state_path()
        from_env = os.environ.get(STATE_URL_ENV)
        if from_env:
            return from_env if is_url(from_env) else Path(from_env).expanduser()
        return self.default_state_path()

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




__all__ = ["STATE_URL_ENV", "LoadedConnection", "connection_schema", "is_connection_document", "is_url", "load_connection", "other_side"]
