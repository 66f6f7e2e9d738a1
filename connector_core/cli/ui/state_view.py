"""What the dashboard shows, read from the same state store ``connector-core status`` reads.

:class:`Connections` finds the connection files of a directory and loads them (cached by file time);
:func:`overview` and :func:`detail` turn a connection's state into plain data for the templates. Nothing
here writes: a connection that never ran has no state file, and none is created for it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector_core.cli.run_report import reason_kind, summarised
from connector_core.cli.sync_verbs import due_text
from connector_core.engine.registry import Registry
from connector_core.errors import ConnectorError
from connector_core.sync.connection import LoadedConnection, load_connection
from connector_core.sync.store import RunRecord, SQLStateStore, open_store, when

#: Counts that moved a record on the written side.
MOVED = ("created", "updated", "deleted")
#: Runs kept in the overview's sparkline and in a connection's history chart.
HISTORY_RUNS = 30
#: Dead letters listed under each reason; the rest are counted.
LETTERS_PER_REASON = 25


@dataclass
class Entry:
    """One connection file of the directory: loaded, or the error that stopped it loading."""

    slug: str
    path: Path
    loaded: LoadedConnection | None = None
    error: str | None = None
    mtime: float = 0.0


class Connections:
    """The connection files of ``directory``, each loaded once per change of the file."""

    def __init__(self, directory: Path, registry: Registry, state: str | None = None) -> None:
        self.directory = directory
        self.registry = registry
        self.state = state  # --state: one database for every connection (it keeps each by name)
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def all(self) -> list[Entry]:
        from connector_core.cli.demo import connection_files

        with self._lock:
            found = connection_files(self.directory)
            slugs = {path.stem for path in found}
            for slug in set(self._entries) - slugs:
                del self._entries[slug]
            return [self._refreshed(path) for path in found]

    def get(self, slug: str) -> Entry | None:
        return next((entry for entry in self.all() if entry.slug == slug), None)

    def _refreshed(self, path: Path) -> Entry:
        mtime = path.stat().st_mtime
        entry = self._entries.get(path.stem)
        if entry is None or entry.mtime != mtime:
            entry = Entry(path.stem, path, mtime=mtime)
            try:
                entry.loaded = load_connection(path, self.registry)
            except ConnectorError as exc:
                entry.error = str(exc)
            self._entries[path.stem] = entry
        return entry

    def location(self, loaded: LoadedConnection) -> str | Path:
        return loaded.state_location(self.state)

    def open(self, loaded: LoadedConnection) -> SQLStateStore | None:
        """The connection's state store, or None when it never ran (no state file: none is made)."""
        location = self.location(loaded)
        if isinstance(location, Path) and not location.exists():
            return None
        return open_store(location, loaded.name, create_parent=False)


@dataclass
class RunRow:
    """One run, for tables and charts."""

    id: int
    status: str
    dry_run: bool
    started: str
    started_at: float
    duration: float | None
    totals: dict[str, int]
    counts: dict[str, dict[str, int]]
    errors: list[str]

    @property
    def moved(self) -> int:
        return sum(self.totals.get(name, 0) for name in MOVED)

    @property
    def failed(self) -> int:
        return self.totals.get("failed", 0)


def run_row(run: RunRecord, running: bool) -> RunRow:
    totals: dict[str, int] = {}
    for flow_counts in run.counts.values():
        for key, value in flow_counts.items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    # a run still marked running with no live lease holder was killed (as `status` says)
    status = "interrupted" if run.status == "running" and not running else run.status
    return RunRow(run.id, status, run.dry_run, when(run.started_at), run.started_at, run.duration, totals, run.counts, run.errors)


@dataclass
class Overview:
    """A connection's line on the front page."""

    slug: str
    name: str
    file: str
    description: str | None = None
    sides: str = ""
    direction: str = ""
    schedule: str | None = None
    next_due: str | None = None
    running: bool = False
    last: RunRow | None = None
    runs: list[RunRow] = field(default_factory=list)  # oldest first
    dead_letters: int = 0
    error: str | None = None


def _sides(loaded: LoadedConnection) -> str:
    return f"{loaded.specs['source'].spec.name} ⇄ {loaded.specs['destination'].spec.name}"


