"""A connection's state as JSON lines, to move it between databases: :func:`export_lines`, :func:`import_lines`.

The file (format ``connector-core-state``, version 1) has one JSON object a line:

- a **header**: ``{"format": "connector-core-state", "format_version": 1, "connector_core": "0.2.0",
  "connection": NAME, "schema_revision": "0002", "exported_at": "…Z", "tables": {TABLE: [COLUMN, …]}}``;
- one line per **row** of each table that belongs to the connection (:data:`TABLES`: every table with a
  ``connection`` column except ``leases``, which belong to a process, not to the state):
  ``{"table": TABLE, "row": {COLUMN: VALUE, …}}`` without the connection column, ordered by the table's
  key (strings in code-point order on both back ends), so one state always exports the same bytes;
- a **trailer**: ``{"trailer": {"rows": {TABLE: COUNT, …}}}``. A file cut short has none and is refused.

Runs are numbered 1, 2, 3… in the file, oldest first, and ``pending_writes.run_id`` refers to those
numbers: the database that imports them gives them its own ids (other connections' runs may be there),
and the references follow.

The export reads in one transaction (a consistent snapshot while runs commit: SQLite's WAL, PostgreSQL's
REPEATABLE READ) through server-side cursors, so its memory stays flat however large the ID map. The
import writes in one transaction, fenced with the lease the caller took (:meth:`~.sql.SQLStateStore.acquire_lease`),
and checks the trailer before it commits: all of the file or nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from connector_core._version import __version__
from connector_core.errors import StateError
from connector_core.sync.store.schema import HEAD, revision_of, script
from connector_core.sync.store.sql import SQLStateStore
from connector_core.sync.store.tables import metadata, pending, runs

FORMAT = "connector-core-state"
FORMAT_VERSION = 1
#: The tables of a connection's state, in the file's order.
TABLES: tuple[sa.Table, ...] = tuple(t for t in metadata.tables.values() if "connection" in t.c and t.name != "leases")
_BY_NAME = {table.name: table for table in TABLES}
_CHUNK = 1000  # rows fetched (server-side cursor) or inserted (executemany) at a time
_HINT = "give a file written by `connector-core state export`, whole"


def columns(table: sa.Table) -> list[str]:
    """The columns a row of ``table`` has in the file (all but ``connection``)."""
    return [column.name for column in table.columns if column.name != "connection"]


def count_rows(conn: sa.Connection, connection: str) -> dict[str, int]:
    """Table → how many rows of ``connection`` it holds."""
    return {t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.connection == connection)).scalar_one()) for t in TABLES}


def connections_in(store: SQLStateStore) -> list[str]:
    """The connections that have rows in the state database of ``store``."""
    query = sa.union(*(sa.select(t.c.connection) for t in TABLES))
    with store.engine.connect() as conn:
        conn.execution_options(read_only=True)
        return sorted(str(name) for name in conn.execute(query).scalars())


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False) + "\n"


def _canonical(column: sa.Column[Any]) -> Callable[[Any], Any]:
    """The value as the column's type says (SQLite may hand back 5 for a REAL 5.0): both back ends export alike."""
    kind = column.type
    cast: Callable[[Any], Any] = bool if isinstance(kind, sa.Boolean) else float if isinstance(kind, sa.Float) else int if isinstance(kind, sa.Integer) else str
    return lambda value: None if value is None else cast(value)


# -- export ----------------------------------------------------------------------------------------------


def export_lines(store: SQLStateStore) -> Generator[str, None, None]:
    """Every line of the export of ``store.connection`` (each ending in a newline): header, rows, trailer."""
    name = store.connection
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        else:
            conn.execution_options(read_only=True)  # a deferred BEGIN: one WAL snapshot for every table
        exported_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        yield _dumps({
            "format": FORMAT, "format_version": FORMAT_VERSION, "connector_core": __version__, "connection": name,
            "schema_revision": revision_of(conn), "exported_at": exported_at, "tables": {t.name: columns(t) for t in TABLES},
        })  # fmt: skip
        counts: dict[str, int] = {}
        for table in TABLES:
            counts[table.name] = 0
            for row in _rows(conn, table, name):
                counts[table.name] += 1
                if table is runs:
                    row["id"] = counts[table.name]  # runs are numbered in the file; the importer assigns ids
                yield _dumps({"table": table.name, "row": row})
        yield _dumps({"trailer": {"rows": counts}})


