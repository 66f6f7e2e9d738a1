"""The Temporal worker commands of ``connector-core`` (``pip install 'connector-core[temporal]'``).

- ``worker --temporal HOST:PORT DIR`` serves every connection file in DIR on a task queue until SIGTERM
  or Ctrl-C; then runs under way stop at a safe point and are retried on another worker. A second
  signal ends the process at once (committed work stands, as after kill -9). Exit 0 after a stop.
- ``schedules sync DIR --temporal HOST:PORT`` makes one Temporal schedule per connection of DIR with a
  ``schedule:``, and deletes the task queue's schedules of connections that are gone; prints each change
  on stdout. Exit 1 if a connection file is invalid (its schedule is left as it was).

``run CONN --via temporal`` is in :mod:`.temporal_run`. Temporal out of reach exits 3.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import os
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from connector_core.cli import collector, run_report
from connector_core.cli.app import EXIT_OK, EXIT_USER, Context, guarded, pass_context
from connector_core.cli.metrics import RunMetrics, metrics_options
from connector_core.cli.sync_verbs import _connection_files, _store
from connector_core.cli.temporal_run import (
    HEARTBEAT_OPTION,
    connect,
    exits_hard,
    require_temporalio,
    temporal_options,
)

if TYPE_CHECKING:
    from connector_core.sync.temporal.schedules import ScheduleChanges
    from connector_core.sync.temporal.shared import SyncRequest

#: How often a run's progress reaches the server at most (Temporal throttles heartbeats to 0.8 of the
#: heartbeat timeout, 48 s by default: too seldom for `run --via temporal` to show progress).
HEARTBEAT_AT_MOST_EVERY = dt.timedelta(seconds=5)
#: A stopping worker's runs stop at their next safe point (their heartbeat thread sees the shutdown
#: within seconds: Runner.request_stop); after this they are marked cancelled too, which stops them the same way.
SHUTDOWN_GRACE = dt.timedelta(seconds=60)

# -- worker ------------------------------------------------------------------------------------------


class ConnectionDirectory:
    """The connection files of a directory by connection name, read again when a file changes (a worker
    serves what the directory holds when each run starts)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._names: dict[Path, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def names(self) -> dict[str, Path]:
        from connector_core.engine.documents import load_document
        from connector_core.errors import SpecError

        found: dict[str, Path] = {}
        with self._lock:
            for path in _connection_files(self.directory):
                mtime = path.stat().st_mtime
                if self._names.get(path, (None, None))[0] != mtime:
                    try:
                        data = load_document(path).data
                    except SpecError:
                        data = None
                    name = data.get("name") if isinstance(data, dict) else None
                    self._names[path] = (mtime, name if isinstance(name, str) else None)
                name = self._names[path][1]
                if name is not None:
                    found.setdefault(name, path)  # two files of one name: the first by file name (validate reports it)
        return found

    def find(self, name: str) -> Path | None:
        return self.names().get(name)


class WorkerLines:
    """What one run reports, as lines on stderr prefixed by the connection's name (runs interleave)."""

    def __init__(self, connection: str, every: int = 1000) -> None:
        self.connection = connection
        self.every = every
        self.next_at: dict[str, int] = {}
        self.messages = 0

    def _line(self, text: str) -> None:
        click.echo(f"{self.connection}: {text}", err=True)

    def flow_started(self, flow: str) -> None:
        self.next_at[flow] = self.every
        self._line(f"flow {flow}: started")

    def progress(self, flow: str, counts: Mapping[str, int]) -> None:
        seen = counts.get("read", 0) + counts.get("retried", 0)
        if seen >= self.next_at.get(flow, self.every):
            self.next_at[flow] = seen + self.every
            self._line(f"flow {flow}: {run_report.counts_text(counts)}")

    def flow_finished(self, flow: str, counts: Mapping[str, int]) -> None:
        self._line(f"flow {flow}: done: {run_report.counts_text(counts)}")

    def flow_failed(self, flow: str, counts: Mapping[str, int], error: str) -> None:
        self._line(f"flow {flow}: failed: {error.splitlines()[0]}")

    def intended(self, write: dict[str, Any]) -> None:
        """Workers make no dry runs."""

    def message(self, text: str) -> None:
        self.messages += 1
        if self.messages <= 20:
            self._line(text)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
@temporal_options(required=True)
@click.option("--max-concurrent", type=click.IntRange(min=1), default=4, show_default=True, help="Connections this worker runs at once.")
@click.option("--state", type=str, help="State database of every connection, a path or a PostgreSQL URL (default: as `run` finds it: the connection's `state`, $CONNECTOR_CORE_STATE_URL, or .state/NAME.sqlite beside it).")
@metrics_options
@pass_context
@exits_hard
@guarded
def worker(
    ctx: Context, directory: str, temporal: str, namespace: str, task_queue: str, max_concurrent: int, state: str | None,
    metrics_file: str | None, pushgateway: str | None,
) -> None:
    """Serve every connection file in DIRECTORY as a Temporal worker, until SIGTERM or Ctrl-C.

    Runs come from `schedules sync` and `run --via temporal`; each is the same run as `connector-core
    run` (the same state, the same lease), heartbeating after every committed batch. With
    --metrics-file or --pushgateway, each run's metrics are published as it ends (one file per worker).
    """
    require_temporalio()
    connections = ConnectionDirectory(Path(directory))
    count = len(connections.names())
    if not count:
        click.echo(f"error: no connection files in {directory}", err=True)
        sys.exit(EXIT_USER)
    metrics = RunMetrics(ctx, metrics_file, pushgateway)
    collector.started()  # a long-running worker: collect as usual from here on
    asyncio.run(_serve(ctx, connections, temporal, namespace, task_queue, max_concurrent, state, count, metrics))


async def _serve(
    ctx: Context, connections: ConnectionDirectory, address: str, namespace: str, task_queue: str, max_concurrent: int,
    state: str | None, count: int, metrics: RunMetrics,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from temporalio.worker import Worker

    from connector_core.sync.temporal.activities import ConnectionActivities
    from connector_core.sync.temporal.workflows import ConnectionSync

    client = await connect(address, namespace)
    activities = ConnectionActivities(
        connections.find, ctx.registry, functools.partial(_open_store, state), reporter=WorkerLines,
        finished=(lambda path, ended: metrics.published(path, state, ended)) if metrics.enabled else None,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        click.echo(f"worker: {name}: stopping; runs under way stop at a safe point and are retried on another worker ({name} again ends at once)", err=True)
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, os._exit, 128 + number)  # committed work stands, as after kill -9
        stop.set()

    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, on_signal, number)
    with ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="connector-core-run") as executor:
        serving = Worker(
            client, task_queue=task_queue, workflows=[ConnectionSync], activities=[activities.run_connection], activity_executor=executor,
            max_concurrent_activities=max_concurrent, graceful_shutdown_timeout=SHUTDOWN_GRACE,
            max_heartbeat_throttle_interval=HEARTBEAT_AT_MOST_EVERY,
        )
        async with serving:
            click.echo(
                f"worker {activities.worker}: serving {count} connection{'' if count == 1 else 's'} of {connections.directory} on task queue "
                f"{task_queue} at {address} (namespace {namespace}), {max_concurrent} at a time", err=True,
            )
            await stop.wait()
    click.echo("worker: stopped", err=True)


