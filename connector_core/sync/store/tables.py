"""The state store's tables (SQLAlchemy Core), one definition for every SQL back end.

Every row carries the connection's name, so one database can hold many connections. These are the
tables at the newest schema revision: a change here needs a migration in :mod:`.migrations` (a test
compares the two).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("connection", sa.String, primary_key=True),
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

#: The ID map: one row per (flow, read record), with what we last wrote for it.
id_map = sa.Table(
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
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_id_map_dest", "connection", "dest_id"),
    sa.Index("ix_id_map_external", "connection", "flow", "external_id"),
)

pending = sa.Table(
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

dead_letters = sa.Table(
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

#: Second effects of acknowledged writes (the write-back of a new id), recorded in the transaction that
#: records the write and removed in the one that records their acknowledgement.
outbox = sa.Table(
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
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
)

runs = sa.Table(
    "runs",
    metadata,
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

#: One row per connection. ``token`` (revision 2) is the fencing token: it goes up by one each time an
#: owner takes the lease (a released lease keeps its row, expired, so the count never restarts), and a
#: commit goes through only while the row still carries its owner's token.
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("connection", sa.String, primary_key=True),
    sa.Column("owner", sa.String, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("token", sa.Integer, nullable=False, server_default="0"),
)
