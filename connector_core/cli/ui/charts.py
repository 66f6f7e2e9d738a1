"""The dashboard's charts as geometry for inline SVG, drawn server-side (the page works offline, no
chart library, no script): a sparkline of recent runs and a connection's run history.

Each function returns plain numbers and labels; ``templates/charts.html`` turns them into SVG, with
Jinja's autoescaping over every label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connector_core.cli.ui.state_view import RunRow

#: Result → CSS class (colour) of a run's bar.
STATUS_CLASS = {
    "ok": "ok",
    "not_due": "ok",
    "failed_records": "warn",
    "breaker": "bad",
    "api_error": "bad",
    "error": "bad",
    "lease_lost": "bad",
    "interrupted": "bad",
    "running": "busy",
    "locked": "muted",
}
#: Stacked segments of the history chart, bottom up.
SEGMENTS = ("created", "updated", "deleted", "failed")


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass
class Sparkline:
    width: int
    height: int
    bars: list[Bar]


def _title(run: RunRow) -> str:
    duration = f", {run.duration:.1f}s" if run.duration is not None else ""
    return f"run {run.id}: {run.status}{' (dry run)' if run.dry_run else ''}, {run.started}{duration}; {run.moved} moved, {run.failed} failed"


def sparkline(runs: Sequence[RunRow], width: int = 150, height: int = 28) -> Sparkline:
    """One bar per run (oldest left), its height the records it moved (a run that moved none still
    shows a stub), its colour the result."""
    shown = [r for r in runs if not r.dry_run]
    if not shown:
        return Sparkline(width, height, [])
    slot = width / max(len(shown), 12)
    top = max(max(r.moved + r.failed for r in shown), 1)
    bars = []
    for index, run in enumerate(shown):
        bar_height = max(2.0, (height - 2) * (run.moved + run.failed) / top)
        bars.append(Bar(round(index * slot + 1, 1), round(height - bar_height, 1), round(max(slot - 2, 1), 1), round(bar_height, 1), STATUS_CLASS.get(run.status, "muted"), _title(run)))
    return Sparkline(width, height, bars)


@dataclass
class Segment:
    y: float
    height: float
    css: str


@dataclass
class Column:
    x: float
    width: float
    segments: list[Segment]
    status_css: str
    label: str
    title: str
    duration_y: float | None


@dataclass
class History:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    left: int
    columns: list[Column]
    max_records: int
    max_seconds: float
    duration_points: str  # the SVG polyline of durations


def history(runs: Sequence[RunRow], width: int = 720, height: int = 220) -> History:
    """Records moved per run, stacked by kind (created, updated, deleted, failed), with each run's
    duration as a line on a second scale; a strip under each column gives the result."""
    left, right, top, bottom = 48, 48, 10, height - 34
    shown = [r for r in runs if not r.dry_run]
    slot = (width - left - right) / max(len(shown), 10)
    max_records = max([sum(r.totals.get(k, 0) for k in SEGMENTS) for r in shown] + [1])
    max_seconds = max([r.duration or 0.0 for r in shown] + [0.001])
    scale = (bottom - top) / max_records
    columns, points = [], []
    for index, run in enumerate(shown):
        x = left + index * slot
        y = float(bottom)
        segments = []
        for kind in SEGMENTS:
            value = run.totals.get(kind, 0)
            if value:
                segments.append(Segment(round(y - value * scale, 1), round(value * scale, 1), kind))
                y -= value * scale
        duration_y = None
        if run.duration is not None:
            duration_y = round(bottom - (bottom - top) * run.duration / max_seconds, 1)
            points.append(f"{round(x + slot / 2, 1)},{duration_y}")
        columns.append(
            Column(round(x + 2, 1), round(max(slot - 4, 1), 1), segments, STATUS_CLASS.get(run.status, "muted"), str(run.id), _title(run), duration_y)
        )
    return History(width, height, top, bottom, left, columns, max_records, round(max_seconds, 1), " ".join(points))


__all__ = ["History", "Sparkline", "history", "sparkline"]
