"""``connector-core state export|import|migrate``: a connection's whole state as JSON lines, read from
one state database and written into another (SQLite or PostgreSQL), all or nothing.

The commands belong to the ``state`` group of :mod:`.state_verbs`, which adds them (this module does not
import it); the rows are read and written by :mod:`connector_core.sync.store.transfer`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from connector_core.cli.app import Context, guarded, pass_context
from connector_core.errors import StateError


def require_a_state(connection: str | None, state_option: str | None) -> None:
    """The state commands need a CONNECTION file or --state; a usage error (exit 2) otherwise."""
    if not connection and not state_option:
        raise click.UsageError("give a CONNECTION file or --state PATH")

def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {n}" for table, n in counts.items())


def _open_existing(location: str | Path, name: str) -> Any:
    """The store at ``location``, which must exist (a SQLite file is never created by reading it)."""
    from connector_core.sync.store import backend_of, open_store
    from connector_core.sync.store.backends import sqlite_path

    if backend_of(location) == "sqlite" and not sqlite_path(location).exists():
        raise StateError(f"{sqlite_path(location)}: no such file", hint="the connection has not run yet, or its state is elsewhere: give --state")
    return open_store(location, name, create_parent=False)


def _nonempty(store: Any) -> dict[str, int]:
    """The connection's rows per table; StateError when it has none there."""
    from connector_core.sync.store.transfer import connections_in, count_rows

    with store.engine.connect() as conn:
        counts: dict[str, int] = count_rows(conn, store.connection)
    if not any(counts.values()):
        held = connections_in(store)
        raise StateError(
            f"{store.where}: holds no state of connection '{store.connection}' (it holds: {', '.join(held) or 'nothing'})",
            hint="check the connection's name (its file's `name:`), or the state location",
        )
    return counts


def _take_lease(store: Any, undone: str) -> str | None:
    """Take the connection's lease in ``store`` (its owner), or say who holds it and return None."""
    from connector_core.sync.records import LEASE_SECONDS
    from connector_core.sync.store import lease_owner

    owner = lease_owner()
    if store.acquire_lease(owner, LEASE_SECONDS) is None:
        holder = store.lease_holder()
        click.echo(
            f"error: {store.where}: connection '{store.connection}' is being run by {holder[0] if holder else 'another process'}; "
            f"{undone}\n  hint: wait for the run to finish (`connector-core status` shows it), or stop it, then try again",
            err=True,
        )
        return None
    return owner


@click.command("export")
@click.argument("connection", required=False, type=click.Path(dir_okay=False))
@click.option("--state", "state_option", help="State database (a path or a URL) to export from, instead of the CONNECTION file's.")
@click.option("--name", help="The connection's name in that database (with --state and no CONNECTION).")
@click.option("-o", "--output", default="-", type=click.Path(dir_okay=False, allow_dash=True), help="Write the lines to FILE instead of stdout.")
@pass_context
def export(ctx: Context, connection: str | None, state_option: str | None, name: str | None, output: str) -> None:
    """Write the state of CONNECTION as JSON lines, from SQLite or PostgreSQL, for `state import`.

    A header line, one line per row of its cursors, ID map, pending writes, dead letters, outbox and run
    log, and a trailer with the row count per table (a file cut short is refused on import). It reads
    one consistent snapshot, safely while a run is writing. No secret is in it.
    """
    if not connection and not (state_option and name):
        raise click.UsageError("give a CONNECTION file, or --state LOCATION with --name CONNECTION_NAME")
    guarded(_export)(ctx, connection, state_option, name, output)


