"""What a sync run tells its user on stderr: the progress reporters (plain lines, or a live display on
a terminal), the dead-letter digest (counts by reason, the first few examples) and the run's summary.

Used by ``run`` and ``run-due`` (:mod:`.sync_verbs`) and the demo (:mod:`.demo`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import click

from connector_core.sync.records import RunResult

_SHOWN = ("read", "retried", "created", "updated", "unchanged", "echo", "conflict", "skipped", "deleted", "delete_ignored", "failed")


def summarised(state: Any, limit: int = 10) -> Any:
    """A cursor state for people: lists longer than ``limit`` (ids seen at the cursor's instant, ...)
    become their length, so a status stays a few lines."""
    if isinstance(state, dict):
        return {key: summarised(value, limit) for key, value in state.items()}
    if isinstance(state, list):
        return {"entries": len(state)} if len(state) > limit else [summarised(value, limit) for value in state]
    return state


def counts_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {counts[name]}" for name in _SHOWN if counts.get(name)) or "nothing to do"


LISTING = "`{command}` lists every one; they are retried on the next run"
_RECORD_PREFIX = re.compile(r"^record [^:]{0,200}: ")
_QUOTED = re.compile(r"'[^']{0,200}'|\"[^\"]{0,200}\"")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def reason_kind(reason: str) -> str:
    """What dead-letter reasons have in common once each record's own values are taken out (its id,
    quoted values, numbers): "record 12: field x: 'lots' is not a number" → "field x: '…' is not a number"."""
    return _NUMBER.sub("N", _QUOTED.sub("'…'", _RECORD_PREFIX.sub("", reason, count=1)))


def _in_record_order(reason: str) -> tuple[tuple[int, int, str], ...]:
    """Sorts ``record 9: …`` before ``record 10: …``: numbers by value, the rest as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", reason) if part)


class DeadLetterDigest:
    """A run's dead letters for its summary: counts by flow and reason, with the first record of each.

    A run may dead-letter thousands of records, and one line each would bury the summary (on a
    terminal, the progress too); ``status --failed`` lists every one.
    """

    KINDS = 1000  # distinct reasons kept apart; beyond that, a flow's further ones are counted together

    def __init__(self) -> None:
        self.total = 0
        self.kinds: dict[tuple[str, str], list[Any]] = {}  # (flow, kind) → [count, first reason]

    def add(self, flow: str, reason: str) -> None:
        self.total += 1
        key = (flow, reason_kind(reason))
        if key not in self.kinds and len(self.kinds) >= self.KINDS:
            key = (flow, "")
        kind = self.kinds.setdefault(key, [0, reason])
        kind[0] += 1
        if _in_record_order(reason) < _in_record_order(kind[1]):
            kind[1] = reason  # the first in record order, not in arrival order: concurrent writes answer in any order

    def lines(self, listing: str, shown: int = 5, width: int = 300) -> list[str]:
        """The summary's lines: the reasons by count, the first record of each as the example, then
        ``listing`` (where to see every one)."""
        if not self.total:
            return []
        ranked = sorted(self.kinds.items(), key=lambda item: (-item[1][0], item[0][0], _in_record_order(item[1][1])))
        digits = len(str(ranked[0][1][0]))
        lines = [f"  dead letters: {self.total} in this run, by reason (with the first record of each):"]
        for (flow, _), (count, example) in ranked[:shown]:
            text = " ".join(example.split())
            lines.append(f"    {count:>{digits}} × {flow}: {text[:width]}{'…' if len(text) > width else ''}")
        rest = ranked[shown:]
        if rest:
            others = sum(count for _, (count, _) in rest)
            lines.append(f"    … and {others} more, for {len(rest)} other reason{'s' if len(rest) > 1 else ''}")
        lines.append(f"  {listing}")
        return lines