def overview(connections: Connections, entry: Entry) -> Overview:
    if entry.loaded is None:
        return Overview(entry.slug, entry.slug, str(entry.path), error=entry.error)
    loaded = entry.loaded
    item = Overview(
        entry.slug, loaded.name, str(entry.path), loaded.connection.description, _sides(loaded), loaded.connection.direction,
        loaded.connection.schedule, due_text(loaded.connection.schedule, None),
    )
    try:
        store = connections.open(loaded)
        if store is None:
            return item
        with store:
            item.running = store.lease_holder() is not None
            item.runs = [run_row(r, item.running) for r in reversed(store.runs(HISTORY_RUNS))]
            last = store.last_run()
            item.next_due = due_text(loaded.connection.schedule, last.started_at if last else None)
            item.dead_letters = len(store.dead_letters())
    except ConnectorError as exc:
        item.error = str(exc)
    real = [r for r in item.runs if not r.dry_run]
    item.last = real[-1] if real else None
    return item


@dataclass
class ReasonGroup:
    """Dead letters of one flow whose reasons differ only in the record's own values."""

    flow: str
    kind: str
    example: str
    count: int
    letters: list[dict[str, Any]]


@dataclass
class MapHit:
    flow: str
    read_side: str
    write_side: str
    source_id: str
    dest_id: str | None
    external_id: str | None
    written: str
    deleted: bool


@dataclass
class Detail:
    overview: Overview
    flows: list[dict[str, str]] = field(default_factory=list)
    cursors: dict[str, Any] = field(default_factory=dict)
    groups: list[ReasonGroup] = field(default_factory=list)
    write_backs_owed: int = 0
    hits: list[MapHit] | None = None  # None: no search made


def detail(connections: Connections, entry: Entry, search: str | None = None) -> Detail:
    item = Detail(overview(connections, entry))
    loaded = entry.loaded
    if loaded is None or item.overview.error:
        return item
    names = {side: spec.spec.name for side, spec in loaded.specs.items()}
    item.flows = [
        {"name": f.name, "reads": f"{names[f.from_.side]} {f.from_.stream}", "writes": f"{names[f.to.side]} {f.to.operation}"}
        for f in loaded.connection.flows
    ]
    try:
        store = connections.open(loaded)
        if store is None:
            item.hits = [] if search else None
            return item
        with store:
            item.cursors = {key: summarised(state) for key, state in store.cursors().items() if not key.endswith(":breaker")}
            item.groups = _grouped(store)
            item.write_backs_owed = len(store.outbox())
            if search:
                item.hits = _search(store, loaded, search.strip())
    except ConnectorError as exc:  # a state database that cannot be read (damaged, a server that does not answer)
        item.overview.error = str(exc)
    return item


def _grouped(store: SQLStateStore) -> list[ReasonGroup]:
    groups: dict[tuple[str, str], ReasonGroup] = {}
    for letter in store.dead_letters():
        key = (letter.flow, reason_kind(letter.reason))
        group = groups.get(key)
        if group is None:
            group = groups[key] = ReasonGroup(letter.flow, key[1], letter.reason, 0, [])
        group.count += 1
        if len(group.letters) < LETTERS_PER_REASON:
            group.letters.append(
                {"source_id": letter.source_id, "reason": letter.reason, "attempts": letter.attempts, "first_seen": when(letter.first_seen), "last_seen": when(letter.last_seen)}
            )
    return sorted(groups.values(), key=lambda g: (-g.count, g.flow, g.kind))


def _search(store: SQLStateStore, loaded: LoadedConnection, term: str) -> list[MapHit]:
    """ID map rows whose read-side id or written-side id is ``term``, in every flow."""
    if not term:
        return []
    names = {side: spec.spec.name for side, spec in loaded.specs.items()}
    hits: list[MapHit] = []
    for flow in loaded.connection.flows:
        rows = store.written_as([flow.name], term)
        found = store.mapped(flow.name, term)
        if found is not None and all(r.source_id != found.source_id for r in rows):
            rows.insert(0, found)
        for row in rows:
            hits.append(
                MapHit(flow.name, names[flow.from_.side], names[flow.to.side], row.source_id, row.dest_id, row.external_id, when(row.written_at), row.deleted)
            )
    return hits


__all__ = ["Connections", "Detail", "Entry", "MapHit", "Overview", "ReasonGroup", "RunRow", "detail", "overview"]
