"""The sync commands of ``connector-core``: ``run``, ``status`` and ``run-due``.

Exit codes of ``run`` and ``run-due`` (besides the CLI's 1 invalid files, 2 usage, 3 API failure,
4 internal error): 5 the run finished but records were dead-lettered (``status --failed`` lists them) ·
6 the delete breaker stopped the run · 7 this run lost its lease to another mid-way · 130 / 143 the
run was stopped by Ctrl-C / SIGTERM (committed work stands; a rerun resumes).
Dry-run writes go to stdout as JSON lines; progress, messages and the summary go to stderr.
"""

from __future__ import annotations

import functools
import json
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from connector_core.cli import run_report
from connector_core.cli.app import EXIT_API, EXIT_OK, EXIT_USER, Context, guarded, pass_context
from connector_core.cli.metrics import metrics_options
from connector_core.cli.temporal_run import run_via_temporal, via_options

EXIT_FAILED_RECORDS, EXIT_BREAKER, EXIT_LOCKED = 5, 6, 7
EXIT_INTERRUPTED = {"Ctrl-C": 130, "SIGTERM": 143}  # 128 + the signal's number, as a shell reports it
STATUS_EXIT = {
    "ok": EXIT_OK,
    "not_due": EXIT_OK,
    "failed_records": EXIT_FAILED_RECORDS,
    "api_error": EXIT_API,
    "error": EXIT_USER,
    "breaker": EXIT_BREAKER,
    "locked": EXIT_OK,  # skipped: another run of the connection holds its lease (it is running elsewhere)
    "lease_lost": EXIT_LOCKED,  # this run lost its lease to another one mid-way and stopped
}
def _store(loaded: Any, state: str | Path | None, *, reset_state: bool = False) -> Any:
    """The connection's state store: ``--state``, else its file's ``state``, else ``$CONNECTOR_CORE_STATE_URL``,
    else ``.state/<name>.sqlite`` beside the file (a SQLite path or a PostgreSQL URL)."""
    from connector_core.sync.store import open_store

    location = loaded.state_location(state)
    default = location == loaded.default_state_path()  # only the default .state directory is created
    return open_store(location, loaded.name, create_parent=default, reset=reset_state)


