"""Run metrics for Prometheus, through the standard ``prometheus_client`` library.

``run``, ``run-due`` and ``worker`` take ``--metrics-file PATH`` (the node_exporter textfile collector's format,
written atomically by ``write_to_textfile``: a temporary file renamed into place) and ``--pushgateway
URL`` (``push_to_gateway``, job ``connector_core``, one group per connection, so pushes of different
connections do not replace each other). Every sample carries a ``connection`` label.

The values come from the run's result and from the state store: what a run did (result, duration,
records) is the result of this invocation when it ran; for a connection that was not due, whose lease
another process held, or that was dry-run, it is the last real run in the run log, so a textfile written
by ``run-due`` every minute always describes every scheduled connection. Dead letters, write-backs owed
and the last successful run always come from the store. Metrics are written when the command ends, also
when it fails (``up`` 0); a ``worker`` writes them each time one of its runs ends (the textfile holds
every connection the worker ran since it started, so give each worker on a host its own file). A metrics failure is a warning: it never changes the run's exit code.

Gauges (each describes the last run, so none is a counter):

- ``connector_core_up``: 0 when the last run stopped on an API, network, file or config error (exit 3
  or 1, or a crash), else 1;
- ``connector_core_last_run_result{result}``: 1 for the last run's result, 0 for the others (``RESULTS``);
- ``connector_core_last_run_duration_seconds``, ``connector_core_last_run_timestamp_seconds`` (its end);
- ``connector_core_last_success_timestamp_seconds``: end of the last run that finished (``ok`` or
  ``failed_records``: every flow ran; dead letters are counted apart);
- ``connector_core_last_run_records_read{flow}``, ``..._records_written{flow,action}`` (created, updated,
  deleted), ``..._records_failed{flow}``;
- ``connector_core_dead_letters``, ``connector_core_write_backs_owed``: open now.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from connector_core.cli.app import Context

JOB = "connector_core"
RESULTS = ("ok", "failed_records", "breaker", "api_error", "error", "interrupted", "running")
WRITE_ACTIONS = ("created", "updated", "deleted")
_DOWN = frozenset({"api_error", "error"})
_FINISHED = frozenset({"ok", "failed_records"})
_NOT_A_RUN = frozenset({"not_due", "locked"})  # nothing ran: the run log says what the last run did

_T = TypeVar("_T")


@dataclass
class ConnectionMetrics:
    """What is exported for one connection; ``None`` leaves a gauge out (unknown, e.g. a state never written)."""

    connection: str
    result: str | None = None
    duration: float | None = None
    ended_at: float | None = None
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    last_success: float | None = None
    dead_letters: int | None = None
    write_backs_owed: int | None = None


def build_registry(connections: list[ConnectionMetrics]) -> CollectorRegistry:
    """A fresh registry holding the gauges of ``connections``."""
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()

    def gauge(name: str, documentation: str, *labels: str) -> Gauge:
        return Gauge(name, documentation, ["connection", *labels], registry=registry)

    up = gauge("connector_core_up", "0 when the last run stopped on an API, network, file or config error (exit 3 or 1), else 1")
    result = gauge("connector_core_last_run_result", "1 for the result of the last run, 0 for the other results", "result")
    duration = gauge("connector_core_last_run_duration_seconds", "How long the last run took")
    ended = gauge("connector_core_last_run_timestamp_seconds", "When the last run ended (Unix time)")
    success = gauge("connector_core_last_success_timestamp_seconds", "When the last run that finished (ok or failed_records) ended (Unix time)")
    read = gauge("connector_core_last_run_records_read", "Records the last run read, per flow", "flow")
    written = gauge("connector_core_last_run_records_written", "Records the last run created, updated or deleted, per flow", "flow", "action")
    failed = gauge("connector_core_last_run_records_failed", "Records the last run dead-lettered, per flow", "flow")
    letters = gauge("connector_core_dead_letters", "Dead-lettered records open now (retried each run; `status --failed` lists them)")
    owed = gauge("connector_core_write_backs_owed", "Write-backs of new ids owed to the read side now")
    for item in connections:
        name = item.connection
        if item.result is not None:
            up.labels(name).set(0 if item.result in _DOWN else 1)
            for state in RESULTS:
                result.labels(name, state).set(1 if item.result == state else 0)
        for value, metric in ((item.duration, duration), (item.ended_at, ended), (item.last_success, success)):
            if value is not None:
                metric.labels(name).set(value)
        for flow, counts in item.counts.items():
            read.labels(name, flow).set(counts.get("read", 0))
            failed.labels(name, flow).set(counts.get("failed", 0))
            for action in WRITE_ACTIONS:
                written.labels(name, flow, action).set(counts.get(action, 0))
        if item.dead_letters is not None:
            letters.labels(name).set(item.dead_letters)
        if item.write_backs_owed is not None:
            owed.labels(name).set(item.write_backs_owed)
    return registry


def _from_store(metrics: ConnectionMetrics, store: Any, *, last_run: bool, run_id: int | None = None) -> None:
    """Fill what the state store knows; with ``last_run`` also what the last real run did (run ``run_id``
    when given: the run log's times and counts, so a run reads the same whether it just ran or not)."""
    runs = store.runs(1000)
    metrics.dead_letters = len(store.dead_letters())
    metrics.write_backs_owed = len(store.outbox())
    metrics.last_success = next((r.ended_at for r in runs if not r.dry_run and r.status in _FINISHED and r.ended_at), None)
    last = next((r for r in runs if not r.dry_run and (run_id is None or r.id == run_id)), None)
    if last_run and last is not None:
        status = last.status
        if status == "running" and store.lease_holder() is None:
            status = "interrupted"  # marked running, but no live run holds the lease: it was killed
        metrics.result, metrics.duration, metrics.ended_at, metrics.counts = status, last.duration, last.ended_at, last.counts


class RunMetrics:
    """Collects each connection's metrics as the command runs them, and writes them when it ends."""

    def __init__(self, ctx: Context, metrics_file: str | None, pushgateway: str | None) -> None:
        self.ctx = ctx
        self.metrics_file = Path(metrics_file) if metrics_file else None
        self.pushgateway = pushgateway
        self.connections: dict[str, ConnectionMetrics] = {}
        self._written = False
        self._lock = threading.Lock()  # a worker's runs end on several threads

    @property
    def enabled(self) -> bool:
        return self.metrics_file is not None or self.pushgateway is not None

    @classmethod
    def start(cls, ctx: Context, metrics_file: str | None, pushgateway: str | None) -> RunMetrics:
        """Write the metrics when the command ends, however it ends."""
        metrics = cls(ctx, metrics_file, pushgateway)
        if metrics.enabled:
            click.get_current_context().call_on_close(metrics.write)
        return metrics

    def observe(self, path: Path, state: str | None, run: Callable[[], _T]) -> _T:
        """Call ``run`` (a run of the connection file ``path``), and record its result or its failure."""
        if not self.enabled:
            return run()
        try:
            result = run()
        except BaseException as exc:
            self.failed(path, state, exc)
            raise
        self.add(path, state, result)
        return result

    def add(self, path: Path, state: str | None, result: Any) -> None:
        """Record a run's result (a :class:`~connector_core.sync.records.RunResult`) and the store's view."""
        if not self.enabled:
            return
        metrics = ConnectionMetrics(result.connection)
        ran = not result.dry_run and result.status not in _NOT_A_RUN
        if ran:  # what the run log says of this run replaces these, when the store can be read
            metrics.result, metrics.duration, metrics.ended_at, metrics.counts = result.status, result.duration, time.time(), result.counts
        self._read_store(metrics, path, state, last_run=not ran or result.run_id is not None, run_id=result.run_id if ran else None)
        self.connections[str(path)] = metrics

    def failed(self, path: Path, state: str | None, error: BaseException) -> None:
        """Record a run that raised (a file, config or state error; an API error; a crash): ``up`` 0."""
        if not self.enabled:
            return
        from connector_core.cli.logging_setup import connection_name
        from connector_core.errors import HTTPError

        metrics = ConnectionMetrics(connection_name(path), ended_at=time.time())
        if isinstance(error, KeyboardInterrupt):
            metrics.result = "interrupted"
        else:
            metrics.result = "api_error" if isinstance(error, HTTPError) else "error"
        self._read_store(metrics, path, state, last_run=False)
        self.connections[str(path)] = metrics

    def _read_store(self, metrics: ConnectionMetrics, path: Path, state: str | None, *, last_run: bool, run_id: int | None = None) -> None:
        from connector_core.errors import ConnectorError
        from connector_core.sync.connection import load_connection
        from connector_core.sync.store import open_store

        try:
            loaded = load_connection(path, self.ctx.registry)
            location = loaded.state_location(state)
            if isinstance(location, Path) and not location.exists():
                return
            metrics.connection = loaded.name
            with open_store(location, loaded.name, create_parent=False) as store:
                _from_store(metrics, store, last_run=last_run, run_id=run_id)
        except ConnectorError:
            return  # a file or state that does not load: the run's own error says why; these gauges stay out

    def published(self, path: Path, state: str | None, ended: Any) -> None:
        """For a command that serves runs until stopped (``worker``): record one run as it ends (its
        :class:`~connector_core.sync.records.RunResult`, or the exception it raised) and publish at once:
        the textfile with every connection this process ran so far, the gateway with this connection."""
        if not self.enabled:
            return
        with self._lock:
            if isinstance(ended, BaseException):
                self.failed(path, state, ended)
            else:
                self.add(path, state, ended)
            self._publish(list(self.connections.values()), [self.connections[str(path)]])

    def write(self) -> None:
        """Write the textfile and push to the gateway; a failure is a warning (the run's exit code stands)."""
        if self._written or not self.enabled:
            return
        self._written = True
        items = list(self.connections.values())
        self._publish(items, items)

    def _publish(self, items: list[ConnectionMetrics], pushed: list[ConnectionMetrics]) -> None:
        if self.metrics_file is not None:
            from prometheus_client import write_to_textfile

            try:
                write_to_textfile(str(self.metrics_file), build_registry(items))
            except OSError as exc:
                click.echo(f"warning: metrics: cannot write {self.metrics_file}: {exc.strerror or exc}", err=True)
        if self.pushgateway is not None:
            from prometheus_client import push_to_gateway

            for item in pushed:
                try:
                    push_to_gateway(self.pushgateway, job=JOB, registry=build_registry([item]), grouping_key={"connection": item.connection}, timeout=10)
                except Exception as exc:  # urllib's errors, and whatever the gateway answers
                    click.echo(f"warning: metrics: push of {item.connection} to {self.pushgateway} failed: {exc}", err=True)


def metrics_options(command: Callable[..., _T]) -> Callable[..., _T]:
    """The ``--metrics-file`` and ``--pushgateway`` options of ``run``, ``run-due`` and ``worker``."""
    command = click.option(
        "--pushgateway", metavar="URL", help="Push run metrics to this Prometheus Pushgateway (job connector_core, grouped by connection)."
    )(command)
    return click.option(
        "--metrics-file", type=click.Path(dir_okay=False), callback=_in_a_directory,
        help="Write run metrics to this file, atomically (Prometheus textfile collector format; name it *.prom).",
    )(command)


def _in_a_directory(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A usage error (exit 2) before anything runs, rather than metrics lost after the run."""
    if value is not None and not Path(value).parent.is_dir():
        raise click.BadParameter(f"the directory {Path(value).parent} does not exist")
    return value


__all__ = ["JOB", "RESULTS", "ConnectionMetrics", "RunMetrics", "build_registry", "metrics_options"]
