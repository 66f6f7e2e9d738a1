"""``connector-core state``: the state database as a file an operator keeps (``backup``, ``restore``), and a
connection's state moved between databases (``export``, ``import``, ``migrate``).

- ``backup`` copies the SQLite state with SQLite's online backup API: one read transaction, a consistent
  snapshot even while a run commits (WAL readers do not block writers), written to a temporary file,
  checked, switched to a single file (no ``-wal``) and renamed into place.
- ``restore`` checks the source is a connector-core state database (not empty, a SQLite file, its
  ``-wal`` sound, SQLite's quick check, the state tables present: :mod:`connector_core.sync.store.checks`
  and the store's tables), then takes the lease of every connection in the target so that no run starts
  meanwhile, refusing (exit 7) while a run holds one; keeps the current state beside it
  (``NAME.before-restore-TIME``), and copies the source in with the same API, in one transaction.

- ``export`` writes one connection's state as JSON lines (:mod:`connector_core.sync.store.transfer`: a
  header, the rows, a trailer with the counts) from either back end; ``import`` takes the connection's
  lease in the target (exit 7 while a run holds it) and writes the file in one transaction, refusing a
  target that already holds the connection's state unless ``--replace``; ``migrate`` does both for
  connection files (or directories of them) into ``--to LOCATION`` and checks the counts.

backup and restore print what they did on stderr, and the file they wrote on stdout; export writes the
lines on stdout (or ``-o FILE``) and the rest say what they did on stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import click

from connector_core.cli.app import Context, guarded, pass_context
from connector_core.cli.state_transfer_verbs import export, import_, migrate, require_a_state
from connector_core.errors import StateError

#: The tables whose rows name a connection (``SELECT DISTINCT connection``).
_NAMED_TABLES = ("runs", "cursors", "leases", "id_map", "dead_letters")


@click.group()
def state() -> None:
    """Back up, restore, export, import and migrate a sync's state (cursors, ID map, dead letters, outbox, run log)."""


def _state_path(ctx: Context, connection: str | None, state_option: str | None) -> tuple[Path, str | None]:
    """The state file (``--state`` wins, as for ``run``) and the connection's name when a file was given."""
    from connector_core.errors import StateError
    from connector_core.sync.store import backend_of
    from connector_core.sync.store.backends import sqlite_path

    name = None
    location: str | Path | None = state_option
    if connection:
        from connector_core.sync.connection import load_connection

        loaded = load_connection(Path(connection), ctx.registry)
        name = loaded.name
        location = loaded.state_location(state_option)
    assert location is not None  # require_a_state checked that one of them is given
    if backend_of(location) != "sqlite":
        raise StateError(
            "state backup and restore copy a SQLite file; this state is a PostgreSQL database",
            hint="back it up with the server's tools (pg_dump, or your provider's snapshots), or move a "
            "connection's state as JSON with `connector-core state export` / `state import`",
        )
    return sqlite_path(location), name


@contextmanager
def _sqlite(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    with closing(sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None)) as conn:
        yield conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _connections(conn: sqlite3.Connection) -> set[str]:
    tables = _tables(conn)
    names: set[str] = set()
    for table in _NAMED_TABLES:
        if table in tables:
            names.update(row[0] for row in conn.execute(f"SELECT DISTINCT connection FROM {table}"))
    return names


def check_state_database(path: Path, role: str = "state database") -> None:
    """Raise StateError unless ``path`` is a sound connector-core state database (see the module docstring)."""
    from connector_core.sync.store.checks import check_state_file
    from connector_core.sync.store.tables import metadata

    if not path.exists():
        raise StateError(f"{path}: no such file", hint=f"give the path of a {role}")
    try:
        check_state_file(path, create_parent=False)
    except StateError as exc:
        raise StateError(f"{path}: not a usable connector-core {role}: {exc.message.removeprefix(f'{path}: ')}", hint=f"give the path of a {role}") from None
    try:
        with _sqlite(path, read_only=True) as conn:
            found = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
            tables = _tables(conn)
    except sqlite3.DatabaseError as exc:
        raise StateError(f"{path}: not a usable connector-core {role}: SQLite cannot read it ({exc})", hint=f"give the path of a {role}") from None
    if found != ["ok"]:
        raise StateError(f"{path}: not a usable connector-core {role}: SQLite finds it damaged: {'; '.join(found[:3])}", hint="use another backup")
    missing = sorted(set(metadata.tables) - tables)
    if missing:
        raise StateError(
            f"{path}: not a connector-core {role}: a SQLite database without the state tables {', '.join(missing)}",
            hint="give a file written by `connector-core state backup` or a run's state file (.state/NAME.sqlite)",
        )