def _export(ctx: Context, connection: str | None, state_option: str | None, name: str | None, output: str) -> None:
    import contextlib

    from connector_core.sync.store.transfer import export_lines

    if connection:
        from connector_core.sync.connection import load_connection

        loaded = load_connection(Path(connection), ctx.registry)
        if name and name != loaded.name:
            raise click.UsageError(f"--name {name} differs from the name in {connection} ({loaded.name}); leave --name out")
        name, location = loaded.name, loaded.state_location(state_option)
    else:
        from connector_core.sync.connection import is_url

        assert state_option is not None and name is not None  # export() checked
        location = state_option if is_url(state_option) else Path(state_option)
    last = ""
    with _open_existing(location, name) as store:
        _nonempty(store)
        with contextlib.closing(export_lines(store)) as lines:
            if output == "-":
                for last in lines:
                    sys.stdout.write(last)
                sys.stdout.flush()
            else:  # written beside, renamed when whole
                target = Path(output)
                temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
                try:
                    with open(temporary, "w", encoding="utf-8") as handle:
                        for last in lines:
                            handle.write(last)
                    os.replace(temporary, target)
                finally:
                    temporary.unlink(missing_ok=True)
        counts = json.loads(last)["trailer"]["rows"]
        click.echo(f"exported connection '{name}' from {store.where} ({_counted(counts)}){'' if output == '-' else f' to {output}'}", err=True)


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("connection", required=False, type=click.Path(dir_okay=False))
@click.option("--state", "state_option", help="State database (a path or a URL) to import into, instead of the CONNECTION file's.")
@click.option("--replace", is_flag=True, help="Replace the state the connection already has there (its rows only).")
@click.option("--as", "as_name", metavar="NAME", help="Import under this connection name instead of the file's.")
@pass_context
def import_(ctx: Context, file: str, connection: str | None, state_option: str | None, replace: bool, as_name: str | None) -> None:
    """Put the state exported in FILE (`-`: stdin) into the state of CONNECTION (or --state LOCATION).

    Refused (exit 1, naming the line) when FILE is not a whole export; refused when the target already
    holds state of that connection, unless --replace; refused (exit 7) while a run holds the
    connection's lease there. Everything is written in one transaction; runs get new ids there.
    """
    require_a_state(connection, state_option)
    guarded(_import)(ctx, file, connection, state_option, replace, as_name)


def _import(ctx: Context, file: str, connection: str | None, state_option: str | None, replace: bool, as_name: str | None) -> None:
    import contextlib

    from connector_core.cli.sync_verbs import EXIT_LOCKED
    from connector_core.sync.connection import is_url
    from connector_core.sync.store import open_store
    from connector_core.sync.store.transfer import import_lines, read_header

    create_parent = False
    location: str | Path | None = None
    if connection:
        from connector_core.sync.connection import load_connection

        loaded = load_connection(Path(connection), ctx.registry)
        location = loaded.state_location(state_option)
        create_parent = location == loaded.default_state_path()  # as `run`: only the default .state directory is made
    elif state_option:
        location = state_option if is_url(state_option) else Path(state_option)
    assert location is not None  # require_a_state checked
    source = "<stdin>" if file == "-" else file
    if file != "-" and not Path(file).is_file():
        raise StateError(f"{file}: no such file", hint="give the file `connector-core state export` wrote")
    with contextlib.ExitStack() as stack:
        handle = sys.stdin if file == "-" else stack.enter_context(open(file, encoding="utf-8"))
        lines = iter(handle)
        header = read_header(next(lines, None), source)
        name = as_name or header["connection"]
        if connection and name != loaded.name:
            raise StateError(
                f"{source}: holds the state of connection '{header['connection']}', and {connection} is connection '{loaded.name}'",
                hint=f"to import it under that name, add --as {loaded.name}",
            )
        store = stack.enter_context(open_store(location, name, create_parent=create_parent))
        owner = _take_lease(store, "nothing was imported")
        if owner is None:
            sys.exit(EXIT_LOCKED)
        try:
            counts = import_lines(store, lines, source, replace=replace)
        finally:
            store.release_lease(owner)
        renamed = f" as '{name}'" if name != header["connection"] else ""
        click.echo(f"imported connection '{header['connection']}'{renamed} into {store.where} ({_counted(counts)})", err=True)
        click.echo(store.where)


@click.command()
@click.argument("connections", nargs=-1, required=True, type=click.Path(exists=True), metavar="CONNECTION...")
@click.option("--to", "target", required=True, metavar="LOCATION", help="The state database to move to: postgresql://… or a SQLite path.")
@click.option("--replace", is_flag=True, help="Replace the state a connection already has there.")
@pass_context
def migrate(ctx: Context, connections: tuple[str, ...], target: str, replace: bool) -> None:
    """Move the state of each CONNECTION (files, or directories of them) to LOCATION, and check it arrived.

    Each connection's state is exported from where it is now (its `state:`, $CONNECTOR_CORE_STATE_URL
    or .state/NAME.sqlite) and imported into LOCATION, both leases held meanwhile; the row counts per
    table are then compared. The old state is left as it was. Afterwards point the connections at
    LOCATION (this prints how). Exit 7 when a run held a connection's lease, 1 on any other failure.
    """
    guarded(_migrate)(ctx, connections, target, replace)


