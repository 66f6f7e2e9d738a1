"""Which back end a state location names, and opening it: :func:`open_store`.

A location is a URL or a path:

- ``postgresql://USER@HOST:PORT/DATABASE`` (also ``postgres://`` and ``postgresql+psycopg://``): the
  PostgreSQL store (:mod:`.postgres`, ``pip install 'connector-core[postgres]'``);
- ``sqlite:///relative/path.sqlite`` or ``sqlite:////absolute/path.sqlite``: the SQLite store;
- anything else is a path to a SQLite file (:mod:`.sqlite`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from connector_core.errors import StateError
from connector_core.sync.store.sql import SQLStateStore

#: ``scheme://`` at the start of a location (a Windows path's ``C:\\`` has no ``//``).
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")


def backend_of(location: str | Path) -> str:
    """``"postgresql"`` or ``"sqlite"``: the back end ``location`` names; StateError for any other URL."""
    if isinstance(location, Path):
        return "sqlite"
    found = _SCHEME.match(location)
    if found is None:
        return "sqlite"
    scheme = found.group(1).lower()
    if scheme in POSTGRES_SCHEMES or scheme.startswith("postgresql+"):
        return "postgresql"  # another driver than psycopg 3 is refused by the store, saying so
    if scheme == "sqlite":
        return "sqlite"
    from connector_core.sync.store.postgres import display_url

    raise StateError(
        f"{display_url(location)}: unknown state database kind '{scheme}'",
        hint="give a path to a SQLite file, sqlite:///PATH, or postgresql://USER@HOST:PORT/DATABASE",
    )


def sqlite_path(location: str | Path) -> Path:
    """The file a SQLite location names (a path, or ``sqlite:///PATH``)."""
    if isinstance(location, Path) or not location.lower().startswith("sqlite:"):
        return Path(location)
    path = location[len("sqlite:///") :] if location.lower().startswith("sqlite:///") else ""
    path = path.split("?", 1)[0]
    if not path or path == ":memory:":
        raise StateError(f"{location}: the state must be kept in a file", hint="write sqlite:///PATH (three slashes, then the path; four for an absolute one)")
    return Path(path)


def open_store(
    location: str | Path,
    connection: str,
    *,
    clock: Callable[[], float] | None = None,
    create_parent: bool = True,
    reset: bool = False,
) -> SQLStateStore:
    """Open the state of ``connection`` at ``location`` (see the module docstring), its schema brought
    to the newest revision.

    Args:
        location: a PostgreSQL URL, a ``sqlite:///`` URL, or a path to a SQLite file.
        connection: the connection's name (one database may hold many).
        clock: seconds since the epoch (tests replace it).
        create_parent: SQLite: create the file's missing directory (only the default ``.state`` one should be).
        reset: SQLite: move an empty or damaged file aside and start anew (``run --reset-state``); refused
            for PostgreSQL, whose database is never damaged in a way a new file would mend.

    Raises:
        StateError: the location cannot be used, naming it (a URL without its password) and what to do.
    """
    if backend_of(location) == "postgresql":
        from connector_core.sync.store.postgres import PostgresStateStore, display_url

        if reset:
            raise StateError(
                f"{display_url(str(location))}: --reset-state resets a SQLite file only",
                hint="a PostgreSQL state is restored from the server's backups, or its rows deleted by hand",
            )
        return PostgresStateStore(str(location), connection, clock=clock)
    from connector_core.sync.store.sqlite import SQLiteStateStore

    return SQLiteStateStore(sqlite_path(location), connection, clock=clock, create_parent=create_parent, reset=reset)


__all__ = ["POSTGRES_SCHEMES", "backend_of", "open_store", "sqlite_path"]