def _copy(source: Path, dest: Path) -> None:
    """SQLite's online backup of ``source`` into a new single file ``dest`` (written beside, checked, renamed)."""
    temporary = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with _sqlite(source) as src, _sqlite(temporary) as dst:
            src.backup(dst)  # all pages in one step: one read transaction, a consistent snapshot; writers go on (WAL)
            dst.execute("PRAGMA journal_mode = DELETE")  # the copy is one self-contained file
            found = [row[0] for row in dst.execute("PRAGMA quick_check(5)")]
        if found != ["ok"]:
            raise StateError(f"{dest}: the copy fails SQLite's check: {'; '.join(found[:3])}", hint="check the disk, and try again")
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, dest)
    finally:
        temporary.unlink(missing_ok=True)


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@state.command()
@click.argument("connection", nargs=-1, metavar="[CONNECTION]", type=click.Path(dir_okay=False))
@click.argument("dest", type=click.Path())
@click.option("--state", "state_option", type=click.Path(dir_okay=False), help="State database to back up (instead of a CONNECTION file's).")
@click.option("--overwrite", is_flag=True, help="Replace DEST when it is an existing file.")
@pass_context
def backup(ctx: Context, connection: tuple[str, ...], dest: str, state_option: str | None, overwrite: bool) -> None:
    """Copy the state of CONNECTION (or --state PATH) to DEST, safely while a run is writing.

    DEST is a file, or a directory that receives NAME-TIME.sqlite. The copy is one SQLite file with
    everything the state holds; `state restore` puts it back.
    """
    if len(connection) > 1:
        raise click.UsageError(f"one CONNECTION at most, got {len(connection)}: {' '.join(connection)}")
    require_a_state(connection[0] if connection else None, state_option)
    guarded(_backup)(ctx, connection[0] if connection else None, dest, state_option, overwrite)



def _backup(ctx: Context, connection: str | None, dest: str, state_option: str | None, overwrite: bool) -> None:
    source, _ = _state_path(ctx, connection, state_option)
    check_state_database(source)
    target = Path(dest)
    if target.is_dir():
        stamp, suffix = _stamp(), source.suffix or ".sqlite"
        target = target / f"{source.stem}-{stamp}{suffix}"
        for again in range(2, 100):  # two backups within a second keep both
            if not target.exists():
                break
            target = target.with_name(f"{source.stem}-{stamp}-{again}{suffix}")
    elif target.exists() and not overwrite:
        raise StateError(f"{target}: already exists", hint="choose another name, a directory, or add --overwrite")
    elif not target.parent.is_dir():
        raise StateError(f"{target}: its directory {target.parent} does not exist", hint=f"create it (mkdir -p {target.parent})")
    _copy(source, target)
    with _sqlite(target, read_only=True) as conn:
        runs = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        cursors = conn.execute("SELECT COUNT(*) FROM cursors").fetchone()[0]
    click.echo(f"backed up {source} to {target} ({target.stat().st_size} bytes; {cursors} cursors, {runs} runs)", err=True)
    click.echo(str(target))


def _leases(conn: sqlite3.Connection, names: set[str], owner: str, now: float) -> None:
    """Make ``owner`` the holder of every lease of ``names``, and the only one (the caller's transaction)."""
    from connector_core.sync.records import LEASE_SECONDS

    conn.execute("DELETE FROM leases WHERE connection NOT IN (SELECT value FROM json_each(?))", (json.dumps(sorted(names)),))
    conn.executemany(
        "INSERT INTO leases (connection, owner, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT (connection) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at",
        [(name, owner, now + LEASE_SECONDS) for name in sorted(names)],
    )


