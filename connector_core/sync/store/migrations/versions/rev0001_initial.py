"""Revision 1: the schema of connector-core 0.2, the last release without versioned migrations.

Its tables are created only where they are missing (``checkfirst``), with ``IF NOT EXISTS`` indexes:
a 0.2 store has no version table, and :mod:`connector_core.sync.store.schema` runs this revision over it
once its tables are known to match ``metadata`` below (stores made before 0.2 lack the outbox table and
the external-id index, which 0.2 also added on open).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: The tables exactly as connector-core 0.2 created them (``tables.py`` at that release), frozen.
metadata = sa.MetaData()

sa.Table(
    "cursors",
    metadata,
    sa.Column("connection", sa.String, primary_key=True),
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
sa.Table(
    "id_map",
    metadata,
    sa.Column("connection", sa.String, primary_key=True),
    sa.Column("flow", sa.String, primary_key=True),
    sa.Column("source_id", sa.String, primary_key=True),
    sa.Column("dest_id", sa.String),
    sa.Column("external_id", sa.String),
    sa.Column("hash", sa.String),
    sa.Column("written_at", sa.Float),
    sa.Column("caused_modified", sa.String),
    sa.Column("source_modified", sa.String),
    sa.Column("deleted", sa.Boolean, nullable=False),
)
sa.Table(
    "pending_writes",
    metadata,
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
    metadata,
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
    metadata,
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
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
)
sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection", sa.String, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("counts", sa.Text, nullable=False),
    sa.Column("errors", sa.Text, nullable=False),
    sa.Column("duration", sa.Float),
)
sa.Table(
    "leases",
    metadata,
    sa.Column("connection", sa.String, primary_key=True),
    sa.Column("owner", sa.String, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

#: name → (table, columns); created with IF NOT EXISTS, so a store that has one keeps it.
INDEXES = {
    "ix_id_map_dest": ("id_map", ("connection", "dest_id")),
    "ix_id_map_external": ("id_map", ("connection", "flow", "external_id")),
    "ix_runs_connection": ("runs", ("connection",)),
}


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, checkfirst=True)
    for name, (table, columns) in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    metadata.drop_all(op.get_bind(), checkfirst=True)
