"""``connector-core run CONN --via temporal``, and the Temporal options the commands share.

``run`` (in :mod:`.sync_verbs`) takes :func:`via_options` and hands a ``--via temporal`` run to
:func:`run_via_temporal`, which starts the connection's workflow (``sync/<name>``) or joins the one under
way, shows its progress, and returns the run's result as a :class:`~connector_core.sync.records.RunResult`,
so ``run`` prints its summary and exits with the code it gives any run: 0 ok, or skipped (a run outside
this workflow held the lease: "skipped: running elsewhere"), 1 a file, spec, config or state to fix, 3
an API or the network failed (retries exhausted), 5 records dead-lettered, 6 the delete breaker held, 7
the lease was lost mid-way (retries exhausted), 130 the workflow was cancelled, or Ctrl-C here (the run
goes on on the workers; run the command again to join it). Temporal out of reach exits 3; an error the
activity did not sort (a bug) exits 4.

Kept apart from :mod:`.worker_verbs` because ``run``'s module imports it, and ``worker_verbs`` imports
``run``'s module (for its connection files and state stores): neither may import the other back.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from connector_core.cli import run_report
from connector_core.cli.app import EXIT_API, EXIT_USER, Context

if TYPE_CHECKING:
    from temporalio.client import Client

    from connector_core.sync.records import RunResult
    from connector_core.sync.temporal.client import Progress
    from connector_core.sync.temporal.shared import SyncOutcome, SyncRequest

INSTALL_HINT = "Temporal support is not installed: pip install 'connector-core[temporal]'"


def temporal_options(*, required: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--temporal HOST:PORT``, ``--namespace``, ``--task-queue`` (each also from the environment)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed([
            click.option("--temporal", "temporal", metavar="HOST:PORT", required=required, envvar="CONNECTOR_CORE_TEMPORAL", show_envvar=True,
                         help="The Temporal frontend" + ("." if required else " (with --via temporal).")),
            click.option("--namespace", default="default", show_default=True, envvar="CONNECTOR_CORE_TEMPORAL_NAMESPACE", help="Temporal namespace."),
            click.option("--task-queue", default="connector-core", show_default=True, envvar="CONNECTOR_CORE_TASK_QUEUE",
                         help="The task queue the fleet's workers serve."),
        ]):
            func = option(func)
        return func

    return decorate


HEARTBEAT_OPTION = click.option(
    "--heartbeat-timeout", type=click.FloatRange(min=1), default=60.0, show_default=True,
    help="Seconds without a heartbeat after which a worker is taken for dead and its run retried on another.",
)


#: Options of ``run`` that a worker's run cannot take (a dry run runs here; the worker has its state and metrics).
_NOT_VIA_TEMPORAL = {"dry_run": "--dry-run", "state": "--state", "reset_state": "--reset-state", "metrics_file": "--metrics-file", "pushgateway": "--pushgateway"}


def via_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options with which ``run`` runs on a Temporal worker fleet instead of here; such a run's
    process ends through :func:`exit_now`."""

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("via") != "temporal":
            return func(*args, **kwargs)
        given = [flag for name, flag in _NOT_VIA_TEMPORAL.items() if kwargs.get(name)]
        if given:
            raise click.UsageError(f"{', '.join(given)} cannot be used with --via temporal (a worker runs the connection, on its own state)")
        if not kwargs.get("temporal"):
            raise click.UsageError("--via temporal needs --temporal HOST:PORT (or CONNECTOR_CORE_TEMPORAL)")
        return exits_hard(func)(*args, **kwargs)

    decorated: Callable[..., Any] = HEARTBEAT_OPTION(command)
    decorated = temporal_options(required=False)(decorated)
    return click.option(
        "--via", type=click.Choice(["local", "temporal"]), default="local", show_default=True,
        help="Run here, or start (or join) the connection's workflow on a Temporal worker fleet.",
    )(decorated)


def require_temporalio() -> None:
    try:
        import temporalio  # noqa: F401
    except ImportError:
        click.echo(f"error: {INSTALL_HINT}", err=True)
        sys.exit(EXIT_USER)


async def connect(address: str, namespace: str) -> Client:
    """A client of the Temporal at ``address``, or exit 3 saying why not."""
    from temporalio.client import Client

    try:
        return await Client.connect(address, namespace=namespace)
    except Exception as exc:  # temporalio reports an unreachable server as RuntimeError("Failed client connect: ...")
        click.echo(f"error: cannot reach Temporal at {address} (namespace {namespace}): {' '.join(str(exc).split())[:300]}", err=True)
        sys.exit(EXIT_API)


def exit_now(code: int) -> NoReturn:
    """Exit with ``code``, output flushed, skipping the interpreter's teardown: the threads of
    temporalio's client can abort a normal exit of a process that used one ("Fatal Python error:
    PyGILState_Release", temporalio/sdk-python#300, open). Nothing is left to tear down: a command that
    used Temporal keeps no state of its own."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def exits_hard(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command (outside its error guard) so that however it ends, its process ends through
    :func:`exit_now` with the exit code it chose."""

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> NoReturn:
        try:
            func(*args, **kwargs)
        except SystemExit as exc:
            exit_now(exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1)
        exit_now(0)

    return command