def _open_store(state: str | None, loaded: Any) -> Any:
    return _store(loaded, state)  # as `run` opens it: a state URL given to the worker reaches the store unchanged


# -- schedules ---------------------------------------------------------------------------------------


@click.group()
def schedules() -> None:
    """Temporal schedules of the connections of a directory."""


@schedules.command("sync")
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
@temporal_options(required=True)
@click.option("--jitter", help="Random delay added to each scheduled run, e.g. 30s (default: a tenth of the interval, at most 1m).")
@HEARTBEAT_OPTION
@pass_context
@exits_hard
@guarded
def schedules_sync(ctx: Context, directory: str, temporal: str, namespace: str, task_queue: str, jitter: str | None, heartbeat_timeout: float) -> None:
    """Create, update and delete one Temporal schedule per connection in DIRECTORY, from its `schedule:`.

    Schedule `sync/NAME` starts workflow `sync/NAME` on the task queue, overlap policy SKIP. Schedules of
    the task queue whose connection has no file (or no `schedule:`) any more are deleted. Exit 1 if a
    connection file is invalid: its schedule is left as it was.
    """
    require_temporalio()
    from connector_core.engine.documents import load_document
    from connector_core.engine.timeparse import parse_duration
    from connector_core.errors import ConnectorError
    from connector_core.sync.connection import load_connection
    from connector_core.sync.temporal.schedules import period
    from connector_core.sync.temporal.shared import SyncRequest

    try:
        jitter_value = parse_duration(jitter) if jitter is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--jitter") from None
    requests: dict[str, tuple[str, SyncRequest]] = {}
    keep: list[str] = []
    invalid = 0
    for path in _connection_files(Path(directory)):
        try:
            loaded = load_connection(path, ctx.registry)
            name, text = loaded.name, loaded.connection.schedule
            if name in requests:
                raise ConnectorError(f"{path}: connection name '{name}' is used by another file of {directory}")
            if text:
                period(text)
                requests[name] = (text, SyncRequest(name, heartbeat_timeout=heartbeat_timeout))
        except (ConnectorError, ValueError) as exc:
            invalid += 1
            click.echo(f"{path.name}: error: {exc}; its schedule is left as it was", err=True)
            try:
                data = load_document(path).data
                keep += [data["name"]] if isinstance(data, dict) and isinstance(data.get("name"), str) else []
            except ConnectorError:
                pass
    changes = asyncio.run(_sync_schedules(temporal, namespace, task_queue, requests, jitter_value, keep))
    for verb, names in (("created", changes.created), ("updated", changes.updated), ("deleted", changes.deleted)):
        for name in names:
            click.echo(f"{verb} schedule sync/{name}" + (f" ({requests[name][0]})" if name in requests else ""))
    click.echo(
        f"{len(changes.created)} created, {len(changes.updated)} updated, {len(changes.deleted)} deleted, {len(changes.unchanged)} unchanged "
        f"on task queue {task_queue}" + (f"; {invalid} invalid connection file{'' if invalid == 1 else 's'}" if invalid else ""), err=True,
    )
    sys.exit(EXIT_USER if invalid else EXIT_OK)


async def _sync_schedules(
    address: str, namespace: str, task_queue: str, requests: Mapping[str, tuple[str, SyncRequest]], jitter: dt.timedelta | None, keep: list[str],
) -> ScheduleChanges:
    from connector_core.sync.temporal.schedules import sync_schedules

    client = await connect(address, namespace)
    return await sync_schedules(client, requests, task_queue=task_queue, jitter=jitter, keep=keep)


COMMANDS = [worker, schedules]

__all__ = ["COMMANDS", "ConnectionDirectory", "WorkerLines", "schedules", "worker"]
