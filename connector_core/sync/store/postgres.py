"""The server state store: PostgreSQL through SQLAlchemy Core and psycopg 3 (``connector-core[postgres]``).

One database holds the state of many connections (every row carries the connection's name), worked on
by many processes on many hosts at once. What it adds to :mod:`.sql`:

- **Locks for the lease.** Taking a lease holds a transaction-scoped advisory lock on the connection's
  name (two acquirers of a lease that has no row yet cannot both insert it) and the lease row
  ``FOR UPDATE``; every fenced commit holds the row ``FOR UPDATE`` from its first statement to its
  commit. A lease whose row stays locked longer than :data:`ACQUIRE_WAIT` (a commit hung half-way) is
  reported as held, and the next attempt tries again.
- **A dead host's leftovers.** Its lease expires (the runner's lease lasts 15 minutes past its last
  commit). A transaction it left open is ended by the server after
  ``idle_in_transaction_session_timeout`` (set to :data:`IDLE_IN_TRANSACTION` on our sessions unless
  the server or the URL sets one), which frees the row. TCP keepalives in the URL
  (``?keepalives_idle=30&keepalives_interval=10&keepalives_count=3``) make a worker cut off from the
  server fail its next statement within a minute instead of hanging for the kernel's retransmission
  timeout (about 15 minutes).
- **Errors** that say which database (the URL without its password) and what to do, as StateError:
  cannot connect, connection lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from connector_core.engine.redaction import mask_userinfo
from connector_core.errors import StateError, StateUnavailableError
from connector_core.sync.store.protocol import Lease, MappedRecord
from connector_core.sync.store.schema import ensure_schema
from connector_core.sync.store.sql import SQLStateStore

#: Seconds a lease acquisition waits for a commit in flight to release the lease row before it reports
#: the lease as held; and a fenced commit, for an acquisition to finish.
ACQUIRE_WAIT = 5
COMMIT_WAIT = 60
#: What our sessions set ``idle_in_transaction_session_timeout`` to when the server sets nothing: our
#: transactions never wait on anything but the database, so one idle this long was left by a dead host.
IDLE_IN_TRANSACTION = "120s"
CONNECT_TIMEOUT = 10
#: pg_advisory_xact_lock(class, hashtext(connection)) while a lease is taken: the class is ours ('cc' + 2).
_LEASE_LOCK_CLASS = 0x63630002
_MAPPED_SQL = (
    "SELECT flow, source_id, dest_id, external_id, hash, written_at, caused_modified, source_modified, deleted"
    " FROM id_map WHERE connection = %s AND flow = %s AND source_id = %s"
)
_HOLDER_SQL = "SELECT source_id FROM id_map WHERE connection = %s AND flow = %s AND external_id = %s AND NOT deleted LIMIT 1"
_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")


def display_url(url: str | sa.URL) -> str:
    """The URL for messages: no password (in the user info or the query) and no user name."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        return mask_userinfo(str(url))
    parsed = parsed.set(password=None).difference_update_query(["password", "passfile", "sslpassword"])
    return mask_userinfo(parsed.render_as_string(hide_password=True))


