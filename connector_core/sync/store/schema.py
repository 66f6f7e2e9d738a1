"""The state database's schema revision, checked (and brought to the newest) when a store opens.

The revisions are Alembic scripts in :mod:`.migrations`, run here in-process: no ``alembic.ini``, no
command for a user to run. Alembic keeps the revision in a table of our own, ``connector_core_version``
(not ``alembic_version``: a PostgreSQL database may also serve an application with its own). Opening:

- a database at the newest revision (:data:`HEAD`) costs one query;
- an older revision is upgraded, all steps in one transaction (SQLite and PostgreSQL both change their
  schema transactionally), so a failed upgrade leaves the store as it was;
- a database without a version table is new (every table is created), or a store of connector-core
  0.2, the last release before versioned migrations: its tables must have revision 1's columns
  exactly, and it is upgraded from there; a database with tables of those names but other columns is
  refused, naming it;
- a revision this release does not know is refused: a newer connector-core made it.

Two processes opening one database at once migrate it once: on PostgreSQL the migration holds an
advisory lock, on SQLite its write transaction locks the file; within a process, one thread migrates
at a time. A store opened read-only is never
migrated: an older one is read as it is (the reads need nothing newer), a newer one is refused.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from connector_core.errors import StateError

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

#: The newest revision; a test checks it is the head of :mod:`.migrations`.
HEAD = "0002"
VERSION_TABLE = "connector_core_version"
MIGRATIONS = Path(__file__).with_name("migrations")
#: pg_advisory_xact_lock(class, id) of a migration: the class is ours ('cc' + 1), the id the schema.
_SCHEMA_LOCK = {"lock_class": 0x63630001, "lock_id": 0}

log = logging.getLogger(__name__)
#: Alembic runs a migration through module-level proxies (``alembic.op``, ``alembic.context``): two threads
#: migrating two databases at once would each run the other's steps. Outermost, so it cannot deadlock
#: with the database's own lock.
_MIGRATING = threading.Lock()


def ensure_schema(engine: sa.Engine, where: str, *, read_only: bool = False) -> None:
    """Bring the database behind ``engine`` to :data:`HEAD`, or raise StateError naming ``where``."""
    with engine.connect() as conn:
        conn.execution_options(read_only=True)
        found = revision_of(conn)
        if found == HEAD:
            return
        if read_only:
            with _quiet_alembic():
                _check(conn, where, found)
            return
    with _MIGRATING, _quiet_alembic(), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:lock_class, :lock_id)"), _SCHEMA_LOCK)
        found = revision_of(conn)  # another process may have migrated it meanwhile
        if found == HEAD:
            return
        if found is None and _empty(conn):
            _create_at_head(conn)
            before = None
        else:
            before = _check(conn, where, found)
            _upgrade(conn)
    if before is None:
        log.info("state %s: new, its tables made at schema revision %s", where, HEAD)
    else:
        log.info("state %s: schema upgraded from %s to revision %s", where, before, HEAD)


def revision_of(conn: sa.Connection) -> str | None:
    """The schema revision recorded in the database, or None when it has none."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    found = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if not found:
        return None
    return ",".join(sorted(str(revision) for revision in found))  # one row; several would be branches we never make


@functools.cache
def script() -> ScriptDirectory:
    """The revisions shipped in :mod:`.migrations`."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS))


def revision_one_columns() -> dict[str, set[str]]:
    """Table → column names of revision 1 (the schema connector-core 0.2 made without a version table)."""
    first = script().get_revision("0001")
    assert first is not None and first.module is not None
    metadata: sa.MetaData = first.module.metadata
    return {name: {column.name for column in table.columns} for name, table in metadata.tables.items()}


def _check(conn: sa.Connection, where: str, found: str | None) -> str | None:
    """Raise StateError unless the database can be upgraded from ``found`` (or read as it is); else say
    what it is: ``"revision N"``, connector-core 0.2's tables, or None for a database without them."""
    if found is not None:
        known = {revision.revision for revision in script().walk_revisions()}
        if found not in known:
            raise StateError(
                f"{where}: the state database is at schema revision {found}, which this connector-core does not know "
                f"(it knows revisions up to {HEAD}): it was created by a newer connector-core; upgrade connector-core to use it",
                hint="pip install -U connector-core, on every host that runs connections with this state",
            )
        return f"revision {found}"
    inspector = sa.inspect(conn)
    wrong = []
    present = 0
    for table, expected in sorted(revision_one_columns().items()):
        if not inspector.has_table(table):
            continue  # a new database, or a store made before the table existed: the upgrade creates it
        present += 1
        columns = {column["name"] for column in inspector.get_columns(table)}
        if columns != expected:
            extra, missing = sorted(columns - expected), sorted(expected - columns)
            what = "; ".join(part for part in (f"has {', '.join(extra)}" if extra else "", f"lacks {', '.join(missing)}" if missing else "") if part)
            wrong.append(f"table {table} {what}")
    if wrong:
        raise StateError(
            f"{where}: not a connector-core state database (or one changed by hand): it has no schema version "
            f"({VERSION_TABLE}), and its tables differ from those connector-core makes: {'; '.join(wrong)}",
            hint="give the state a new file, or a PostgreSQL database (or schema) of its own; or restore this one from a backup",
        )
    return "connector-core 0.2's tables (no schema version)" if present else None


def _upgrade(conn: sa.Connection) -> None:
    """Run every revision after the database's own, in ``conn``'s transaction."""
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext

    scripts = script()

    def steps(revision: Any, _context: Any) -> Any:
        return scripts._upgrade_revs(HEAD, revision)  # what `alembic upgrade` runs

    with EnvironmentContext(Config(), scripts, fn=steps, destination_rev=HEAD) as environment:
        environment.configure(connection=conn, version_table=VERSION_TABLE)
        environment.run_migrations()


def _empty(conn: sa.Connection) -> bool:
    """None of the state's tables is there yet: a new database."""
    from connector_core.sync.store.tables import metadata

    inspector = sa.inspect(conn)
    return not any(inspector.has_table(name) for name in metadata.tables)


def _create_at_head(conn: sa.Connection) -> None:
    """A new database gets the newest tables at once and is stamped :data:`HEAD`, as ``alembic stamp``
    would: no revision to replay, and no import of Alembic (about 12 MB and 120 ms) for the first run of
    every connection. ``tables.py`` is the head schema: a test compares the two."""
    from connector_core.sync.store.tables import metadata

    metadata.create_all(conn)
    version = sa.Table(VERSION_TABLE, sa.MetaData(), sa.Column("version_num", sa.String(32), primary_key=True))
    version.create(conn)
    conn.execute(version.insert().values(version_num=HEAD))


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Alembic's INFO lines ("Will assume non-transactional DDL", its plugins) say nothing to a user, and
    that one is wrong here: our own line says what happened. Unless the user set Alembic's level."""
    chatter = logging.getLogger("alembic")
    level = chatter.level
    if level == logging.NOTSET:
        chatter.setLevel(logging.WARNING)
    try:
        yield
    finally:
        chatter.setLevel(level)


__all__ = ["HEAD", "MIGRATIONS", "VERSION_TABLE", "ensure_schema", "revision_of", "revision_one_columns", "script"]
