"""What the runner needs from a state store: the records it keeps and the :class:`StateStore` protocol.

A back end implements :class:`StateStore` (and its :class:`Transaction`); :mod:`.sqlite` is the embedded
one, :mod:`.postgres` the server one, both on :mod:`.sql`. Lease owners are named ``host:pid:random`` so
a run killed on this host can be told apart from one still alive.

**The lease and its fence.** :meth:`StateStore.acquire_lease` grants a :class:`Lease` carrying the
connection's next fencing token, and the store remembers it. From then on every transaction that
commits run state (:meth:`StateStore.batch`, :meth:`StateStore.add_pending`) first checks, inside
itself, that the lease row still carries this owner and token, and raises
:class:`~connector_core.errors.LeaseLostError` (rolling back) when another run took the lease over: a
worker paused past its lease can never commit after a takeover.
"""


from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

COUNT_NAMES = ("read", "skipped", "unchanged", "created", "updated", "deleted", "failed", "retried")


@dataclass
class MappedRecord:
    """One ID map row."""

    flow: str
    source_id: str
    dest_id: str | None
    external_id: str | None
    hash: str | None
    written_at: float | None
    caused_modified: str | None
    source_modified: str | None
    deleted: bool = False


@dataclass
class DeadLetter:
    flow: str
    source_id: str
    record: dict[str, Any]
    reason: str
    attempts: int
    first_seen: float
    last_seen: float


@dataclass
class OutboxEntry:
    """A write-back owed to the read side for a record whose write was acknowledged.

    ``hash`` is what the ID map stores for the record once the write-back is acknowledged too: until
    then the record is not settled, and reading it again writes it again.
    """

    flow: str
    source_id: str
    dest_id: str
    external_id: str | None
    record: dict[str, Any]
    hash: str | None
    caused_modified: str | None
    source_modified: str | None
    created_at: float = 0.0
    attempts: int = 0
    last_error: str | None = None


@dataclass
class RunRecord:
    id: int
    connection: str
    started_at: float
    ended_at: float | None
    status: str
    dry_run: bool
    counts: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    duration: float | None = None


@dataclass(frozen=True)
class Lease:
    """A lease a store granted: at most one run of a connection holds one at a time.

    ``token`` is the connection's fencing token: one more than the last one granted, so a later holder
    always has a larger token than an earlier one. ``expires_at`` is when another owner may take the
    lease unless a commit renews it.
    """

    connection: str
    owner: str
    token: int
    expires_at: float


class Transaction(Protocol):
    """The writes of one committed batch; all of them or none."""

    def set_cursor(self, key: str, state: dict[str, Any]) -> None: ...
    def clear_cursor(self, key: str) -> None: ...
    def map_record(self, row: MappedRecord) -> None: ...
    def clear_pending(self, flow: str, source_ids: Iterable[str]) -> None: ...
    def dead_letter(self, flow: str, source_id: str, record: dict[str, Any], reason: str) -> None: ...
    def resolve_dead_letter(self, flow: str, source_id: str) -> None: ...
    def renew_lease(self, owner: str, ttl: float) -> None: ...
    def put_outbox(self, entry: OutboxEntry) -> None: ...
    def remove_outbox(self, flow: str, source_id: str) -> None: ...
    def outbox_failed(self, flow: str, source_ids: Iterable[str], error: str) -> None: ...
    def set_run_counts(self, run_id: int, counts: dict[str, Any]) -> None: ...


class StateStore(Protocol):
    """What the runner needs from a state store (SQLite or PostgreSQL).

    ``where`` names the database in messages (a path, or a URL without its password); ``lease`` is the
    lease this store granted and still holds, which its commits are fenced with (None: not fenced, e.g.
    a dry run or ``status``).
    """

    connection: str
    where: str
    lease: Lease | None

    def cursor(self, key: str) -> dict[str, Any] | None: ...
    def mapped(self, flow: str, source_id: str) -> MappedRecord | None: ...
    def mapped_rows(self, flow: str) -> list[MappedRecord]: ...
    def holder_of_external_id(self, flow: str, external_id: str) -> str | None: ...
    def written_as(self, flows: Iterable[str], dest_id: str) -> list[MappedRecord]: ...
    def pending(self, flow: str) -> dict[str, str]: ...
    def add_pending(self, flow: str, entries: Iterable[tuple[str, str | None]], operation: str, run_id: int | None) -> None: ...
    def dead_letters(self, flow: str | None = None, *, limit: int | None = None) -> list[DeadLetter]: ...
    def outbox(self, flow: str | None = None) -> list[OutboxEntry]: ...
    def cursors(self) -> dict[str, dict[str, Any]]: ...
    def batch(self) -> AbstractContextManager[Transaction]: ...
    def start_run(self, dry_run: bool) -> int: ...
    def finish_run(self, run_id: int, status: str, counts: dict[str, Any], errors: list[str]) -> None: ...
    def mark_interrupted_runs(self) -> None: ...
    def runs(self, limit: int = 20) -> list[RunRecord]: ...
    def last_run(self, *, include_dry: bool = False) -> RunRecord | None: ...
    def acquire_lease(self, owner: str, ttl: float) -> Lease | None: ...
    def renew_lease(self, owner: str, ttl: float) -> None: ...
    def release_lease(self, owner: str) -> None: ...
    def lease_holder(self) -> tuple[str, float] | None: ...
    def close(self) -> None: ...


def lease_owner() -> str:
    """An owner name unique to this process: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_alive(owner: str) -> bool:
    """False only for an owner on this host whose process is gone (a killed run leaves its lease behind)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def when(timestamp: float | None) -> str:
    """A stored time as ISO 8601 UTC, for status output."""
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = [
    "COUNT_NAMES",
    "DeadLetter",
    "Lease",
    "MappedRecord",
    "OutboxEntry",
    "RunRecord",
    "StateStore",
    "Transaction",
    "lease_owner",
    "owner_alive",
    "when",
]
