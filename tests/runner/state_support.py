"""Helpers for the state store tests: a state location on each back end, and the schema of connector-core
0.2 (the last release before versioned migrations), frozen, to make the stores it made."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connector_core.sync.store import SQLStateStore, open_store

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def state_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's state lives: a SQLite file, or a new PostgreSQL database (skipped without a server)."""
    if request.param == "sqlite":
        return str(tmp_path / "state.sqlite")
    url: str = request.getfixturevalue("postgres_url")
    return url


Open = Callable[..., SQLStateStore]


@pytest.fixture
def opened(state_location: str) -> Iterator[Open]:
    """Opens stores on the test's state location (each closed after the test)."""
    stores: list[SQLStateStore] = []

    def open_(connection: str = "conn", **options: object) -> SQLStateStore:
        stores.append(open_store(state_location, connection, **options))  # type: ignore[arg-type]
        return stores[-1]

    yield open_
    for store in stores:
        store.close()


#: connector_core/sync/store/tables.py as connector-core 0.2 shipped it (before the lease's token), verbatim.
metadata_0_2 = sa.MetaData()

sa.Table(
    "cursors",
    metadata_0_2,
    sa.Column("connection", sa.String, primary_key=True),
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
sa.Table(
    "id_map",
    metadata_0_2,
    sa.Column("connection", sa.String, primary_key=True),
    sa.Column("flow", sa.String, primary_key=True),
    sa.Column("source_id", sa.String, primary_key=True),
    sa.Column("dest_id", sa.String),
    sa.Column("external_id", sa.String),
    sa.Column("hash", sa.String),
    sa.Column("written_at", sa.Float),
    sa.Column("caused_modified", sa.String),
    sa.Column("source_modified", sa.String),
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_id_map_dest", "connection", "dest_id"),
    sa.Index("ix_id_map_external", "connection", "flow", "external_id"),
)
sa.Table(
    "pending_writes",
    metadata_0_2,
    sa.Column("connection", sa.String, primary_key=True),
    sa.Column("flow", sa.String, primary_key=True),
    sa.Column("source_id", sa.String, primary_key=True),
    sa.Column("external_id", sa.String),
    sa.Column("operation", sa.String, nullable=False),
    sa.Column("run_id", sa.Integer),
    sa.Column("created_at", sa.Float, nullable=False),
)
sa.Table(
    "dead_letters",
    metadata_0_2,
    sa.Column("connection", sa.String, primary_key=True),
    sa.Column("flow", sa.String, primary_key=True),
    sa.Column("source_id", sa.String, primary_key=True),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
)
sa.Table(
    "outbox",
    metadata_0_2,
    sa.Column("connection", sa.String, primary_key=True),
    sa.Column("flow", sa.String, primary_key=True),
    sa.Column("source_id", sa.String, primary_key=True),
    sa.Column("dest_id", sa.String, nullable=False),
    sa.Column("external_id", sa.String),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("hash", sa.String),
    sa.Column("caused_modified", sa.String),
    sa.Column("source_modified", sa.String),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
)
sa.Table(
    "runs",
    metadata_0_2,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection", sa.String, nullable=False, index=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False, default=False),
    sa.Column("counts", sa.Text, nullable=False, default="{}"),
    sa.Column("errors", sa.Text, nullable=False, default="[]"),
    sa.Column("duration", sa.Float),
)
sa.Table(
    "leases",
    metadata_0_2,
    sa.Column("connection", sa.String, primary_key=True),
    sa.Column("owner", sa.String, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)


def engine_url(location: str) -> str:
    """A SQLAlchemy URL for a state location (a SQLite path, or a PostgreSQL URL)."""
    if location.startswith("postgresql://"):
        return "postgresql+psycopg://" + location.removeprefix("postgresql://")
    return f"sqlite:///{location}"