def _migrate(ctx: Context, connections: tuple[str, ...], target: str, replace: bool) -> None:
    from connector_core.cli.sync_verbs import EXIT_LOCKED, _connection_files
    from connector_core.errors import ConnectorError
    from connector_core.sync.connection import is_url, load_connection
    from connector_core.sync.store.postgres import display_url

    paths = [found for given in map(Path, connections) for found in (_connection_files(given) if given.is_dir() else [given])]
    to: str | Path = target if is_url(target) else Path(target)
    shown = display_url(target) if is_url(target) else target
    moved: list[tuple[Path, str | None]] = []
    worst = 0
    for path in paths:
        try:
            loaded = load_connection(path, ctx.registry)
            code = _migrate_one(loaded.name, loaded.state_location(), to, replace)
        except ConnectorError as exc:
            click.echo(f"{path}: error: {exc}", err=True)
            code = 1
        if code == _MOVED:
            moved.append((path, loaded.connection.state))
            code = 0
        worst = max(worst, code, key=[0, EXIT_LOCKED, 1].index)
    if moved:
        click.echo(f"next: point these connections at {shown} before they run again:", err=True)
        plain = [str(path) for path, own in moved if not own]
        if plain:
            click.echo(f"  set CONNECTOR_CORE_STATE_URL to it where they run (their files name no `state:`): {', '.join(plain)}", err=True)
        for path, own in moved:
            if own:
                click.echo(f"  {path}: change its `state: {own}` to it", err=True)
        click.echo("the old state is left as it was: keep it until a run on the new one has succeeded", err=True)
    sys.exit(worst)


#: What _migrate_one returns for a connection to point at the target: moved, or with no state to move yet.
_MOVED = -1


def _migrate_one(name: str, source: str | Path, target: str | Path, replace: bool) -> int:
    """Move one connection's state: :data:`_MOVED`; 0 its state is there already; 7 a lease was held.
    StateError otherwise."""
    import contextlib

    from connector_core.cli.sync_verbs import EXIT_LOCKED
    from connector_core.sync.store import backend_of, open_store
    from connector_core.sync.store.backends import sqlite_path
    from connector_core.sync.store.transfer import count_rows, export_lines, import_lines, read_header

    if _same_place(source, target):
        click.echo(f"{name}: its state is there already; skipped", err=True)
        return 0
    if backend_of(source) == "sqlite" and not sqlite_path(source).exists():
        click.echo(f"{name}: no state yet ({source} does not exist); nothing to migrate", err=True)
        return _MOVED
    with contextlib.ExitStack() as stack:
        src = stack.enter_context(open_store(source, name, create_parent=False))
        try:
            _nonempty(src)
        except StateError:
            click.echo(f"{name}: no state in {src.where}; nothing to migrate", err=True)
            return _MOVED
        dst = stack.enter_context(open_store(target, name, create_parent=False))
        for store in (src, dst):  # no run changes the source meanwhile, nor starts on the target
            owner = _take_lease(store, "its state was not migrated")
            if owner is None:
                return EXIT_LOCKED
            stack.callback(store.release_lease, owner)
        lines = stack.enter_context(contextlib.closing(export_lines(src)))
        read_header(next(lines), src.where)
        counts = import_lines(dst, lines, f"the export of {src.where}", replace=replace)
        with dst.engine.connect() as conn:
            found = count_rows(conn, name)
        if found != counts:
            raise StateError(f"{dst.where}: connection '{name}': {_counted(found)} arrived, {_counted(counts)} were sent", hint="run the migrate again with --replace")
        click.echo(f"{name}: moved from {src.where} to {dst.where}; rows per table match ({_counted(found)})", err=True)
    return _MOVED


def _same_place(one: str | Path, other: str | Path) -> bool:
    from connector_core.sync.store import backend_of
    from connector_core.sync.store.backends import sqlite_path

    if backend_of(one) != backend_of(other):
        return False
    if backend_of(one) == "sqlite":
        return sqlite_path(one).resolve() == sqlite_path(other).resolve()
    import sqlalchemy as sa

    def server(url: str | Path) -> tuple[object, ...]:
        parsed = sa.make_url(str(url))
        return parsed.host, parsed.port or 5432, parsed.database, parsed.username

    return server(one) == server(other)


__all__ = ["export", "import_", "migrate", "require_a_state"]
