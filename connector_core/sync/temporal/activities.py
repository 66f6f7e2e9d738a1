"""The activity: one run of a connection through :class:`~connector_core.sync.runner.Runner`, exactly as
``connector-core run`` makes it, heartbeating its progress.

**The lease stays the guarantee.** Temporal delivers an activity at least once: a worker that stops
heartbeating (dead, or only cut off from the server) has its attempt retried on another worker while it
may still be running. The Runner takes the connection's lease in the state store before it writes, and
every commit is fenced with it, so two attempts never write at once. The lease owner of an attempt names
the workflow run (``host:pid:id:temporal:<run id>``), so a retried attempt that meets the lease can tell
an earlier attempt of its own run (still alive, or dead on a host whose lease has not expired yet: it
fails retryably and is tried again after the backoff) from a run started elsewhere, a cron ``run`` or
another workflow (the run ends as ``skipped``: running elsewhere). On the same host the lease of a
dead process is taken over at once, so a killed worker's run resumes as soon as Temporal retries it.

**Errors, sorted by what a retry can do** (each raised as an ``ApplicationError`` whose ``type`` is the
error's class, with the attempt's counts and errors in its details):

- not retried: ``AuthError`` (credentials refused), ``SpecError``, ``ConfigError``, ``StateError`` and
  the runner's other ``error`` statuses (a file to fix), ``ConnectionNotFound`` (this worker's
  directory has no such connection);
- retried with backoff: API and network failures (the runner's ``api_error``), a state database that
  did not answer (``StateUnavailableError``: a PostgreSQL server down or out of reach), ``LeaseLostError`` (the
  runner's ``lease_lost``: another run took the lease over mid-way), ``EarlierAttemptHoldsLease``,
  ``Stopped`` (the worker shut down; the run stopped at a safe point);
- a run the workflow's cancellation stopped raises ``CancelledError``.

Runs finish as ``ok``, ``failed_records`` (dead letters) or ``breaker`` (the delete breaker held):
these are outcomes, not errors, and are not retried.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError

from connector_core.engine.registry import Registry
from connector_core.errors import AuthError, ConnectorError, LeaseLostError, StateUnavailableError
from connector_core.sync.connection import LoadedConnection, load_connection
from connector_core.sync.records import Reporter, ReporterProtocol, RunResult
from connector_core.sync.runner import Runner
from connector_core.sync.store import lease_owner
from connector_core.sync.temporal.shared import ACTIVITY, SyncOutcome, SyncRequest

logger = logging.getLogger(__name__)

#: Opens a connection's state store as ``run`` does (``cli.sync_verbs._store``): returns a context
#: manager that is the store. A store URL given to the worker reaches it unchanged.
StoreOpener = Callable[[LoadedConnection], Any]
CANCELLED, WORKER_STOPPED = "cancelled", "worker stopped"



def worker_lease_seconds(heartbeat_timeout: float) -> float:
    """The lease of a run on a worker: four heartbeat timeouts, at least 30 s. The run renews it as it
    goes; when its worker dies, the lease frees the connection this long after, so an attempt on another
    host resumes in about that time rather than after the 15 minutes of a run from cron."""
    return max(30.0, 4 * heartbeat_timeout)

class Heartbeats(Reporter):
    """The run's reporter inside an activity: it keeps every flow's counts and sends them as the
    heartbeat detail (``{"owner", "flow", "counts"}``) after every committed batch, and at least every
    ``every`` seconds in between, since a long read, or a write waiting out its retries, commits nothing
    for a while yet the worker is alive. A cancellation or the worker's shutdown, which Temporal reports
    through the heartbeat, asks the run to stop at its next safe point. Everything the runner reports
    also goes to ``inner`` (the worker's log lines)."""

    def __init__(self, owner: str, every: float, inner: ReporterProtocol | None = None) -> None:
        self.owner = owner
        self.every = every
        self.inner = inner
        self.flow: str | None = None
        self.counts: dict[str, dict[str, int]] = {}
        self.stop_reason: str | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._done = threading.Event()

    def detail(self) -> dict[str, Any]:
        with self._lock:
            return {"owner": self.owner, "flow": self.flow, "counts": {flow: dict(counts) for flow, counts in self.counts.items()}}

    def _update(self, flow: str, counts: Mapping[str, int]) -> None:
        with self._lock:
            self.flow = flow
            self.counts[flow] = dict(counts)
        self._wake.set()

    def flow_started(self, flow: str) -> None:
        self._update(flow, {})
        if self.inner is not None:
            self.inner.flow_started(flow)

    def progress(self, flow: str, counts: Mapping[str, int]) -> None:
        self._update(flow, counts)
        if self.inner is not None:
            self.inner.progress(flow, counts)

    def flow_finished(self, flow: str, counts: Mapping[str, int]) -> None:
        self._update(flow, counts)
        if self.inner is not None:
            self.inner.flow_finished(flow, counts)

    def flow_failed(self, flow: str, counts: Mapping[str, int], error: str) -> None:
        self._update(flow, counts)
        failed = getattr(self.inner, "flow_failed", None)
        if failed is not None:
            failed(flow, counts, error)

    def intended(self, write: dict[str, Any]) -> None:
        if self.inner is not None:
            self.inner.intended(write)

    def message(self, text: str) -> None:
        if self.inner is not None:
            self.inner.message(text)

    @contextmanager
    def beating(self, runner: Runner) -> Iterator[None]:
        """Heartbeat from a thread of its own while the block runs ``runner`` (the thread carries the
        activity's context, which ``activity.heartbeat`` needs)."""
        thread = threading.Thread(target=contextvars.copy_context().run, args=(self._beat, runner), name=f"heartbeat {self.owner}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._done.set()
            self._wake.set()
            thread.join()

    def _beat(self, runner: Runner) -> None:
        while True:
            self._wake.wait(self.every)
            self._wake.clear()
            if self._done.is_set():
                return
            try:
                activity.heartbeat(self.detail())
            except Exception as exc:  # the server is out of reach: the run goes on; the lease guards it
                logger.warning("heartbeat of %s not sent: %s", self.owner, exc)
            reason = WORKER_STOPPED if activity.is_worker_shutdown() else CANCELLED if activity.is_cancelled() else None
            if reason is not None and self.stop_reason is None:
                self.stop_reason = reason
                runner.request_stop(reason)


class ConnectionActivities:
    """The activities a worker serves (one: ``run_connection``).

    Args:
        find: the file of a connection by its name (the worker's directory), or None.
        registry: the plugin registry (connectors, auths, paginators).
        open_store: opens a connection's state store, as ``run`` does (see :data:`StoreOpener`).
        reporter: makes the reporter of one run (the worker's log lines), given the connection's name.
        finished: told of each run that ended with a result (the connection file, the result) or
            raised before one (the file, the error), after its state store is closed: the worker's metrics.
    """

    def __init__(
        self, find: Callable[[str], Path | None], registry: Registry, open_store: StoreOpener, *,
        reporter: Callable[[str], ReporterProtocol] | None = None,
        finished: Callable[[Path, RunResult | BaseException], None] | None = None,
    ) -> None:
        self.find = find
        self.registry = registry
        self.open_store = open_store
        self.reporter = reporter
        self.finished = finished
        self.worker = f"{os.getpid()}@{socket.gethostname()}"

    @activity.defn(name=ACTIVITY, no_thread_cancel_exception=True)  # stops come through Runner.request_stop, at a safe point
    def run_connection(self, request: SyncRequest) -> SyncOutcome:
        """Run the connection ``request.connection`` once; see the module docstring for how it ends."""
        info = activity.info()
        run_tag = f":temporal:{info.workflow_run_id}"
        owner = lease_owner() + run_tag
        path = self.find(request.connection)
        if path is None:
            raise ApplicationError(
                f"worker {self.worker} has no connection named '{request.connection}' in its directory", type="ConnectionNotFound", non_retryable=True
            )
        beats = Heartbeats(owner, max(0.5, min(10.0, request.heartbeat_timeout / 3)), self.reporter(request.connection) if self.reporter else None)
        activity.heartbeat(beats.detail())
        try:
            loaded = load_connection(path, self.registry)
            with self.open_store(loaded) as store:
                runner = Runner(
                    loaded, store, self.registry, full_refresh=request.full_refresh, accept_deletes=request.accept_deletes, reporter=beats,
                    lease_seconds=worker_lease_seconds(request.heartbeat_timeout),
                )  # fmt: skip
                runner.owner = owner  # names this workflow run, for a retried attempt that meets the lease
                with beats.beating(runner):
                    result = runner.run()
                holder = store.lease_holder() if result.status == "locked" else None
        except ConnectorError as exc:  # the file, its specs or configs, or the state database: nothing ran
            self._tell(path, exc)
            raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=not isinstance(exc, LeaseLostError | StateUnavailableError)) from None
        self._tell(path, result)
        return settle(result, attempt=info.attempt, worker=self.worker, run_tag=run_tag, holder=holder[0] if holder else None)

    def _tell(self, path: Path, ended: RunResult | BaseException) -> None:
        if self.finished is None:
            return
        try:
            self.finished(path, ended)
        except Exception:  # what the worker does with a result (metrics) never changes the run's outcome
            logger.warning("connection %s: reporting the end of its run failed", path, exc_info=True)


def settle(result: RunResult, *, attempt: int, worker: str, run_tag: str, holder: str | None) -> SyncOutcome:
    """The activity's outcome for ``result``, or the error it raises (see the module docstring).

    ``run_tag`` ends the lease owner of every attempt of this workflow run; ``holder`` is who held the
    lease when the run found it held (status ``locked``).
    """
    counts = {flow: dict(flow_counts) for flow, flow_counts in result.counts.items()}  # plain dicts: a Counter does not survive asdict()
    outcome = SyncOutcome(result.connection, result.status, counts, list(result.errors), round(result.duration, 3), result.run_id, attempt, worker)
    if result.status in ("ok", "failed_records", "breaker"):
        return outcome
    if result.status == "locked":
        if holder is not None and holder.endswith(run_tag):
            raise ApplicationError(
                f"an earlier attempt of this run still holds the lease of '{result.connection}' ({holder}); tried again once it lets go or expires",
                outcome.as_details(), type="EarlierAttemptHoldsLease",
            )
        outcome.status = "skipped"
        said = "; ".join(result.errors)
        outcome.errors = [said if said.startswith("skipped: running elsewhere") else f"skipped: running elsewhere: {said}"]
        return outcome
    if result.status == "interrupted":
        if result.stopped_by == CANCELLED:
            raise CancelledError(f"'{result.connection}' stopped at a safe point: the workflow was cancelled")
        raise ApplicationError(
            f"'{result.connection}' stopped at a safe point ({result.stopped_by}); what was acknowledged is committed and the next attempt resumes from there",
            outcome.as_details(), type="Stopped",
        )
    cause, message = result.cause, "; ".join(result.errors) or result.status
    if result.status == "lease_lost":  # another run took the lease over mid-way: retried, the next attempt meets the holder
        raise ApplicationError(message, outcome.as_details(), type="LeaseLostError")
    if result.status == "api_error":  # an API or the network failed: retried, unless the credentials were refused
        kind, non_retryable = (type(cause).__name__ if cause else "HTTPError"), isinstance(cause, AuthError)
    else:  # "error": a file, spec, config or state database to fix
        kind, non_retryable = (type(cause).__name__ if cause else "ConnectorError"), not isinstance(cause, LeaseLostError)
    raise ApplicationError(message, outcome.as_details(), type=kind, non_retryable=non_retryable)


__all__ = ["CANCELLED", "WORKER_STOPPED", "ConnectionActivities", "Heartbeats", "StoreOpener", "settle"]
