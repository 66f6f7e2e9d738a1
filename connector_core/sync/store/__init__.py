"""Durable sync state: cursors, the ID map, written hashes, the pending ledger, dead letters, runs, leases.

:class:`StateStore` (in :mod:`.protocol`) is the small interface the runner needs; :class:`SQLiteStateStore` (in :mod:`.sqlite`) implements it on
one SQLite file (WAL, ``synchronous=FULL``) with SQLAlchemy Core, so a PostgreSQL store can follow with
the same tables. One database may hold several connections: every row carries the connection name.

``with store.batch() as tx:`` is one transaction. The runner commits each destination batch in one:
the ID map entries and hashes of the records the destination acknowledged, the ledger entries they
clear, the records it rejected (dead letters) and the cursor those records cover, all or nothing.
Nothing secret is stored: records, ids, hashes, reasons (already redacted) and counts.
"""

from connector_core.sync.store.protocol import (
    COUNT_NAMES,
    DeadLetter,
    MappedRecord,
    OutboxEntry,
    RunRecord,
    StateStore,
    Transaction,
    lease_owner,
    owner_alive,
    when,
)
from connector_core.sync.store.sqlite import SQLiteStateStore

__all__ = [
    "COUNT_NAMES",
    "DeadLetter",
    "MappedRecord",
    "OutboxEntry",
    "RunRecord",
    "SQLiteStateStore",
    "StateStore",
    "Transaction",
    "lease_owner",
    "owner_alive",
    "when",
]
