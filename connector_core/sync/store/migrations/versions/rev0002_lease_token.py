"""Revision 2: the lease's fencing token (``leases.token``).

Every lease a store grants carries the next token of its connection, and a commit goes through only
while the lease row still carries it (:mod:`connector_core.sync.store.sql`). Existing rows start at 0,
below any token granted from now on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("leases", sa.Column("token", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("leases") as batch:  # SQLite before 3.35 cannot drop a column in place
        batch.drop_column("token")