def exit_code(result: Any) -> int:
    if result.status == "interrupted":
        return EXIT_INTERRUPTED.get(result.stopped_by or "", EXIT_INTERRUPTED["Ctrl-C"])
    return STATUS_EXIT.get(result.status, EXIT_USER)


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """While a run runs, SIGTERM (a container stop) stops it like Ctrl-C: at a safe point, with what was
    acknowledged committed. A second SIGTERM ends the process at once."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from connector_core.sync.records import StopRequested

    def stop(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise StopRequested("SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_connection(
    ctx: Context, path: Path, *, dry_run: bool, full_refresh: bool, state: str | None, due_only: bool = False, accept_deletes: bool = False,
    reset_state: bool = False,
) -> Any:
    from connector_core.sync.connection import load_connection
    from connector_core.sync.runner import Runner
    from connector_core.sync.schedule import next_due

    loaded = load_connection(path, ctx.registry)
    reporter = run_report.reporter()
    with _store(loaded, state, reset_state=reset_state) as store:
        if store.reset_to is not None:
            click.echo(f"state: {store.where} was empty or damaged; kept as {store.reset_to.name}; a new state begins", err=True)
        due_check = None
        if due_only:
            schedule = loaded.connection.schedule
            assert schedule is not None

            def due_check() -> bool:
                import datetime as dt

                last = store.last_run()
                started = dt.datetime.fromtimestamp(last.started_at, dt.UTC) if last else None
                due = next_due(schedule, started)
                return due is None or due <= dt.datetime.now(dt.UTC)

        runner = Runner(loaded, store, ctx.registry, dry_run=dry_run, full_refresh=full_refresh, accept_deletes=accept_deletes, reporter=reporter)
        from connector_core.cli import collector

        collector.started()  # the connection and its specs are loaded
        try:
            result = runner.run(due_check=due_check)
        finally:
            if isinstance(reporter, run_report.RichReporter):
                reporter.close()
    listing = run_report.LISTING.format(command=f"connector-core status {shlex.quote(str(path))}{f' --state {shlex.quote(state)}' if state else ''} --failed")
    return run_report.reported(result, getattr(reporter, "inner", reporter).dead, listing)  # (--log-format json wraps the plain reporter)


@click.command()
@click.argument("connection", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Print the writes that would be made (JSON lines on stdout); write and commit nothing.")
@click.option("--full-refresh", is_flag=True, help="Read every stream from the start (the ID map is kept: nothing is duplicated).")
@click.option("--state", type=click.Path(), help="State database (default: the connection's `state`, or .state/NAME.sqlite beside it).")
@click.option("--accept-deletes", is_flag=True, help="Apply deletions the delete breaker would stop (once, for this run).")
@click.option("--reset-state", is_flag=True, help="Start a new state when the state file is empty (truncated) or damaged; the old files are kept aside.")
@metrics_options
@via_options
@pass_context
@guarded
def run(
    ctx: Context, connection: str, dry_run: bool, full_refresh: bool, state: str | None, accept_deletes: bool, reset_state: bool,
    metrics_file: str | None, pushgateway: str | None, via: str, **temporal: Any,
) -> None:
    """Run the sync described by CONNECTION once (here, or with --via temporal on a worker fleet).

    Exit codes: 0 ok · 1 invalid connection, spec or config · 3 an API failed (the run stopped; rerun
    resumes) · 5 finished, but records were dead-lettered · 6 the delete breaker stopped the run ·
    7 this run lost its lease to another mid-way · 130 stopped by Ctrl-C · 143 stopped by SIGTERM
    (both: what was acknowledged is committed; rerun resumes).
    """
    from connector_core.cli.logging_setup import bind_connection, emit_summary
    from connector_core.cli.metrics import RunMetrics

    bind_connection(Path(connection))
    if via == "temporal":
        result = run_via_temporal(ctx, Path(connection), full_refresh=full_refresh, accept_deletes=accept_deletes, **temporal)
    else:
        metrics = RunMetrics.start(ctx, metrics_file, pushgateway)
        with stop_on_sigterm():
            result = metrics.observe(Path(connection), state, functools.partial(
                run_connection, ctx, Path(connection), dry_run=dry_run, full_refresh=full_refresh, state=state, accept_deletes=accept_deletes, reset_state=reset_state
            ))
    emit_summary(result, run_report.summary(result), exit_code(result))
    sys.exit(exit_code(result))


def _connection_files(directory: Path) -> list[Path]:
    from connector_core.engine.documents import load_document
    from connector_core.errors import SpecError
    from connector_core.sync.connection import is_connection_document

    found = []
    for path in sorted(p for p in directory.iterdir() if p.suffix.lower() in (".yaml", ".yml", ".json") and p.is_file()):
        try:
            if is_connection_document(load_document(path)):
                found.append(path)
        except SpecError:
            found.append(path)  # reported as invalid when loaded
    return found


@click.command("run-due")
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
@click.option("--dry-run", is_flag=True, help="Dry-run every due connection instead.")
@metrics_options
@pass_context
@guarded
def run_due(ctx: Context, directory: str, dry_run: bool, metrics_file: str | None, pushgateway: str | None) -> None:
    """Run every connection file in DIRECTORY whose schedule says it is due.

    Meant for cron (`* * * * * connector-core run-due /etc/syncs`). A connection already running
    elsewhere (its lease is held) is skipped, and being due is checked again under the lease, so two
    overlapping invocations never run one connection twice. Exit code: the worst of the runs.
    """
    from connector_core.cli.logging_setup import bind_connection, emit_summary
    from connector_core.cli.metrics import RunMetrics
    from connector_core.errors import ConnectorError

    worst = EXIT_OK
    order = [EXIT_OK, EXIT_FAILED_RECORDS, EXIT_BREAKER, EXIT_API, EXIT_USER]
    metrics = RunMetrics.start(ctx, metrics_file, pushgateway)
    for path in _connection_files(Path(directory)):
        bind_connection(path)
        try:
            from connector_core.sync.connection import load_connection

            loaded = load_connection(path, ctx.registry)
            if not loaded.connection.schedule:
                click.echo(f"{path.name}: no schedule; skipped", err=True)
                continue
            with stop_on_sigterm():
                result = metrics.observe(path, None, functools.partial(run_connection, ctx, path, dry_run=dry_run, full_refresh=False, state=None, due_only=not dry_run))
        except ConnectorError as exc:
            metrics.failed(path, None, exc)  # also a file that did not load
            click.echo(f"{path.name}: error: {exc}", err=True)
            code = EXIT_USER
        else:
            if result.status == "not_due":
                click.echo(f"{path.name}: not due", err=True)
                continue
            if result.status == "locked":
                click.echo(f"{path.name}: {result.errors[0]}", err=True)
                continue
            emit_summary(result, run_report.summary(result), exit_code(result))
            if result.status == "interrupted":
                sys.exit(exit_code(result))  # a stop request ends the whole invocation; later connections wait for the next
            code = STATUS_EXIT.get(result.status, EXIT_USER)
        if order.index(code) > order.index(worst):
            worst = code
    sys.exit(worst)


@click.command()
@click.argument("connection", required=False, type=click.Path())
@click.option("--failed", is_flag=True, help="List the dead-lettered records with their reasons.")
@click.option("--runs", "run_count", default=10, show_default=True, help="How many recent runs to show.")
@click.option("--state", type=click.Path(), help="State database, when not the connection's default.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pass_context
@guarded
def status(ctx: Context, connection: str | None, failed: bool, run_count: int, state: str | None, as_json: bool) -> None:
    """Show recent runs, cursors and dead letters of CONNECTION (a file), or of every connection in a directory (default: .)."""
    from connector_core.sync.connection import load_connection

    target = Path(connection or ".")
    paths = _connection_files(target) if target.is_dir() else [target]
    reports = []
    for path in paths:
        loaded = load_connection(path, ctx.registry)
        location = loaded.state_location(state if state and not target.is_dir() else None)
        if isinstance(location, Path) and not location.exists():  # status only reads: a connection that never ran gets no state file
            reports.append(_never_run_report(loaded, location, failed))
            continue
        with _store(loaded, location) as store:
            reports.append(_status_report(loaded, store, run_count, failed))
    if as_json:
        click.echo(json.dumps(reports if target.is_dir() else reports[0], indent=2, default=str))
        return
    for report in reports:
        click.echo(_status_text(report, failed))
    if not reports:
        click.echo(f"no connection files in {target}", err=True)


def due_text(schedule: str | None, last_started: float | None, now: float | None = None) -> str | None:
    """When a connection is next due, as ISO 8601 UTC, or "now" (never run, or overdue); None without a schedule.

    The rule `run-due` applies: the last (not dry) run's start plus one interval, or the cron expression's
    next time after it.
    """
    import datetime as dt
    import time

    from connector_core.sync.schedule import next_due as due_after

    if not schedule:
        return None
    due = due_after(schedule, dt.datetime.fromtimestamp(last_started, dt.UTC) if last_started is not None else None)
    if due is None or due.timestamp() <= (time.time() if now is None else now):
        return "now"
    return due.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _never_run_report(loaded: Any, state_path: Path, failed: bool) -> dict[str, Any]:
    report: dict[str, Any] = {
        "connection": loaded.name, "file": str(loaded.path), "state": str(state_path),
        "schedule": loaded.connection.schedule, "next_due": due_text(loaded.connection.schedule, None),
        "running": None, "runs": [], "cursors": {}, "dead_letters": 0, "write_backs_owed": 0, "breaker": {},
    }
    if failed:
        report["failed"] = []
    return report


def _status_report(loaded: Any, store: Any, run_count: int, failed: bool) -> dict[str, Any]:
    from connector_core.sync.store import when

    letters = store.dead_letters()
    running = (store.lease_holder() or (None,))[0]
    last = store.last_run()
    report: dict[str, Any] = {
        "connection": loaded.name,
        "file": str(loaded.path),
        "state": str(store.where),
        "schedule": loaded.connection.schedule,
        "next_due": due_text(loaded.connection.schedule, last.started_at if last else None),
        "running": running,
        "runs": [
            {
                # a run still marked running with no live lease holder was killed
                "id": r.id, "status": "interrupted" if r.status == "running" and running is None else r.status,
                "dry_run": r.dry_run, "started": when(r.started_at), "ended": when(r.ended_at),
                "duration": None if r.duration is None else round(r.duration, 3), "counts": r.counts, "errors": r.errors[:5],
            }
            for r in store.runs(run_count)
        ],
        "cursors": {key: run_report.summarised(state) for key, state in store.cursors().items() if not key.endswith(":breaker")},
        "breaker": {key.removesuffix(":breaker"): state for key, state in store.cursors().items() if key.endswith(":breaker")},
        "dead_letters": len(letters),
        "write_backs_owed": len(store.outbox()),
    }
    if failed:
        report["failed"] = [
            {"flow": d.flow, "source_id": d.source_id, "attempts": d.attempts, "first_seen": when(d.first_seen), "last_seen": when(d.last_seen), "reason": d.reason}
            for d in letters
        ]
    return report


def _status_text(report: dict[str, Any], failed: bool) -> str:
    from connector_core.sync.store import when

    lines = [f"{report['connection']}  ({report['file']})", f"  state: {report['state']}"]
    if report["schedule"]:
        due = report.get("next_due")
        lines.append(f"  schedule: {report['schedule']}; " + ("due now (`run-due` runs it)" if due == "now" else f"next due {due}"))
    else:
        lines.append("  schedule: none (`run-due` leaves it alone; run it by hand or from your scheduler)")
    if report["running"]:
        lines.append(f"  running now: {report['running']}")
    if not report["runs"]:
        lines.append("  never run")
    for r in report["runs"]:
        totals: dict[str, int] = {}
        for counts in r["counts"].values():
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        duration = f" {r['duration']:.1f}s" if r["duration"] is not None else ""
        done = run_report.counts_text(totals) if totals or r["status"] in ("ok", "running", "not_due") else ""  # a failed run did not "do nothing"
        if r["status"] == "interrupted":
            writes = sum(totals.get(name, 0) for name in ("created", "updated", "deleted"))
            done = f"after {writes} write{'' if writes == 1 else 's'}" + (f" ({done})" if totals else "")
        lines.append(f"  run {r['id']}: {r['status']}{' (dry run)' if r['dry_run'] else ''} {r['started']}{duration}  {done}")
        for error in r["errors"][:2]:
            lines.append(f"      {error.splitlines()[0][:300]}")
    cursors = report.get("cursors") or {}
    lines.append("  cursors:" if cursors else "  cursors: none saved (the next run reads every stream from the start)")
    for key, cursor in cursors.items():
        text = json.dumps(cursor, default=str, ensure_ascii=False)
        lines.append(f"    {key}: {text[:200]}{'…' if len(text) > 200 else ''}")
    lines.append(f"  dead letters: {report['dead_letters']}" + ("" if failed or not report["dead_letters"] else " (--failed lists them)"))
    for flow, hold in (report.get("breaker") or {}).items():
        lines.append(
            f"  delete breaker holds {flow} since {when(hold.get('since'))}: {hold.get('would_delete')} of {hold.get('mapped')} mapped "
            "records would be deleted; check the read side, or `run --accept-deletes` to apply them"
        )
    if report.get("write_backs_owed"):
        lines.append(f"  write-backs owed: {report['write_backs_owed']} (sent first by the next run)")
    for d in report.get("failed", []):
        lines.append(f"    {d['flow']} {d['source_id']}: attempts {d['attempts']}, first {d['first_seen']}, last {d['last_seen']}")
        lines.append(f"      {d['reason']}")
    return "\n".join(lines)


COMMANDS = [run, run_due, status]

__all__ = ["COMMANDS", "EXIT_BREAKER", "EXIT_FAILED_RECORDS", "EXIT_LOCKED", "run_connection"]