def _rows(conn: sa.Connection, table: sa.Table, name: str) -> Iterator[dict[str, Any]]:
    """The rows of ``name`` in ``table`` by key, through a server-side cursor (PostgreSQL) or SQLite's lazy one."""
    postgres = conn.dialect.name == "postgresql"
    keys = [c.collate("C") if postgres and isinstance(c.type, sa.String) else c for c in table.primary_key.columns if c.name != "connection"]
    selected: list[Any] = [table.c[column] for column in columns(table)]
    if table is pending:  # the run's number in the file: how many of the connection's runs are not later
        earlier = runs.alias("earlier")
        number = sa.select(sa.func.count()).where(earlier.c.connection == name, earlier.c.id <= pending.c.run_id).scalar_subquery()
        known = sa.exists().where(earlier.c.connection == name, earlier.c.id == pending.c.run_id)
        selected = [sa.case((known, number), else_=None).label("run_id") if c.name == "run_id" else c for c in selected]
    statement = sa.select(*selected).where(table.c.connection == name).order_by(*keys).execution_options(yield_per=_CHUNK)
    casts = [(column, _canonical(table.c[column])) for column in columns(table)]
    for row in conn.execute(statement).mappings():
        yield {column: cast(row[column]) for column, cast in casts}


# -- import ----------------------------------------------------------------------------------------------


