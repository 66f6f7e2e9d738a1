"""What the workflow, the activity and the clients agree on: names, the request and the outcome.

This module imports nothing but the standard library, so the workflow sandbox can pass it through
(``workflow.unsafe.imports_passed_through``) and a client needs no worker code to start a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WORKFLOW = "ConnectionSync"
ACTIVITY = "run_connection"
DEFAULT_TASK_QUEUE = "connector-core"
DEFAULT_NAMESPACE = "default"

#: Error types the activity raises that a retry cannot mend: credentials refused (re-authorize), a
#: connection file, spec, config or state database to fix, a connection this worker does not serve.
NON_RETRYABLE = (
    "AuthError", "SpecError", "ConfigError", "OperationError", "InterpolationError", "PaginationLoopError",
    "PluginError", "StateError", "ConnectorError", "ConnectionNotFound",
)


def workflow_id(connection: str) -> str:
    """``sync/<connection>``: the ID of a connection's workflow (a schedule's runs add ``-<time>``)."""
    return f"sync/{connection}"


def schedule_id(connection: str) -> str:
    """``sync/<connection>``: the ID of a connection's schedule (schedules and workflows have separate IDs)."""
    return f"sync/{connection}"


@dataclass
class SyncRequest:
    """One run of a connection, as the workflow receives it (all durations in seconds).

    Attributes:
        connection: the connection's ``name:`` (the worker finds its file in its directory).
        full_refresh: read every stream from the start (``run --full-refresh``).
        accept_deletes: apply deletions the delete breaker would stop (``run --accept-deletes``).
        heartbeat_timeout: a worker silent this long is taken for dead; the run is retried elsewhere.
        start_to_close_timeout: the longest one attempt may take.
        retry_initial, retry_maximum: the first wait before a retry, doubled up to the maximum.
        max_attempts: attempts in all before the workflow fails (0: no limit).
    """

    connection: str
    full_refresh: bool = False
    accept_deletes: bool = False
    heartbeat_timeout: float = 60.0
    start_to_close_timeout: float = 24 * 3600.0
    retry_initial: float = 5.0
    retry_maximum: float = 300.0
    max_attempts: int = 10


@dataclass
class SyncOutcome:
    """How a run ended, as the workflow returns it.

    ``status`` is the run's (``ok``, ``failed_records``, ``breaker``) or ``skipped`` when another run of
    the connection held its lease (nothing was done; ``errors`` says by whom). ``counts`` per flow.
    """

    connection: str
    status: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    duration: float = 0.0
    run_id: int | None = None
    attempt: int = 1
    worker: str = ""

    def as_details(self) -> dict[str, Any]:
        """The outcome as an error's details (a failed attempt's counts and errors)."""
        return {
            "connection": self.connection, "status": self.status, "counts": self.counts, "errors": self.errors,
            "duration": self.duration, "run_id": self.run_id, "attempt": self.attempt, "worker": self.worker,
        }


__all__ = [
    "ACTIVITY",
    "DEFAULT_NAMESPACE",
    "DEFAULT_TASK_QUEUE",
    "NON_RETRYABLE",
    "WORKFLOW",
    "SyncOutcome",
    "SyncRequest",
    "schedule_id",
    "workflow_id",
]
