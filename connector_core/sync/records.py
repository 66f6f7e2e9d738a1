"""The records a sync run carries from read to commit, its result, and small helpers shared by the runner."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from connector_core.engine.interpolation import parse_datetime
from connector_core.engine.paths import get_path
from connector_core.errors import ConnectorError
from connector_core.sync.store import MappedRecord

#: Dead letters retried at the start of a flow, least recently tried first: a run that keeps being stopped
#: still reaches new records, and the next runs take the rest.
DEAD_LETTER_RETRIES_PER_RUN = 1000
LEASE_SECONDS = 900.0
SINGLE_COMMIT_EVERY = 25  # records per transaction when writing one call per record
#: Batches of one-call-per-record writes started and not yet committed, at most (memory: this many
#: batches of records). A finished batch commits at once, even while one before it waits out a retry
#: (the cursor moves only over the leading run of committed batches), so one slow write delays no other.
BATCHES_IN_FLIGHT = 40
#: Writes started and not yet answered, per request the write side allows at once: enough queued that
#: no thread waits for the reader, few enough that the cursor does not fall far behind what is written.
OUTSTANDING_WRITES_PER_SLOT = 64
#: Write threads per request the write side allows at once (its governor's concurrency), at most
#: MAX_WRITE_THREADS: a thread sleeping in a retry's backoff holds no request slot, so under 10 % 5xx
#: and 5 % 429 (waits of 0.5-1 s against 30 ms answers) 4 threads a slot left the slots idle.
WRITE_THREADS_PER_SLOT, MAX_WRITE_THREADS = 8, 64


class DeleteBreakerError(ConnectorError):
    """A flow would delete (or inactivate) more than its `delete.max_share` of the mapped records."""


class StopRequested(BaseException):
    """A signal asked the run to stop (SIGTERM: a container stop). Like Ctrl-C, it is raised in the main
    thread; what the destination acknowledged is committed, the rest is done by the next run."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


@dataclass
class RunResult:
    """What a run did. ``status``: ok, failed_records, api_error, error, breaker, locked, interrupted
    (``stopped_by`` says by what: "SIGTERM" or "Ctrl-C")."""

    connection: str
    status: str
    dry_run: bool
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    duration: float = 0.0
    run_id: int | None = None
    stopped_by: str | None = None
    failed_flow: str | None = None  # the flow an error stopped (api_error, error): it did not finish
    #: the error that stopped the run (api_error, error), for callers that sort errors by their class: a
    #: Temporal activity retries an API failure, but not refused credentials or a file to fix
    cause: ConnectorError | None = field(default=None, repr=False, compare=False)

    @property
    def totals(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for counts in self.counts.values():
            total.update(counts)
        return dict(total)


class ReporterProtocol(Protocol):
    """What the runner calls on its reporter.

    :class:`Reporter` implements it doing nothing, to subclass; the CLI's reporters implement it without
    inheriting (a CLI module imports this floor only when a sync runs). Optional: ``flow_failed(flow,
    counts, error)``, called instead of ``flow_finished`` when an error stops a flow (see :class:`Reporter`).
    """

    def flow_started(self, flow: str) -> None: ...

    def progress(self, flow: str, counts: Mapping[str, int]) -> None: ...

    def flow_finished(self, flow: str, counts: Mapping[str, int]) -> None: ...

    def intended(self, write: dict[str, Any]) -> None: ...

    def message(self, text: str) -> None: ...


class Reporter:
    """Where the runner says what it is doing. The CLI plugs in a progress bar or plain log lines."""

    def flow_started(self, flow: str) -> None:
        """A flow begins."""

    def progress(self, flow: str, counts: Mapping[str, int]) -> None:
        """Counts moved (called often; implementations throttle)."""

    def flow_finished(self, flow: str, counts: Mapping[str, int]) -> None:
        """A flow ended."""

    def flow_failed(self, flow: str, counts: Mapping[str, int], error: str) -> None:
        """An error stopped a flow (the run stops too); ``counts`` is what it did before."""

    def intended(self, write: dict[str, Any]) -> None:
        """Dry run: a write that would be made."""

    def message(self, text: str) -> None:
        """A notable event (a dead letter, a skipped delete detection)."""


@dataclass
class WriteItem:
    source_id: str
    record: dict[str, Any]
    external_id: str | None
    action: str  # create, update, fail, resolve (unchanged now, but it had a dead letter), delete, inactivate
    operation: str | None = None
    input: dict[str, Any] | None = None
    hash: str | None = None
    dest_id: str | None = None
    modified: str | None = None
    reason: str | None = None
    retry: bool = False
    caused: str | None = None  # the written side's modified time after our write, when the result says
    row: MappedRecord | None = None  # deletions: the ID map row marked deleted once done
    prior_dest: str | None = None  # the written-side id the read side already knew (ID map or match.id): no write-back needed
    write_back_error: str | None = None  # the write-back was refused: dead-lettered, retried next run
    write_back_pending: bool = False  # written; its write-back goes into the outbox with the write's commit


@dataclass
class InFlight:
    """A batch whose writes were started and that is not committed yet."""

    items: list[WriteItem]
    cursor: dict[str, Any] | None
    futures: dict[Future[None], WriteItem]
    committed: bool = False  # its items are in the store; its cursor waits for the batches before it
    unanswered: int = 0  # its writes whose answer the flow has not counted yet (FlowWrites.take_answers)

    def done(self) -> bool:
        return self.unanswered == 0


def record_hash(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)).hexdigest()


def as_epoch(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return parse_datetime(value).timestamp()
    except (ValueError, TypeError, OverflowError):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None


def iso_utc(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")



def grouped(records: Any, path: str) -> Any:
    """`from.group_by`: the whole read, as one record {key, records: [...]} per distinct value, in first-seen order."""
    groups: dict[str, dict[str, Any]] = {}
    for record in records:
        key = get_path(record, path)
        groups.setdefault("" if key is None else str(key), {"key": key, "records": []})["records"].append(record)
    yield from groups.values()


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in {"", "false", "0", "no", "off", "none"}
    return bool(value)


def id_value(dest_id: str) -> Any:
    """Ids are kept as text; numeric ones go back to operations as numbers (input schemas often say integer)."""
    return int(dest_id) if dest_id.isdigit() and len(dest_id) < 19 else dest_id


def delete_path(data: dict[str, Any], path: str, prune: bool = False) -> None:
    """Remove ``path``; with ``prune`` also the objects it leaves empty (`subsidiary` of `subsidiary.id`)."""
    from connector_core.engine.paths import delete_path, get_path, split_path

    delete_path(data, path)
    parts = split_path(path)
    while prune and len(parts) > 1:
        parts = parts[:-1]
        parent = ".".join(parts)
        if get_path(data, parent) != {}:
            break
        delete_path(data, parent)


__all__ = [
    "DEAD_LETTER_RETRIES_PER_RUN",
    "LEASE_SECONDS",
    "BATCHES_IN_FLIGHT",
    "OUTSTANDING_WRITES_PER_SLOT",
    "MAX_WRITE_THREADS",
    "WRITE_THREADS_PER_SLOT",
    "SINGLE_COMMIT_EVERY",
    "StopRequested",
    "DeleteBreakerError",
    "InFlight",
    "Reporter",
    "ReporterProtocol",
    "RunResult",
    "WriteItem",
    "as_epoch",
    "delete_path",
    "grouped",
    "id_value",
    "iso_utc",
    "record_hash",
    "truthy",
]
