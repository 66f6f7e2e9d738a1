"""The embedded state store: one SQLite file (WAL, ``synchronous=FULL``) through SQLAlchemy Core.

What every SQL back end shares (transactions, reads, writes, the fenced lease) is in :mod:`.sql`; here is
how SQLite's file is opened: the checks before SQLite touches it (:mod:`.checks`), its PRAGMAs, writers
that take the file's lock at BEGIN, its errors, and a faster lookup of one ID map row. The schema is
brought to the newest revision on open (:mod:`.schema`).

The file must be on a local disk of the one host that runs the connection: SQLite's locks are not
reliable over NFS and other network file systems, so neither is the lease they carry. Hosts that share
state use PostgreSQL (:mod:`.postgres`).
"""


from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event

from connector_core.errors import StateError
from connector_core.sync.store.protocol import MappedRecord
from connector_core.sync.store.schema import ensure_schema
from connector_core.sync.store.sql import SQLStateStore
from connector_core.sync.store.tables import metadata

if TYPE_CHECKING:
    from connector_core.sync.store.checks import StateFile

_HOLDER_SQL = "SELECT source_id FROM id_map WHERE connection = ? AND flow = ? AND external_id = ? AND NOT deleted LIMIT 1"
_MAPPED_SQL = (
    "SELECT flow, source_id, dest_id, external_id, hash, written_at, caused_modified, source_modified, deleted"
    " FROM id_map WHERE connection = ? AND flow = ? AND source_id = ?"
)


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


def _create_empty_database(path: Path) -> None:
    """Make ``path`` a SQLite database in WAL mode, with no tables yet, in one step.

    SQLite creates a file empty and writes its header later; a second process opening the state in that
    moment (two `run-due` started together) would find 0 bytes and refuse them as a truncated state. So
    the header is written beside it first and the file linked into place: it appears complete, or, when
    another process got there first, theirs is kept. Its tables are made when the store opens it.
    """
    import os
    import sqlite3
    import uuid

    staging = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.new")
    try:
        connection = sqlite3.connect(staging)
        try:
            connection.execute("PRAGMA journal_mode = WAL")  # writes the header: the file is no longer empty
        finally:
            connection.close()
        try:
            os.link(staging, path)
        except FileExistsError:
            pass  # another process made it meanwhile: that one is the state
    except OSError as exc:
        raise StateError(f"{path}: cannot create the state file: {exc.strerror or exc}", hint="check the directory, or choose another --state") from None
    finally:
        for leftover in (staging, staging.with_name(staging.name + "-wal"), staging.with_name(staging.name + "-shm")):
            leftover.unlink(missing_ok=True)


#: The state files this process has open through a store, by (device, inode): how many stores, and what the
#: checks found when the first opened it. Closing any descriptor of a file drops every POSIX lock this
#: process holds on it, SQLite's too, and the checks read the header with open() and close(): done while
#: another store of this process had the file open, they dropped that store's lock on the database, so a
#: run in another process that ended took itself for the last user, checkpointed and deleted the -wal and
#: -shm files under it. That store (and every later open here, sharing SQLite's per-process -shm mapping)
#: then read a stale index: "database disk image is malformed", or old rows, and commits lost on its
#: next write. Such a file is not read raw again while a store of this process has it open.
_OPEN_HERE: dict[tuple[int, int], tuple[int, StateFile]] = {}
_OPEN_HERE_LOCK = threading.Lock()


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


class SQLiteStateStore(SQLStateStore):
    """The state of one connection in a SQLite file (created with its tables on first use).

    Opening checks the files first (:mod:`.checks`): a directory, a missing directory (with
    ``create_parent=False``), an empty or damaged database or write-ahead log raise
    :class:`~connector_core.errors.StateError` before SQLite touches them; ``reset`` moves an empty or
    damaged state aside and begins a new one. A database this process cannot write is opened read-only
    (``read_only``): reading works, and the first write raises StateError saying why.
    """

    def __init__(self, path: str | Path, connection: str, *, clock: Any = None, create_parent: bool = True, reset: bool = False) -> None:
        import time

        from connector_core.sync.store.checks import check_state_file

        self.path = Path(path)
        self.where = str(self.path)
        self.lease = None
        self.connection = connection
        self.clock = clock or time.time
        self._held: tuple[int, int] | None = None  # this file's key in _OPEN_HERE while this store is open
        with _OPEN_HERE_LOCK:  # checked and counted in one step for the threads of this process
            key = _inode(self.path)
            held = _OPEN_HERE.get(key) if key else None
            found = held[1] if held else check_state_file(self.path, create_parent=create_parent, reset=reset)
            if not found.exists:
                _create_empty_database(self.path)  # never a 0-byte file that another process would take for a truncated one
            self._hold(found)
        try:
            self._open_checked(found, reset)
        except BaseException:
            self._release()
            raise

    def _open_checked(self, found: StateFile, reset: bool) -> None:
        """Open the file the checks passed: SQLite's quick check, reset's move aside, the schema."""
        from connector_core.sync.store.checks import StateFile, healthy_state_error, move_aside

        self.read_only = not found.writable
        self._read_only_reason = found.reason
        self.reset_to = found.reset_to  # where reset moved a damaged state, if it did
        self._lookup: Any = None  # a raw connection for mapped(), taken on first use
        if reset and self.read_only:
            raise self._cannot_write()
        self.engine = self._open()
        try:
            self._check_integrity()  # reads only: nothing is written to a damaged database
        except StateError:
            self.engine.dispose()
            if not (reset and found.exists):
                raise
            self._release()
            self.reset_to = move_aside(self.path)
            self.engine = self._open()
        else:
            if reset and found.exists:
                self.engine.dispose()
                raise healthy_state_error(self.path) from None
        try:
            ensure_schema(self.engine, self.where, read_only=self.read_only)
        except BaseException:
            self.engine.dispose()
            raise
        if self._held is None:  # the new file that reset began
            with _OPEN_HERE_LOCK:
                self._hold(StateFile(self.path, exists=True, writable=True))

    def _hold(self, found: StateFile) -> None:
        """Count this store among those of this process that have the file open (under _OPEN_HERE_LOCK)."""
        self._held = _inode(self.path)
        if self._held is not None:
            count, first = _OPEN_HERE.get(self._held, (0, dataclasses.replace(found, exists=True, reset_to=None)))
            _OPEN_HERE[self._held] = (count + 1, first)

    def _release(self) -> None:
        if self._held is None:
            return
        with _OPEN_HERE_LOCK:
            count, first = _OPEN_HERE.pop(self._held)
            if count > 1:
                _OPEN_HERE[self._held] = (count - 1, first)
        self._held = None

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

    # -- the lookups a sync makes once per record --------------------------------------------------

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
        try:
            found = self._lookup.cursor().execute(_HOLDER_SQL, (self.connection, flow, external_id)).fetchone()
        except Exception as exc:
            raise_state_error(self.path, exc)
            raise
        return None if found is None else str(found[0])

    def close(self) -> None:
        if self._lookup is not None:
            self._lookup.close()
            self._lookup = None
        self.engine.dispose()
        self._release()  # after its connections closed: the file may be read raw again


__all__ = ["SQLiteStateStore"]
