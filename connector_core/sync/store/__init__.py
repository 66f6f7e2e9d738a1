"""Durable sync state: cursors, the ID map, written hashes, the pending ledger, dead letters, runs, leases.

:class:`StateStore` (in :mod:`.protocol`) is the small interface the runner needs. Two back ends
implement it on the same tables (:mod:`.tables`) with SQLAlchemy Core, sharing :mod:`.sql`:
:class:`SQLiteStateStore` (:mod:`.sqlite`), one file on a local disk (WAL, ``synchronous=FULL``), and
:class:`PostgresStateStore` (:mod:`.postgres`), one server database that many hosts share.
:func:`open_store` picks one from a URL or a path. Either brings its schema to the newest revision when
it opens (:mod:`.schema`, Alembic revisions in :mod:`.migrations`). One database may hold several
connections: every row carries the connection name.

``with store.batch() as tx:`` is one transaction. The runner commits each destination batch in one:
the ID map entries and hashes of the records the destination acknowledged, the ledger entries they
clear, the records it rejected (dead letters) and the cursor those records cover, all or nothing. Once
the store has granted a lease (:meth:`~StateStore.acquire_lease`), each such transaction is fenced
with it: it raises :class:`~connector_core.errors.LeaseLostError` if another run took the lease over.
Nothing secret is stored: records, ids, hashes, reasons (already redacted) and counts.
"""

from connector_core.sync.store.backends import backend_of, open_store
from connector_core.sync.store.postgres import PostgresStateStore
from connector_core.sync.store.protocol import (
    COUNT_NAMES,
    DeadLetter,
    Lease,
    MappedRecord,
    OutboxEntry,
    RunRecord,
    StateStore,
    Transaction,
    lease_owner,
    owner_alive,
    when,
)
from connector_core.sync.store.sql import SQLStateStore
from connector_core.sync.store.sqlite import SQLiteStateStore

__all__ = [
    "COUNT_NAMES",
    "DeadLetter",
    "Lease",
    "MappedRecord",
    "OutboxEntry",
    "PostgresStateStore",
    "RunRecord",
    "SQLStateStore",
    "SQLiteStateStore",
    "StateStore",
    "Transaction",
    "backend_of",
    "lease_owner",
    "open_store",
    "owner_alive",
    "when",
]