def _take_leases(conn: sqlite3.Connection, names: set[str], owner: str) -> tuple[str, str] | None:
    """In one transaction: the (connection, owner) of a live lease, or None after taking the leases of ``names``."""
    from connector_core.sync.store import owner_alive

    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    try:
        for name, holder, expires in conn.execute("SELECT connection, owner, expires_at FROM leases").fetchall():
            if expires > now and owner_alive(holder):
                conn.execute("ROLLBACK")
                return name, holder
        _leases(conn, names | _connections(conn), owner, now)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return None


@state.command()
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("connection", required=False, type=click.Path(dir_okay=False))
@click.option("--state", "state_option", type=click.Path(dir_okay=False), help="State database to restore into (instead of the CONNECTION file's).")
@pass_context
def restore(ctx: Context, src: str, connection: str | None, state_option: str | None) -> None:
    """Put the backup SRC back as the state of CONNECTION (or --state PATH).

    Refused (exit 7) while a run holds a lease of that state; the state it replaces is kept as
    NAME.before-restore-TIME beside it. SRC must be a connector-core state database (exit 1 otherwise).
    """
    require_a_state(connection, state_option)
    guarded(_restore)(ctx, src, connection, state_option)


def _restore(ctx: Context, src: str, connection: str | None, state_option: str | None) -> None:
    from connector_core.cli.sync_verbs import EXIT_LOCKED
    from connector_core.sync.store import lease_owner
    from connector_core.sync.store.checks import move_aside

    source = Path(src)
    target, name = _state_path(ctx, connection, state_option)
    check_state_database(source, "state backup")
    with _sqlite(source, read_only=True) as conn:
        held = _connections(conn)
    if name is not None and name not in held:
        raise StateError(
            f"{source}: holds no state of connection '{name}' (it holds: {', '.join(sorted(held)) or 'nothing'})",
            hint="give the backup of this connection's state",
        )
    if target.is_dir():
        raise StateError(f"{target}: the state path is a directory, not a file", hint="give the SQLite file's path (--state)")
    if not target.parent.is_dir():
        raise StateError(f"{target}: its directory {target.parent} does not exist", hint=f"create it (mkdir -p {target.parent})")
    if target.exists():
        try:
            check_state_database(target)
        except StateError as exc:
            kept = move_aside(target)  # a damaged state cannot say whether a run holds it; nothing can use it either
            click.echo(f"state: {exc.message}; kept as {kept.name}", err=True)
    owner = lease_owner()
    incoming = target.with_name(f".{target.name}.restore-{os.getpid()}.tmp")
    kept_as = None
    try:
        _copy(source, incoming)
        with _sqlite(incoming) as conn:  # the copy holds our leases, so no run starts on it before they are dropped
            conn.execute("BEGIN IMMEDIATE")
            _leases(conn, held, owner, time.time())
            conn.execute("COMMIT")
        with _sqlite(target) as conn:
            conn.execute("PRAGMA busy_timeout = 30000")
            if target.stat().st_size > 0:
                taken = _take_leases(conn, held, owner)
                if taken is not None:
                    click.echo(
                        f"error: {target}: connection '{taken[0]}' is being run by {taken[1]}; nothing was restored\n"
                        "  hint: wait for the run to finish (`connector-core status` shows it), or stop it, then restore",
                        err=True,
                    )
                    sys.exit(EXIT_LOCKED)
                kept_as = target.with_name(f"{target.name}.before-restore-{_stamp()}")
                with _sqlite(kept_as) as aside:
                    conn.backup(aside)
                    aside.execute("DELETE FROM leases WHERE owner = ?", (owner,))
                    aside.execute("PRAGMA journal_mode = DELETE")
            with _sqlite(incoming) as copy:
                copy.backup(conn)  # one write transaction on the target: a reader sees the old state or the new one
            conn.execute("DELETE FROM leases WHERE owner = ?", (owner,))
    finally:
        incoming.unlink(missing_ok=True)
    check_state_database(target)
    with _sqlite(target, read_only=True) as conn:
        cursors = conn.execute("SELECT COUNT(*) FROM cursors").fetchone()[0]
    note = f"; the state it replaced is kept as {kept_as.name}" if kept_as else ""
    click.echo(f"restored {target} from {source} ({cursors} cursors){note}", err=True)
    click.echo(str(target))


# -- export, import, migrate: a connection's state between databases ----------------------------------


for _command in (export, import_, migrate):
    state.add_command(_command)
COMMANDS = [state]

__all__ = ["COMMANDS", "check_state_database", "state"]