def _parse(line: str, where: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as exc:
        raise StateError(f"{where}: not JSON ({exc})", hint=_HINT) from None


def read_header(line: str | None, source: str) -> dict[str, Any]:
    """The header (first line) of an export, checked: StateError naming ``source`` and line 1 otherwise."""
    if line is None or not line.strip():
        raise StateError(f"{source}: empty, or its first line is blank: not a connector-core state export", hint=_HINT)
    header = _parse(line, f"{source}:1")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise StateError(f'{source}:1: not a connector-core state export: its first line should be a header with "format": "{FORMAT}"', hint=_HINT)
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise StateError(
            f"{source}:1: {FORMAT} format version {version!r}, which connector-core {__version__} does not know (it reads version {FORMAT_VERSION})",
            hint="import it with the connector-core that exported it, or a newer one",
        )
    if not isinstance(header.get("connection"), str) or not header["connection"]:
        raise StateError(f"{source}:1: the header names no connection", hint=_HINT)
    revision = header.get("schema_revision")
    if revision not in {r.revision for r in script().walk_revisions()}:
        raise StateError(
            f"{source}:1: exported from a state at schema revision {revision!r}, which connector-core {__version__} does not know "
            f"(it knows revisions up to {HEAD})",
            hint="import it with the connector-core that exported it, or a newer one",
        )
    expected = {t.name: columns(t) for t in TABLES}
    if header.get("tables") != expected:
        raise StateError(
            f"{source}:1: the header's tables and columns are not those of this format: {json.dumps(header.get('tables'))[:300]}; expected {json.dumps(expected)}",
            hint=_HINT,
        )
    return header


def _check_value(column: sa.Column[Any], value: Any) -> str | None:
    """What is wrong with ``value`` for ``column`` (None: nothing)."""
    if value is None:
        return None if column.nullable else "may not be null"
    kind = column.type
    if isinstance(kind, sa.Boolean):
        good, expected = isinstance(value, bool), "true or false"
    elif isinstance(kind, sa.Float):
        good, expected = isinstance(value, int | float) and not isinstance(value, bool), "a number"
    elif isinstance(kind, sa.Integer):
        good, expected = isinstance(value, int) and not isinstance(value, bool), "an integer"
    else:
        good, expected = isinstance(value, str), "a string"
    return None if good else f"expected {expected}, got {json.dumps(value)[:80]}"


def import_lines(store: SQLStateStore, lines: Iterable[str], source: str, *, replace: bool = False) -> dict[str, int]:
    """Write the rows of an export into the state of ``store.connection``, in one transaction; table → rows.

    Args:
        store: the target; the caller holds the connection's lease there, which fences the transaction.
        lines: the file's lines after the header (:func:`read_header` read line 1).
        source: the file, in messages (``source:LINE: …``).
        replace: delete the rows the connection has in the target first; without it such rows are refused.

    Raises:
        StateError: the target holds rows of the connection, or a line is not what an export holds, or the
            trailer is missing, or its counts disagree with the rows. Nothing is written then.
    """
    name = store.connection
    counts = dict.fromkeys(_BY_NAME, 0)
    buffers: dict[str, list[dict[str, Any]]] = {table: [] for table in _BY_NAME}
    wanted = {t.name: set(columns(t)) for t in TABLES}
    trailer: dict[str, Any] | None = None
    last = trailer_line = 1
    highest_run = 0  # the highest run number a pending write refers to

    def flush(table: str) -> None:
        rows, buffers[table] = buffers[table], []
        if not rows:
            return
        try:
            conn.execute(_BY_NAME[table].insert(), rows)
        except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
            reason = " ".join(str(exc.orig).split())[:300]
            raise StateError(f"{source}: the database refused its {table} rows ({reason}); nothing was imported", hint=_HINT) from None

    with store.engine.begin() as conn:
        store._fence(conn)  # the store's own check, in this transaction: another run took the lease over -> rolled back
        held = {table: n for table, n in count_rows(conn, name).items() if n}
        if held and not replace:
            what = ", ".join(f"{n} {table}" for table, n in held.items())
            raise StateError(
                f"{store.where}: already holds state of connection '{name}' ({what}); nothing was imported",
                hint="add --replace to replace that connection's state there (its rows only), or import into another database",
            )
        for table_ in TABLES if held else ():
            conn.execute(table_.delete().where(table_.c.connection == name))
        for last, line in enumerate(lines, start=2):
            where = f"{source}:{last}"
            if trailer is not None:
                raise StateError(f"{where}: a line after the trailer", hint=_HINT)
            item = _parse(line, where)
            if isinstance(item, dict) and set(item) == {"trailer"}:
                trailer = item["trailer"] if isinstance(item["trailer"], dict) else {}
                trailer_line = last
                continue
            if not isinstance(item, dict) or set(item) != {"table", "row"} or item["table"] not in _BY_NAME or not isinstance(item["row"], dict):
                raise StateError(f'{where}: expected a row ({{"table": …, "row": {{…}}}}, the table one of {", ".join(_BY_NAME)}) or the trailer', hint=_HINT)
            table, row = item["table"], item["row"]
            if set(row) != wanted[table]:
                extra, missing = sorted(set(row) - wanted[table]), sorted(wanted[table] - set(row))
                raise StateError(f"{where}: a {table} row with {'columns ' + ', '.join(extra) if extra else ''}{'; ' if extra and missing else ''}{'without ' + ', '.join(missing) if missing else ''}", hint=_HINT)
            for column, value in row.items():
                problem = _check_value(_BY_NAME[table].c[column], value)
                if problem:
                    raise StateError(f"{where}: {table} column {column}: {problem}", hint=_HINT)
            counts[table] += 1
            if table == "runs":
                if row.pop("id") != counts["runs"]:
                    raise StateError(f"{where}: runs are numbered 1, 2, 3… in order; expected {counts['runs']}", hint=_HINT)
            elif table == "pending_writes" and row["run_id"] is not None:
                highest_run = max(highest_run, row["run_id"])
            row["connection"] = name
            buffers[table].append(row)
            if len(buffers[table]) >= _CHUNK:
                flush(table)
        if trailer is None:
            raise StateError(f"{source}: ends at line {last} without its trailer line: the file was cut short; nothing was imported", hint=_HINT)
        for table in _BY_NAME:
            flush(table)
        said = trailer.get("rows")
        if said != counts:
            differ = "; ".join(
                f"{table}: the trailer says {said.get(table) if isinstance(said, dict) else None}, the file holds {n}"
                for table, n in counts.items()
                if not isinstance(said, dict) or said.get(table) != n
            )
            raise StateError(f"{source}:{trailer_line}: the trailer's row counts disagree with the rows ({differ or said}); nothing was imported", hint=_HINT)
        if highest_run > counts["runs"]:
            raise StateError(f"{source}: a pending write refers to run {highest_run}; the file holds {counts['runs']} runs", hint=_HINT)
        _renumber_pending(conn, name)
        found = count_rows(conn, name)
        if found != counts:  # what the database holds now, in this transaction
            raise StateError(f"{store.where}: after the import the database holds {found}, the file {counts}; nothing was imported")
    return counts


def _renumber_pending(conn: sa.Connection, name: str) -> None:
    """pending_writes.run_id from the file's run numbers to the ids the database gave the runs (inserted in order)."""
    numbered = (
        sa.select(runs.c.id, sa.func.row_number().over(order_by=runs.c.id).label("number")).where(runs.c.connection == name).subquery("numbered")
    )
    conn.execute(
        pending.update().where(pending.c.connection == name, pending.c.run_id == numbered.c.number).values(run_id=numbered.c.id)
    )


__all__ = ["FORMAT", "FORMAT_VERSION", "TABLES", "columns", "connections_in", "count_rows", "export_lines", "import_lines", "read_header"]