def psycopg_url(url: str | sa.URL) -> sa.URL:
    """``url`` for SQLAlchemy's psycopg 3 driver (``postgresql://`` and ``postgres://`` mean it too)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise StateError(f"{display_url(url)}: not a database URL", hint="write it as postgresql://USER@HOST:PORT/DATABASE") from None
    if parsed.drivername not in _SCHEMES:
        raise StateError(
            f"{display_url(url)}: the PostgreSQL state store speaks psycopg 3 only, not '{parsed.drivername}'",
            hint="write the URL as postgresql://… or postgresql+psycopg://…",
        )
    if not parsed.database:
        raise StateError(f"{display_url(url)}: the URL names no database", hint="write it as postgresql://USER@HOST:PORT/DATABASE")
    return parsed.set(drivername="postgresql+psycopg")


class PostgresStateStore(SQLStateStore):
    """The state of one connection in a PostgreSQL database (its tables created, or upgraded, on open).

    Args:
        url: ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?libpq parameters]``; ``postgres://`` and
            ``postgresql+psycopg://`` are accepted too. libpq reads what the URL leaves out (``PGPASSWORD``,
            ``~/.pgpass``, ``PGSSLMODE``...).
        connection: the connection's name.
        clock: seconds since the epoch (tests replace it).
    """

    def __init__(self, url: str | sa.URL, connection: str, *, clock: Callable[[], float] | None = None) -> None:
        try:
            import psycopg  # noqa: F401  (SQLAlchemy's driver; imported here to say how to install it)
        except ImportError:
            raise StateError(
                f"{display_url(url)}: PostgreSQL state needs the psycopg package, which is not installed",
                hint="pip install 'connector-core[postgres]'",
            ) from None
        self.url = psycopg_url(url)
        self.where = display_url(url)  # as the user wrote it, without its password
        self.connection = connection
        self.clock = clock or time.time
        self.lease = None
        self.read_only = False
        self.reset_to = None  # never: a server database is not reset by moving files
        self._lookup: Any = None  # an autocommit psycopg connection for mapped(), taken on first use
        self.engine = self._open()
        try:
            ensure_schema(self.engine, self.where)
        except BaseException:
            self.engine.dispose()
            raise

    def _open(self) -> sa.Engine:
        given = set(self.url.query)
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in given:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT  # libpq waits forever by default
        if "application_name" not in given:
            connect_args["application_name"] = "connector-core"  # named in pg_stat_activity
        engine = sa.create_engine(self.url, pool_size=2, max_overflow=8, pool_pre_ping=True, connect_args=connect_args)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('idle_in_transaction_session_timeout')")
                if cursor.fetchone()[0] in ("0", "0ms"):
                    cursor.execute(f"SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION}'")
            dbapi_connection.commit()

        @event.listens_for(engine, "handle_error")
        def _handle_error(context: Any) -> None:
            if context.is_pre_ping:
                return  # the pool reconnects
            if context.is_disconnect or context.connection is None:
                raise self._unreachable(context.original_exception) from None

        return engine

    def _unreachable(self, error: BaseException) -> StateError:
        reason = " ".join(str(error).split()) or type(error).__name__
        return StateUnavailableError(
            f"{self.where}: cannot use the state database: {mask_userinfo(reason)}",
            hint="check that the server runs, that the database exists and that it accepts this user from this host "
            "(the URL, PGPASSWORD or ~/.pgpass); what was committed stands, and the next run resumes from it",
        )

    # -- the lease's locks ---------------------------------------------------------------------------

    def _lock_for_acquire(self, conn: sa.Connection) -> None:
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{ACQUIRE_WAIT}s'")
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(:connection))"), {"lock_class": _LEASE_LOCK_CLASS, "connection": self.connection})

    def acquire_lease(self, owner: str, ttl: float) -> Lease | None:
        try:
            return super().acquire_lease(owner, ttl)
        except sa.exc.OperationalError as exc:
            if _lock_timed_out(exc):
                return None  # the holder is committing right now (or hung half-way): it holds the lease
            raise

    def _fence(self, conn: sa.Connection) -> None:
        if self.lease is None:
            return
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{COMMIT_WAIT}s'")
        try:
            super()._fence(conn)
        except sa.exc.OperationalError as exc:
            if not _lock_timed_out(exc):
                raise
            raise StateUnavailableError(
                f"{self.where}: connection '{self.connection}': the lease row stayed locked for {COMMIT_WAIT} s; nothing was committed",
                hint="another process holds a transaction on it open (a host that died mid-commit is cut off by the server after "
                f"idle_in_transaction_session_timeout, {IDLE_IN_TRANSACTION} by default); the next run resumes from the last checkpoint",
            ) from None

    # -- the lookups a sync makes once per record --------------------------------------------------

    def _lookup_connection(self) -> Any:
        if self._lookup is None:
            raw = self.engine.raw_connection()
            driver: Any = raw.driver_connection  # psycopg's Connection
            driver.autocommit = True  # sees every commit, holds no transaction open
            self._lookup = raw
        return self._lookup.driver_connection

    def _lookup_one(self, sql: str, parameters: tuple[str, ...]) -> Any:
        import psycopg

        try:
            return self._lookup_connection().execute(sql, parameters).fetchone()
        except psycopg.OperationalError as exc:
            self._drop_lookup()
            raise self._unreachable(exc) from None

    def mapped(self, flow: str, source_id: str) -> MappedRecord | None:
        # once per record read by a sync: plain SQL on a connection kept for it, prepared by psycopg after
        # a few calls (a pooled SQLAlchemy connection adds its BEGIN and its rollback: two more round trips)
        found = self._lookup_one(_MAPPED_SQL, (self.connection, flow, source_id))
        if found is None:
            return None
        flow_, source_id_, dest_id, external_id, hash_, written_at, caused, modified, deleted = found
        return MappedRecord(flow_, source_id_, dest_id, external_id, hash_, written_at, caused, modified, deleted=bool(deleted))

    def holder_of_external_id(self, flow: str, external_id: str) -> str | None:
        """The read record the flow paired under ``external_id`` (not deleted), if any."""
        found = self._lookup_one(_HOLDER_SQL, (self.connection, flow, external_id))
        return None if found is None else str(found[0])

    def _drop_lookup(self) -> None:
        if self._lookup is not None:
            try:
                self._lookup.invalidate()  # never back into the pool with autocommit set
            finally:
                self._lookup = None

    def close(self) -> None:
        self._drop_lookup()
        self.engine.dispose()


def _lock_timed_out(exc: sa.exc.OperationalError) -> bool:
    """The statement gave up waiting for a lock (lock_timeout: SQLSTATE 55P03)."""
    return getattr(exc.orig, "sqlstate", None) == "55P03"


__all__ = ["PostgresStateStore", "display_url", "psycopg_url"]