class PlainReporter:
    """Log lines on stderr (not a terminal): one per 1000 records and one per flow. Dead letters are
    gathered for the summary (:class:`DeadLetterDigest`), not printed one by one."""

    def __init__(self, every: int = 1000) -> None:
        self.every = every
        self.next_at: dict[str, int] = {}
        self.messages = 0
        self.dead = DeadLetterDigest()

    def flow_started(self, flow: str) -> None:
        self.next_at[flow] = self.every
        click.echo(f"flow {flow}: started", err=True)

    def progress(self, flow: str, counts: Mapping[str, int]) -> None:
        seen = counts.get("read", 0) + counts.get("retried", 0)
        if seen >= self.next_at.get(flow, self.every):
            self.next_at[flow] = seen + self.every
            click.echo(f"flow {flow}: {counts_text(counts)}", err=True)

    def flow_finished(self, flow: str, counts: Mapping[str, int]) -> None:
        click.echo(f"flow {flow}: done: {counts_text(counts)}", err=True)

    def flow_failed(self, flow: str, counts: Mapping[str, int], error: str) -> None:
        done = f" after {counts_text(counts)}" if any(counts.values()) else ""
        click.echo(f"flow {flow}: failed{done}: {error.splitlines()[0]}", err=True)

    def intended(self, write: dict[str, Any]) -> None:
        click.echo(json.dumps(write, default=str, sort_keys=True))

    def dead_letter(self, text: str) -> bool:
        """Take a runner message that reports a dead letter ("FLOW: dead-lettered REASON") into the digest."""
        for flow in self.next_at:
            prefix = f"{flow}: dead-lettered "
            if text.startswith(prefix):
                self.dead.add(flow, text[len(prefix) :])
                return True
        return False

    def message(self, text: str) -> None:
        if self.dead_letter(text):
            return
        self.messages += 1
        if self.messages <= 20:
            click.echo(text, err=True)
        elif self.messages == 21:
            click.echo("… further messages left out", err=True)


class RichReporter(PlainReporter):
    """A progress line per flow on a terminal."""

    def __init__(self) -> None:
        super().__init__()
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), console=self.console)
        self.tasks: dict[str, Any] = {}

    def flow_started(self, flow: str) -> None:
        if not self.tasks:
            self.bar.start()
        self.next_at[flow] = self.every
        self.tasks[flow] = self.bar.add_task(flow, total=None, counts="")

    def progress(self, flow: str, counts: Mapping[str, int]) -> None:
        if flow in self.tasks:
            self.bar.update(self.tasks[flow], counts=counts_text(counts))

    def flow_finished(self, flow: str, counts: Mapping[str, int]) -> None:
        if flow in self.tasks:
            self.bar.update(self.tasks[flow], counts=counts_text(counts), total=1, completed=1)

    def flow_failed(self, flow: str, counts: Mapping[str, int], error: str) -> None:
        if flow in self.tasks:
            done = f" after {counts_text(counts)}" if any(counts.values()) else ""
            self.bar.update(self.tasks[flow], counts=f"failed{done}", total=1, completed=0)

    def message(self, text: str) -> None:
        if not self.dead_letter(text):
            self.console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        if self.tasks:
            self.bar.stop()


@dataclass
class ReportedRun(RunResult):
    """A run's result with what the CLI gathered for its summary: the dead-letter digest, and the
    command that lists this connection's dead letters."""

    dead: DeadLetterDigest | None = None
    listing: str = LISTING.format(command="connector-core status --failed")  # where to see every dead letter


def reporter() -> Any:
    from connector_core.cli.logging_setup import JsonReporter, json_stderr

    if json_stderr() is not None:
        return JsonReporter(PlainReporter())  # --log-format json: the plain lines, with their flow and counts
    return RichReporter() if sys.stderr.isatty() else PlainReporter()


def summary(result: Any) -> str:
    stopped = f" ({result.stopped_by})" if getattr(result, "stopped_by", None) else ""
    lines = [f"connection {result.connection}: {result.status}{stopped}{' (dry run)' if result.dry_run else ''} in {result.duration:.1f}s"]
    for flow, counts in result.counts.items():
        if flow == getattr(result, "failed_flow", None):
            lines.append(f"  {flow}: failed" + (f" after {counts_text(counts)}" if any(counts.values()) else " (nothing written)"))
        else:
            lines.append(f"  {flow}: {counts_text(counts)}")
    for error in result.errors[:20]:
        lines.append(f"  error: {error}")
    if len(result.errors) > 20:
        lines.append(f"  … and {len(result.errors) - 20} more errors")
    listing = getattr(result, "listing", LISTING.format(command="connector-core status --failed"))
    dead = getattr(result, "dead", None)
    if dead is not None and dead.total:
        lines += dead.lines(listing)
    elif result.status == "failed_records":
        lines.append(f"  records were dead-lettered: {listing}")
    if result.status == "interrupted":
        writes = sum(result.totals.get(name, 0) for name in ("created", "updated", "deleted"))
        lines.append(f"  saved: {writes} write{'' if writes == 1 else 's'} committed with their checkpoints; run it again to resume from there")
    return "\n".join(lines)


def reported(result: RunResult, dead: DeadLetterDigest | None, listing: str) -> ReportedRun:
    """``result`` with the dead-letter digest its summary shows, and where to see them all (``listing``)."""
    return ReportedRun(**{f.name: getattr(result, f.name) for f in fields(RunResult)}, dead=dead, listing=listing)



__all__ = ["LISTING", "DeadLetterDigest", "PlainReporter", "ReportedRun", "RichReporter", "reason_kind", "reported", "summarised", "summary"]
