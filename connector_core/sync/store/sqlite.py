"""The embedded state store: one SQLite file (WAL, ``synchronous=FULL``) through SQLAlchemy Core.

Kept as one module (a little over 500 lines): it is one back end's transaction class and store class;
the checks of the file before SQLite opens it are in :mod:`.checks`, the tables in :mod:`.tables`.
"""


from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event

from connector_core.engine.redaction import redact
from connector_core.errors import StateError
from connector_core.sync.store.protocol import DeadLetter, MappedRecord, OutboxEntry, RunRecord, owner_alive
from connector_core.sync.store.tables import (
    cursors,
    dead_letters,
    id_map,
    leases,
    metadata,
    outbox,
    pending,
    runs,
)

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


def _row(mapping: Any) -> MappedRecord:
    return MappedRecord(
        flow=mapping["flow"],
        source_id=mapping["source_id"],
        dest_id=mapping["dest_id"],
        external_id=mapping["external_id"],
        hash=mapping["hash"],
        written_at=mapping["written_at"],
        caused_modified=mapping["caused_modified"],
        source_modified=mapping["source_modified"],
        deleted=bool(mapping["deleted"]),
    )


def _dialect_insert(conn: sa.Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT in the dialect of the connection, which knows ON CONFLICT."""
    if conn.dialect.name == "postgresql":  # pragma: no cover - for the server store to come
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def _upsert(conn: sa.Connection, table: sa.Table, values: dict[str, Any] | list[dict[str, Any]], keys: tuple[str, ...]) -> None:
    """INSERT … ON CONFLICT DO UPDATE, in the dialect of the connection (SQLite or PostgreSQL); a list of
    rows (all with the same columns) is one executemany."""
    if isinstance(values, list):
        if not values:
            return
        columns = values[0]
    else:
        columns = values
    cache_key = (conn.dialect.name, table.name, tuple(columns), keys)
    statement = _UPSERTS.get(cache_key)
    if statement is None:
        # built once per shape and executed with parameters: building it per row cost ~1 ms (a sync commits
        # several rows per record)
        base = _dialect_insert(conn, table)
        update = {k: base.excluded[k] for k in columns if k not in keys}
        statement = base.on_conflict_do_update(index_elements=list(keys), set_=update) if update else base.on_conflict_do_nothing()
        _UPSERTS[cache_key] = statement
    conn.execute(statement, values)


_UPSERTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], Any] = {}
_RESOLVE = dead_letters.delete().where(
    dead_letters.c.connection == sa.bindparam("p_connection"),
    dead_letters.c.flow == sa.bindparam("p_flow"),
    dead_letters.c.source_id == sa.bindparam("p_source_id"),
)
_CLEAR_PENDING = pending.delete().where(
    pending.c.connection == sa.bindparam("p_connection"), pending.c.flow == sa.bindparam("p_flow"), pending.c.source_id == sa.bindparam("p_source_id")
)
_HOLDER_SQL = "SELECT source_id FROM id_map WHERE connection = ? AND flow = ? AND external_id = ? AND NOT deleted LIMIT 1"
_MAPPED_SQL = (
    "SELECT flow, source_id, dest_id, external_id, hash, written_at, caused_modified, source_modified, deleted"
    " FROM id_map WHERE connection = ? AND flow = ? AND source_id = ?"
)


class _SQLTransaction:
    """ID map rows and resolved dead letters are collected and written together (one executemany each)
    before any other statement of the transaction and before it commits."""

    def __init__(self, store: SQLiteStateStore, conn: sa.Connection) -> None:
        self.store = store
        self.conn = conn
        self.name = store.connection
        self._maps: list[dict[str, Any]] = []
        self._resolved: list[dict[str, Any]] = []

    def flush(self) -> None:
        maps, self._maps = self._maps, []
        resolved, self._resolved = self._resolved, []
        _upsert(self.conn, id_map, maps, ("connection", "flow", "source_id"))
        if resolved:
            self.conn.execute(_RESOLVE, resolved)

    def set_cursor(self, key: str, state: dict[str, Any]) -> None:
        self.flush()
        _upsert(
            self.conn,
            cursors,
            {"connection": self.name, "key": key, "state": json.dumps(state, sort_keys=True, default=str), "updated_at": self.store.clock()},
            ("connection", "key"),
        )

    def clear_cursor(self, key: str) -> None:
        self.flush()
        self.conn.execute(cursors.delete().where(cursors.c.connection == self.name, cursors.c.key == key))

    def map_record(self, row: MappedRecord) -> None:
        self._maps.append(
            {
                "connection": self.name,
                "flow": row.flow,
                "source_id": row.source_id,
                "dest_id": row.dest_id,
                "external_id": row.external_id,
                "hash": row.hash,
                "written_at": row.written_at,
                "caused_modified": row.caused_modified,
                "source_modified": row.source_modified,
                "deleted": row.deleted,
            }
        )

    def clear_pending(self, flow: str, source_ids: Iterable[str]) -> None:
        self.flush()
        rows = [{"p_connection": self.name, "p_flow": flow, "p_source_id": source_id} for source_id in source_ids]
        if rows:
            self.conn.execute(_CLEAR_PENDING, rows)  # one executemany of a statement built once

    def dead_letter(self, flow: str, source_id: str, record: dict[str, Any], reason: str) -> None:
        self.flush()
        now = self.store.clock()
        existing = self.conn.execute(
            sa.select(dead_letters.c.attempts, dead_letters.c.first_seen).where(
                dead_letters.c.connection == self.name, dead_letters.c.flow == flow, dead_letters.c.source_id == source_id
            )
        ).first()
        _upsert(
            self.conn,
            dead_letters,
            {
                "connection": self.name,
                "flow": flow,
                "source_id": source_id,
                "record": json.dumps(record, sort_keys=True, default=str),
                "reason": redact(reason),  # the one mask (engine.redaction): reasons quote API messages and URLs
                "attempts": (existing.attempts if existing else 0) + 1,
                "first_seen": existing.first_seen if existing else now,
                "last_seen": now,
            },
            ("connection", "flow", "source_id"),
        )

    def resolve_dead_letter(self, flow: str, source_id: str) -> None:
        self._resolved.append({"p_connection": self.name, "p_flow": flow, "p_source_id": source_id})

    def renew_lease(self, owner: str, ttl: float) -> None:
        self.flush()
        self.conn.execute(
            leases.update().where(leases.c.connection == self.name, leases.c.owner == owner).values(expires_at=self.store.clock() + ttl)
        )

    def put_outbox(self, entry: OutboxEntry) -> None:
        self.flush()
        _upsert(
            self.conn,
            outbox,
            {
                "connection": self.name,
                "flow": entry.flow,
                "source_id": entry.source_id,
                "dest_id": entry.dest_id,
                "external_id": entry.external_id,
                "record": json.dumps(entry.record, sort_keys=True, default=str),
                "hash": entry.hash,
                "caused_modified": entry.caused_modified,
                "source_modified": entry.source_modified,
                "created_at": entry.created_at or self.store.clock(),
                "attempts": entry.attempts,
                "last_error": None if entry.last_error is None else redact(entry.last_error),
            },
            ("connection", "flow", "source_id"),
        )

    def remove_outbox(self, flow: str, source_id: str) -> None:
        self.flush()
        self.conn.execute(outbox.delete().where(outbox.c.connection == self.name, outbox.c.flow == flow, outbox.c.source_id == source_id))

    def outbox_failed(self, flow: str, source_ids: Iterable[str], error: str) -> None:
        self.flush()
        ids = list(source_ids)
        if ids:
            self.conn.execute(
                outbox.update()
                .where(outbox.c.connection == self.name, outbox.c.flow == flow, outbox.c.source_id.in_(ids))
                .values(attempts=outbox.c.attempts + 1, last_error=redact(error)[:2000])
            )

    def set_run_counts(self, run_id: int, counts: dict[str, Any]) -> None:
        self.flush()
        self.conn.execute(runs.update().where(runs.c.id == run_id).values(counts=json.dumps(counts, sort_keys=True)))


_DAMAGED_HINT = (
    "restore the state file (with its -wal file) from a backup; or start a new state with "
    "`connector-core run CONNECTION --reset-state` (the damaged files are kept aside; every flow reads from the start)"
)
#: SQLite errors that say the file, not the statement, is wrong.
_FILE_ERRORS = {
    "file is not a database": "not a SQLite database (damaged, or another kind of file)",
    "database disk image is malformed": "the state database is damaged",
    "attempt to write a readonly database": "the state database is read-only",
    "unable to open database file": "cannot open the state database (check the file, its directory and their permissions)",
    "disk i/o error": "a disk error while using the state database",
    "database or disk is full": "the disk holding the state database is full",
}


def raise_state_error(path: Path, error: BaseException | None) -> None:
    """Raise StateError naming ``path`` when ``error`` (from SQLite) is about the file itself; else return."""
    import sqlite3

    if not isinstance(error, sqlite3.DatabaseError):
        return
    text = str(error).lower()
    for needle, meaning in _FILE_ERRORS.items():
        if needle in text:
            hint = _DAMAGED_HINT if "damaged" in meaning or "not a SQLite" in meaning else "fix the file (or its disk) and rerun; what was committed stands"
            raise StateError(f"{path}: {meaning} ({error})", hint=hint) from None


class SQLiteStateStore:
    """The state of one connection in a SQLite file (created with its tables on first use).

    Opening checks the files first (:mod:`.checks`): a directory, a missing directory (with
    ``create_parent=False``), an empty or damaged database or write-ahead log raise
    :class:`~connector_core.errors.StateError` before SQLite touches them; ``reset`` moves an empty or
    damaged state aside and begins a new one. A database this process cannot write is opened read-only
    (``read_only``): reading works, and the first write raises StateError saying why.
    """

    def __init__(self, path: str | Path, connection: str, *, clock: Any = None, create_parent: bool = True, reset: bool = False) -> None:
        import time

        from connector_core.sync.store.checks import check_state_file, healthy_state_error, move_aside

        self.path = Path(path)
        found = check_state_file(self.path, create_parent=create_parent, reset=reset)
        self.read_only = not found.writable
        self._read_only_reason = found.reason
        self.reset_to = found.reset_to  # where reset moved a damaged state, if it did
        self.connection = connection
        self.clock = clock or time.time
        self._lookup: Any = None  # a raw connection for mapped(), taken on first use
        self._external_index = False
        if reset and self.read_only:
            raise self._cannot_write()
        self.engine = self._open()
        try:
            self._check_integrity()  # reads only: nothing is written to a damaged database
        except StateError:
            self.engine.dispose()
            if not (reset and found.exists):
                raise
            self.reset_to = move_aside(self.path)
            self.engine = self._open()
        else:
            if reset and found.exists:
                self.engine.dispose()
                raise healthy_state_error(self.path) from None
        try:
            if not self.read_only:
                metadata.create_all(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    def _open(self) -> sa.Engine:
        # Connections are pooled (and closed by close()): opening one per statement, with its PRAGMAs, and
        # closing it (the last close of a WAL database checkpoints it) cost ~2 ms a record in a sync.
        url = f"sqlite:///file:{self.path}?mode=ro&uri=true" if self.read_only else f"sqlite:///{self.path}"
        engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=2, max_overflow=8)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # transactions are begun below, IMMEDIATE
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout = 30000")
            if not self.read_only:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = FULL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            # writers take the lock at the start, so two processes never interleave read-then-write;
            # readers do not wait for writers (WAL)
            reading = conn.get_execution_options().get("read_only")
            if self.read_only and not reading:
                raise self._cannot_write()
            conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

        @event.listens_for(engine, "handle_error")
        def _handle_error(context: Any) -> None:
            raise_state_error(self.path, context.original_exception)

        return engine

    def _cannot_write(self) -> StateError:
        return StateError(
            f"{self.path}: the state database cannot be written ({self._read_only_reason}); `run` records its progress there",
            hint="run as the user that owns it, or make the file and its directory writable; `status` can still read it",
        )

    def _check_integrity(self) -> None:
        """SQLite's quick check (tens of milliseconds for 200,000 ID map rows): a damaged database is
        refused before a run writes anything, not half-way through it."""
        with self.engine.connect() as conn:
            conn.execution_options(read_only=True)
            found = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check(5)")]
            if not self.read_only:
                return self._raise_unless_ok(found)
            names = {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
        self._raise_unless_ok(found)
        missing = sorted(set(metadata.tables) - names)
        if missing:
            raise StateError(
                f"{self.path}: the state database lacks the tables {', '.join(missing)} and is read-only, so they cannot be added",
                hint="run the connection once as a user who can write the file",
            )

    def _raise_unless_ok(self, found: list[str]) -> None:
        if found != ["ok"]:
            raise StateError(f"{self.path}: the state database is damaged: {'; '.join(found[:3])}", hint=_DAMAGED_HINT)

    # -- reads ---------------------------------------------------------------------------------------

    def _all(self, statement: Any, parameters: dict[str, Any] | None = None) -> list[Any]:
        with self.engine.connect() as conn:
            conn.execution_options(read_only=True)
            return list(conn.execute(statement, parameters).mappings())

    def cursor(self, key: str) -> dict[str, Any] | None:
        rows = self._all(sa.select(cursors.c.state).where(cursors.c.connection == self.connection, cursors.c.key == key))
        return json.loads(rows[0]["state"]) if rows else None

    def cursors(self) -> dict[str, dict[str, Any]]:
        rows = self._all(sa.select(cursors.c.key, cursors.c.state).where(cursors.c.connection == self.connection))
        return {r["key"]: json.loads(r["state"]) for r in rows}

    def mapped(self, flow: str, source_id: str) -> MappedRecord | None:
        # once per record read by a sync: plain SQL on a connection kept for it (~30 µs instead of ~350 µs
        # through a pooled SQLAlchemy connection, its BEGIN and its rollback); autocommit, so it sees every commit
        if self._lookup is None:
            self._lookup = self.engine.raw_connection()
        try:
            found = self._lookup.cursor().execute(_MAPPED_SQL, (self.connection, flow, source_id)).fetchone()
        except Exception as exc:  # raw DB-API: SQLAlchemy's handle_error does not see it
            raise_state_error(self.path, exc)
            raise
        if found is None:
            return None
        flow_, source_id_, dest_id, external_id, hash_, written_at, caused, modified, deleted = found
        return MappedRecord(flow_, source_id_, dest_id, external_id, hash_, written_at, caused, modified, deleted=bool(deleted))

    def holder_of_external_id(self, flow: str, external_id: str) -> str | None:
        """The read record the flow paired under ``external_id`` (not deleted), if any."""
        if self._lookup is None:
            self._lookup = self.engine.raw_connection()
        cursor = self._lookup.cursor()
        if not self._external_index:
            # stores made before the index existed get it on first use (IF NOT EXISTS: a no-op after)
            cursor.execute("CREATE INDEX IF NOT EXISTS ix_id_map_external ON id_map (connection, flow, external_id)")
            self._external_index = True
        found = cursor.execute(_HOLDER_SQL, (self.connection, flow, external_id)).fetchone()
        return None if found is None else str(found[0])

    def mapped_rows(self, flow: str) -> list[MappedRecord]:
        return [_row(r) for r in self._all(id_map.select().where(id_map.c.connection == self.connection, id_map.c.flow == flow))]

    def written_as(self, flows: Iterable[str], dest_id: str) -> list[MappedRecord]:
        """ID map rows of ``flows`` that wrote the destination record ``dest_id``."""
        names = list(flows)
        if not names:
            return []
        statement = id_map.select().where(id_map.c.connection == self.connection, id_map.c.dest_id == dest_id, id_map.c.flow.in_(names))
        return [_row(r) for r in self._all(statement)]

    def pending(self, flow: str) -> dict[str, str]:
        """Source id → operation of the creates sent but never acknowledged (an interrupted run)."""
        rows = self._all(sa.select(pending.c.source_id, pending.c.operation).where(pending.c.connection == self.connection, pending.c.flow == flow))
        return {r["source_id"]: r["operation"] for r in rows}

    def dead_letters(self, flow: str | None = None, *, limit: int | None = None) -> list[DeadLetter]:
        """Every dead letter (by flow, oldest first); with ``limit``, that many of those least recently tried."""
        statement = dead_letters.select().where(dead_letters.c.connection == self.connection)
        if flow is not None:
            statement = statement.where(dead_letters.c.flow == flow)
        if limit is not None:
            statement = statement.order_by(dead_letters.c.last_seen, dead_letters.c.source_id).limit(limit)
        else:
            statement = statement.order_by(dead_letters.c.flow, dead_letters.c.first_seen, dead_letters.c.source_id)
        rows = self._all(statement)
        return [
            DeadLetter(r["flow"], r["source_id"], json.loads(r["record"]), r["reason"], r["attempts"], r["first_seen"], r["last_seen"]) for r in rows
        ]

    def outbox(self, flow: str | None = None) -> list[OutboxEntry]:
        """Write-backs owed, oldest first."""
        statement = outbox.select().where(outbox.c.connection == self.connection)
        if flow is not None:
            statement = statement.where(outbox.c.flow == flow)
        return [
            OutboxEntry(
                r["flow"], r["source_id"], r["dest_id"], r["external_id"], json.loads(r["record"]), r["hash"], r["caused_modified"],
                r["source_modified"], r["created_at"], r["attempts"], r["last_error"],
            )
            for r in self._all(statement.order_by(outbox.c.created_at, outbox.c.source_id))
        ]

    def runs(self, limit: int = 20) -> list[RunRecord]:
        statement = runs.select().where(runs.c.connection == self.connection).order_by(runs.c.id.desc()).limit(limit)
        return [
            RunRecord(
                r["id"], r["connection"], r["started_at"], r["ended_at"], r["status"], bool(r["dry_run"]),
                json.loads(r["counts"] or "{}"), json.loads(r["errors"] or "[]"), r["duration"],
            )
            for r in self._all(statement)
        ]

    def last_run(self, *, include_dry: bool = False) -> RunRecord | None:
        for run in self.runs(50):
            if include_dry or not run.dry_run:
                return run
        return None

    # -- writes --------------------------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[_SQLTransaction]:
        """One transaction: committed when the block ends, rolled back entirely if it raises."""
        with self.engine.begin() as conn:
            tx = _SQLTransaction(self, conn)
            yield tx
            tx.flush()

    def add_pending(self, flow: str, entries: Iterable[tuple[str, str | None]], operation: str, run_id: int | None) -> None:
        """Record creates about to be sent, committed before the request goes out."""
        now = self.clock()
        rows = [
            {"connection": self.connection, "flow": flow, "source_id": source_id, "external_id": external_id,
             "operation": operation, "run_id": run_id, "created_at": now}
            for source_id, external_id in entries
        ]  # fmt: skip
        with self.engine.begin() as conn:
            _upsert(conn, pending, rows, ("connection", "flow", "source_id"))  # one executemany

    def start_run(self, dry_run: bool) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                runs.insert().values(connection=self.connection, started_at=self.clock(), status="running", dry_run=dry_run, counts="{}", errors="[]")
            )
            key = result.inserted_primary_key
            assert key is not None  # an INSERT of one row into a table with an integer key
            return int(key[0])

    def finish_run(self, run_id: int, status: str, counts: dict[str, Any], errors: list[str]) -> None:
        now = self.clock()
        with self.engine.begin() as conn:
            started = conn.execute(sa.select(runs.c.started_at).where(runs.c.id == run_id)).scalar_one()
            conn.execute(
                runs.update().where(runs.c.id == run_id).values(
                    ended_at=now, status=status, counts=json.dumps(counts, sort_keys=True), errors=json.dumps([redact(e) for e in errors[:200]]), duration=now - started
                )
            )

    def acquire_lease(self, owner: str, ttl: float) -> bool:
        """Take the connection's lease unless another owner holds one that has not expired."""
        now = self.clock()
        with self.engine.begin() as conn:
            held = conn.execute(sa.select(leases.c.owner, leases.c.expires_at).where(leases.c.connection == self.connection)).first()
            if held is not None and held.owner != owner and held.expires_at > now and owner_alive(held.owner):
                return False
            _upsert(conn, leases, {"connection": self.connection, "owner": owner, "expires_at": now + ttl}, ("connection",))
            return True

    def lease_holder(self) -> tuple[str, float] | None:
        rows = self._all(sa.select(leases.c.owner, leases.c.expires_at).where(leases.c.connection == self.connection))
        if not rows or rows[0]["expires_at"] <= self.clock() or not owner_alive(rows[0]["owner"]):
            return None
        return rows[0]["owner"], rows[0]["expires_at"]

    def release_lease(self, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(leases.delete().where(leases.c.connection == self.connection, leases.c.owner == owner))

    def mark_interrupted_runs(self) -> None:
        """Runs still 'running' while we hold the lease died without finishing (killed): say so."""
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.connection == self.connection, runs.c.status == "running").values(status="interrupted"))

    def close(self) -> None:
        if self._lookup is not None:
            self._lookup.close()
            self._lookup = None
        self.engine.dispose()

    def __enter__(self) -> SQLiteStateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["SQLiteStateStore"]
