"""What the SQL back ends share: the transaction, the reads, the writes and the fenced lease.

:class:`SQLStateStore` is written in SQLAlchemy Core over :mod:`.tables`; :mod:`.sqlite` and
:mod:`.postgres` add how they open their database, their errors and a faster lookup of one ID map row.

**Fencing.** :meth:`SQLStateStore.acquire_lease` grants the connection's next token and the store
remembers the :class:`~.protocol.Lease`. Every transaction that commits run state (:meth:`~SQLStateStore.batch`
and :meth:`~SQLStateStore.add_pending`) then reads the lease row first, locked (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` locks the whole file), and raises
:class:`~connector_core.errors.LeaseLostError` unless it still carries this owner and token. The check
and the writes are one transaction, and taking the lease needs the same lock, so a takeover lands
either before the commit (which then fails) or after it. An expired lease nobody took over still
commits: only a takeover makes a commit unsafe, and clocks of two hosts need not agree for this.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self

import sqlalchemy as sa

from connector_core.engine.redaction import redact
from connector_core.errors import LeaseLostError
from connector_core.sync.store.protocol import (
    DeadLetter,
    Lease,
    MappedRecord,
    OutboxEntry,
    RunRecord,
    owner_alive,
)
from connector_core.sync.store.tables import cursors, dead_letters, id_map, leases, outbox, pending, runs

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

    from connector_core.sync.store.protocol import StateStore, Transaction


def row_of(mapping: Any) -> MappedRecord:
    """An ID map row (a result mapping) as a :class:`MappedRecord`."""
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
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def upsert(conn: sa.Connection, table: sa.Table, values: dict[str, Any] | list[dict[str, Any]], keys: tuple[str, ...]) -> None:
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
#: The lease row, locked until the transaction ends (FOR UPDATE is left out on SQLite, whose writers hold the file's lock).
_LEASE_ROW = (
    sa.select(leases.c.owner, leases.c.expires_at, leases.c.token).where(leases.c.connection == sa.bindparam("p_connection")).with_for_update()
)


class SQLTransaction:
    """The writes of one committed batch. ID map rows and resolved dead letters are collected and written
    together (one executemany each) before any other statement of the transaction and before it commits."""

    def __init__(self, store: SQLStateStore, conn: sa.Connection) -> None:
        self.store = store
        self.conn = conn
        self.name = store.connection
        self.renewed: Lease | None = None  # the lease as this transaction renews it, once it commits
        self._maps: list[dict[str, Any]] = []
        self._resolved: list[dict[str, Any]] = []

    def flush(self) -> None:
        maps, self._maps = self._maps, []
        resolved, self._resolved = self._resolved, []
        upsert(self.conn, id_map, maps, ("connection", "flow", "source_id"))
        if resolved:
            self.conn.execute(_RESOLVE, resolved)

    def set_cursor(self, key: str, state: dict[str, Any]) -> None:
        self.flush()
        upsert(
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
        upsert(
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
        """Extend ``owner``'s lease to ``ttl`` seconds from now (the lease this store holds, by its token)."""
        self.flush()
        expires_at = self.store.clock() + ttl
        statement = leases.update().where(leases.c.connection == self.name, leases.c.owner == owner)
        held = self.store.lease
        if held is not None and held.owner == owner:
            statement = statement.where(leases.c.token == held.token)
            self.renewed = dataclasses.replace(held, expires_at=expires_at)
        self.conn.execute(statement.values(expires_at=expires_at))

    def put_outbox(self, entry: OutboxEntry) -> None:
        self.flush()
        upsert(
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


class SQLStateStore:
    """The state of one connection in a SQL database; a back end opens ``engine`` and sets ``where``.

    Attributes:
        connection: the connection's name; every row this store reads or writes carries it.
        where: the database in messages: a path, or a URL without its password.
        lease: the lease this store granted and still holds; its commits are fenced with it.
        read_only: the database can be read but not written (an SQLite file this user cannot write).
    """

    connection: str
    where: str
    engine: sa.Engine
    clock: Callable[[], float]
    read_only: bool = False
    lease: Lease | None = None

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
        """The ID map row of ``source_id`` in ``flow`` (a back end may answer it faster: once per record read)."""
        rows = self._all(id_map.select().where(id_map.c.connection == self.connection, id_map.c.flow == flow, id_map.c.source_id == source_id))
        return row_of(rows[0]) if rows else None

    def holder_of_external_id(self, flow: str, external_id: str) -> str | None:
        """The read record the flow paired under ``external_id`` (not deleted), if any."""
        statement = (
            sa.select(id_map.c.source_id)
            .where(id_map.c.connection == self.connection, id_map.c.flow == flow, id_map.c.external_id == external_id, id_map.c.deleted.is_(False))
            .limit(1)
        )
        rows = self._all(statement)
        return str(rows[0]["source_id"]) if rows else None

    def mapped_rows(self, flow: str) -> list[MappedRecord]:
        return [row_of(r) for r in self._all(id_map.select().where(id_map.c.connection == self.connection, id_map.c.flow == flow))]

    def written_as(self, flows: Iterable[str], dest_id: str) -> list[MappedRecord]:
        """ID map rows of ``flows`` that wrote the destination record ``dest_id``."""
        names = list(flows)
        if not names:
            return []
        statement = id_map.select().where(id_map.c.connection == self.connection, id_map.c.dest_id == dest_id, id_map.c.flow.in_(names))
        return [row_of(r) for r in self._all(statement)]

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
    def batch(self) -> Iterator[SQLTransaction]:
        """One transaction: committed when the block ends, rolled back entirely if it raises. Fenced: it
        raises :class:`~connector_core.errors.LeaseLostError` first if another run took the lease over."""
        with self.engine.begin() as conn:
            self._fence(conn)
            tx = SQLTransaction(self, conn)
            yield tx
            tx.flush()
        if tx.renewed is not None and self.lease is not None and self.lease.token == tx.renewed.token:
            self.lease = tx.renewed

    def add_pending(self, flow: str, entries: Iterable[tuple[str, str | None]], operation: str, run_id: int | None) -> None:
        """Record creates about to be sent, committed before the request goes out (fenced like a batch:
        a run that lost its lease stops here, before it sends them)."""
        now = self.clock()
        rows = [
            {"connection": self.connection, "flow": flow, "source_id": source_id, "external_id": external_id,
             "operation": operation, "run_id": run_id, "created_at": now}
            for source_id, external_id in entries
        ]  # fmt: skip
        with self.engine.begin() as conn:
            self._fence(conn)
            upsert(conn, pending, rows, ("connection", "flow", "source_id"))  # one executemany

    def start_run(self, dry_run: bool) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                runs.insert().values(connection=self.connection, started_at=self.clock(), status="running", dry_run=dry_run, counts="{}", errors="[]")
            )
            key = result.inserted_primary_key
            assert key is not None  # an INSERT of one row into a table with an integer key
            return int(key[0])

    def finish_run(self, run_id: int, status: str, counts: dict[str, Any], errors: list[str]) -> None:
        """Close the run's log entry (not fenced: it is this run's own row, and says how it ended)."""
        now = self.clock()
        with self.engine.begin() as conn:
            started = conn.execute(sa.select(runs.c.started_at).where(runs.c.id == run_id)).scalar_one()
            conn.execute(
                runs.update().where(runs.c.id == run_id).values(
                    ended_at=now, status=status, counts=json.dumps(counts, sort_keys=True), errors=json.dumps([redact(e) for e in errors[:200]]), duration=now - started
                )
            )

    def mark_interrupted_runs(self) -> None:
        """Runs still 'running' while we hold the lease died without finishing (killed): say so."""
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.connection == self.connection, runs.c.status == "running").values(status="interrupted"))

    # -- the lease -----------------------------------------------------------------------------------

    def acquire_lease(self, owner: str, ttl: float) -> Lease | None:
        """Take the connection's lease unless another owner holds one that has not expired (or whose
        process is gone from this host); None when it is held. The lease carries the connection's next
        fencing token (the same one when ``owner`` holds it already: a renewal) and the store keeps it
        to fence its commits."""
        now = self.clock()
        with self.engine.begin() as conn:
            self._lock_for_acquire(conn)
            held = conn.execute(_LEASE_ROW, {"p_connection": self.connection}).first()
            if held is not None and held.owner != owner and held.expires_at > now and owner_alive(held.owner):
                return None
            renewing = held is not None and held.owner == owner and held.expires_at > now
            token = int(held.token) if renewing and held is not None else (int(held.token) if held is not None else 0) + 1
            upsert(conn, leases, {"connection": self.connection, "owner": owner, "expires_at": now + ttl, "token": token}, ("connection",))
        self.lease = Lease(self.connection, owner, token, now + ttl)
        return self.lease

    def renew_lease(self, owner: str, ttl: float) -> None:
        """Extend the lease by ``ttl`` from now, in a fenced transaction of its own (for a heartbeat)."""
        with self.batch() as tx:
            tx.renew_lease(owner, ttl)

    def release_lease(self, owner: str) -> None:
        """Give the lease up. The row stays, expired, so the connection's token never counts from 0 again;
        a lease another run took over is left alone."""
        statement = leases.update().where(leases.c.connection == self.connection, leases.c.owner == owner)
        if self.lease is not None and self.lease.owner == owner:
            statement = statement.where(leases.c.token == self.lease.token)
        with self.engine.begin() as conn:
            conn.execute(statement.values(expires_at=0.0))
        if self.lease is not None and self.lease.owner == owner:
            self.lease = None

    def lease_holder(self) -> tuple[str, float] | None:
        """The owner of the connection's live lease and when it expires, or None."""
        rows = self._all(sa.select(leases.c.owner, leases.c.expires_at).where(leases.c.connection == self.connection))
        if not rows or rows[0]["expires_at"] <= self.clock() or not owner_alive(rows[0]["owner"]):
            return None
        return rows[0]["owner"], rows[0]["expires_at"]

    def _lock_for_acquire(self, conn: sa.Connection) -> None:
        """Serialise the acquirers of this connection's lease within ``conn``'s transaction, even before
        its row exists (SQLite: its write transaction already does)."""

    def _fence(self, conn: sa.Connection) -> None:
        """Raise LeaseLostError unless the lease row, locked until ``conn`` commits, carries our lease."""
        lease = self.lease
        if lease is None:
            return
        row = conn.execute(_LEASE_ROW, {"p_connection": self.connection}).first()
        if row is not None and row.owner == lease.owner and row.token == lease.token:
            return
        if row is None:
            now_held = "its lease row is gone (the state was restored or edited)"
        else:
            now_held = f"{row.owner} holds it now with token {row.token}"
        raise LeaseLostError(
            f"{self.where}: connection '{self.connection}': this run lost its lease (token {lease.token}) to another run: "
            f"{now_held}; nothing of this transaction was committed",
            connection=self.connection,
            token=lease.token,
            holder=None if row is None else row.owner,
            holder_token=None if row is None else int(row.token),
            hint="this run stops; the run that holds the lease goes on from the last committed checkpoint. A lease is "
            "taken over only after it expired: this process was paused or cut off from the state database for that long",
        )

    # -- closing -------------------------------------------------------------------------------------

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if TYPE_CHECKING:  # mypy checks both against the protocols the runner is written to

    def _is_a_store(store: SQLStateStore) -> StateStore:
        return store

    def _is_a_transaction(tx: SQLTransaction) -> Transaction:
        return tx


__all__ = ["SQLStateStore", "SQLTransaction", "row_of", "upsert"]
