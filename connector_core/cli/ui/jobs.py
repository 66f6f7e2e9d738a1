"""The dashboard's actions as background jobs: run now, dry run, retry dead letters.

Each job runs in its own thread through the runner the CLI uses (:class:`Runner`, or
:class:`~.retry.DeadLetterRetry` for retries) on its own connection to the state store, so the lease
decides who runs: a job started while the connection runs elsewhere (cron, the CLI, another dashboard)
ends ``locked``, "skipped: running elsewhere", exactly as ``connector-core run`` would. The board
also refuses a second job of a connection while one of its jobs is unfinished in this process.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from connector_core.cli.run_report import DeadLetterDigest, counts_text
from connector_core.engine.redaction import redact
from connector_core.engine.registry import Registry
from connector_core.sync.connection import LoadedConnection
from connector_core.sync.records import RunResult
from connector_core.sync.runner import Runner
from connector_core.sync.store import open_store

Kind = Literal["run", "dry_run", "retry"]
KIND_TEXT = {"run": "run now", "dry_run": "dry run", "retry": "retry of dead letters"}
#: Writes a dry run keeps for its page; it counts the rest.
WRITES_KEPT = 500
MESSAGES_KEPT = 50


@dataclass
class Job:
    id: int
    slug: str
    connection: str
    kind: Kind
    detail: str
    started: float = field(default_factory=time.time)
    ended: float | None = None
    result: RunResult | None = None
    error: str | None = None  # what stopped the job before the runner could say (a state it cannot open)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    writes: list[dict[str, Any]] = field(default_factory=list)
    writes_total: int = 0
    messages: list[str] = field(default_factory=list)
    dead: DeadLetterDigest = field(default_factory=DeadLetterDigest)

    @property
    def finished(self) -> bool:
        return self.ended is not None

    @property
    def status(self) -> str:
        if not self.finished:
            return "running"
        if self.result is None:
            return "error"
        return self.result.status

    @property
    def title(self) -> str:
        return f"{KIND_TEXT[self.kind]}{f' ({self.detail})' if self.detail else ''}"

    def writes_shown(self) -> list[dict[str, Any]]:
        """A dry run's writes, those that would fail last (in the order they came, within each)."""
        return sorted(self.writes, key=lambda write: write.get("action") == "fail")

    def progress_text(self) -> dict[str, str]:
        return {flow: counts_text(counts) for flow, counts in self.counts.items()}


class JobReporter:
    """Where the runner tells a job what it does (implements the runner's ReporterProtocol)."""

    def __init__(self, job: Job, lock: threading.Lock) -> None:
        self.job = job
        self.lock = lock

    def flow_started(self, flow: str) -> None:
        with self.lock:
            self.job.counts[flow] = {}

    def progress(self, flow: str, counts: Mapping[str, int]) -> None:
        with self.lock:
            self.job.counts[flow] = dict(counts)

    def flow_finished(self, flow: str, counts: Mapping[str, int]) -> None:
        self.progress(flow, counts)

    def intended(self, write: dict[str, Any]) -> None:
        with self.lock:
            self.job.writes_total += 1
            if len(self.job.writes) < WRITES_KEPT:
                self.job.writes.append(write)

    def message(self, text: str) -> None:
        with self.lock:
            for flow in self.job.counts:
                prefix = f"{flow}: dead-lettered "
                if text.startswith(prefix):
                    self.job.dead.add(flow, text[len(prefix) :])
                    return
            if len(self.job.messages) < MESSAGES_KEPT:
                self.job.messages.append(redact(text))


class BusyError(Exception):
    """A job of this connection is still running in this dashboard."""


class JobBoard:
    """The jobs this dashboard started, newest first, and their threads."""

    def __init__(self, registry: Registry, state: str | None = None) -> None:
        self.registry = registry
        self.state = state
        self._jobs: dict[int, Job] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._runners: dict[int, Runner] = {}

    def jobs(self, slug: str | None = None) -> list[Job]:
        with self._lock:
            return sorted((j for j in self._jobs.values() if slug is None or j.slug == slug), key=lambda j: -j.id)

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def busy(self, slug: str) -> Job | None:
        return next((job for job in self.jobs(slug) if not job.finished), None)

    def start(self, slug: str, loaded: LoadedConnection, kind: Kind, letters: Mapping[str, Collection[str] | None] | None = None, detail: str = "") -> Job:
        """Start a job; BusyError while another job of the connection runs here."""
        with self._lock:
            if any(j.slug == slug and not j.finished for j in self._jobs.values()):
                raise BusyError(slug)
            job = Job(next(self._ids), slug, loaded.name, kind, detail)
            self._jobs[job.id] = job
        thread = threading.Thread(target=self._run, args=(job, loaded, letters), name=f"connector-core-ui-job-{job.id}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return job

    def _run(self, job: Job, loaded: LoadedConnection, letters: Mapping[str, Collection[str] | None] | None) -> None:
        from connector_core.errors import ConnectorError

        reporter = JobReporter(job, self._lock)
        try:
            location = loaded.state_location(self.state)
            with open_store(location, loaded.name, create_parent=location == loaded.default_state_path()) as store:
                runner = self._runner(job.kind, loaded, store, reporter, letters)
                with self._lock:
                    self._runners[job.id] = runner
                try:
                    result = runner.run()
                finally:
                    with self._lock:
                        self._runners.pop(job.id, None)
        except ConnectorError as exc:
            job.error = redact(str(exc))
        except Exception as exc:  # a bug: the page says so instead of a job that never ends
            job.error = redact(f"internal error: {type(exc).__name__}: {exc}")
        else:
            job.result = result
        finally:
            job.ended = time.time()

    def _runner(self, kind: Kind, loaded: LoadedConnection, store: Any, reporter: JobReporter, letters: Any) -> Runner:
        if kind == "retry":
            from connector_core.cli.ui.retry import DeadLetterRetry

            return DeadLetterRetry(loaded, store, self.registry, letters=letters or {}, reporter=reporter)
        return Runner(loaded, store, self.registry, dry_run=kind == "dry_run", reporter=reporter)

    def stop_all(self, reason: str, timeout: float = 60.0) -> int:
        """Ask every running job to stop at its next safe point, as Ctrl-C stops ``run`` (what was
        acknowledged is committed), and wait for them; returns how many were running."""
        with self._lock:
            runners = list(self._runners.values())
        for runner in runners:
            runner.request_stop(reason)
        self.wait(timeout)
        return len(runners)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every job's thread (the server's shutdown; tests)."""
        for thread in list(self._threads):
            thread.join(timeout)


__all__ = ["KIND_TEXT", "BusyError", "Job", "JobBoard", "JobReporter", "Kind"]