def run_via_temporal(
    ctx: Context, path: Path, *, temporal: str, namespace: str, task_queue: str, heartbeat_timeout: float, full_refresh: bool, accept_deletes: bool,
) -> RunResult:
    """Start or join the connection's workflow and follow it to its end (see the module docstring);
    :func:`via_options` has checked the options."""
    require_temporalio()
    from connector_core.sync.connection import load_connection
    from connector_core.sync.temporal.shared import SyncRequest

    loaded = load_connection(path, ctx.registry)  # a file to fix is found here, not by a failed workflow
    request = SyncRequest(loaded.name, full_refresh=full_refresh, accept_deletes=accept_deletes, heartbeat_timeout=heartbeat_timeout)
    try:
        return asyncio.run(_run_via(temporal, namespace, task_queue, request))
    except KeyboardInterrupt:
        result = _result({"connection": loaded.name}, "interrupted", stopped_by="Ctrl-C")
        result.errors = [f"stopped following; the run goes on on the workers (`connector-core run {path} --via temporal` joins it again)"]
        return result


async def _run_via(address: str, namespace: str, task_queue: str, request: SyncRequest) -> RunResult:
    from temporalio.client import WorkflowFailureError

    from connector_core.sync.temporal.client import follow, start_or_join

    client = await connect(address, namespace)
    started = await start_or_join(client, request, task_queue=task_queue)
    name = request.connection
    click.echo(f"{name}: {'joined the run under way' if started.joined else 'started'}: workflow {started.handle.id} on task queue {task_queue}", err=True)
    try:
        outcome = await follow(client, started.handle, ProgressLines(name))
    except WorkflowFailureError as exc:
        return _failed(name, exc)
    return _finished(outcome)


class ProgressLines:
    """A followed run's progress as lines on stderr: the attempt and its worker when they change (with
    why the attempt before failed), and each flow's counts when they move."""

    def __init__(self, connection: str) -> None:
        self.connection = connection
        self.attempt: tuple[int, str] | None = None
        self.shown: dict[str, dict[str, int]] = {}

    def __call__(self, seen: Progress) -> None:
        if (seen.attempt, seen.worker) != self.attempt and seen.worker:
            self.attempt = (seen.attempt, seen.worker)
            retry = f" (the attempt before failed: {seen.last_failure})" if seen.attempt > 1 and seen.last_failure else ""
            click.echo(f"{self.connection}: attempt {seen.attempt} on worker {seen.worker}{retry}", err=True)
        for flow, counts in seen.counts.items():
            if counts and counts != self.shown.get(flow):
                self.shown[flow] = counts
                click.echo(f"{self.connection}: flow {flow}: {run_report.counts_text(counts)}", err=True)


def _result(outcome: Mapping[str, Any], status: str, *, stopped_by: str | None = None) -> RunResult:
    from connector_core.sync.records import RunResult

    return RunResult(
        str(outcome.get("connection")), status, False, dict(outcome.get("counts") or {}), list(outcome.get("errors") or []),
        float(outcome.get("duration") or 0.0), outcome.get("run_id"), stopped_by,
    )


def _finished(outcome: SyncOutcome) -> RunResult:
    click.echo(f"{outcome.connection}: ran on worker {outcome.worker}, attempt {outcome.attempt}", err=True)
    # skipped: a run outside this workflow held the lease, as `run` meets it
    return _result(outcome.as_details(), "locked" if outcome.status == "skipped" else outcome.status)


def _failed(name: str, exc: Exception) -> RunResult:
    """The result of a failed workflow, from its cause (the activity's last error) and the details the
    activity gave it (the attempt's counts and errors)."""
    from temporalio.exceptions import ApplicationError, CancelledError, TerminatedError

    from connector_core.sync.temporal.shared import NON_RETRYABLE

    cause = exc.__cause__  # WorkflowFailureError → ActivityError → the activity's error
    while cause is not None and not isinstance(cause, ApplicationError | CancelledError | TerminatedError):
        cause = cause.__cause__
    if isinstance(cause, CancelledError | TerminatedError):
        result = _result({"connection": name}, "interrupted", stopped_by="cancelled" if isinstance(cause, CancelledError) else "terminated")
        result.errors = [f"the workflow was {result.stopped_by}: {cause}"]
        return result
    if not isinstance(cause, ApplicationError):  # an attempt timed out (no heartbeat, or too long), and none was left
        result = _result({"connection": name}, "api_error")
        result.errors = [f"the workflow failed: {' '.join(str(cause or exc).split())}"]
        return result
    details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {"connection": name}
    status = details.get("status")
    if status not in ("api_error", "error", "lease_lost"):
        if cause.type in ("EarlierAttemptHoldsLease", "Stopped"):
            status = "api_error"  # retried until no attempt was left: a rerun resumes
        elif cause.type in NON_RETRYABLE:
            status = "error"
        else:
            raise RuntimeError(f"the workflow of '{name}' failed: {cause.type}: {cause.message}")  # a bug on the worker: exit 4
    result = _result(details, str(status))
    result.errors = [*result.errors] or [cause.message]
    attempt = f" on worker {details['worker']}, attempt {details.get('attempt')}" if details.get("worker") else ""
    click.echo(f"{name}: the workflow failed ({cause.type}){attempt}", err=True)
    return result


__all__ = ["HEARTBEAT_OPTION", "INSTALL_HINT", "ProgressLines", "connect", "exit_now", "exits_hard", "require_temporalio", "run_via_temporal", "temporal_options", "via_options"]
