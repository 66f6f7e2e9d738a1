"""One flow of a run: read its stream, map, match, write through :class:`~.writes.FlowWrites`, commit
each batch with its cursor in one transaction, then detect deletions. The steps are described in
:mod:`connector_core.sync.runner`.

Kept as one module (a little over 500 lines): every step reads and updates the same per-flow state
(buffer, claims, checkpoint, counts); the write mechanics already live in :mod:`.writes`.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from queue import SimpleQueue
from typing import Any, Protocol

from connector_core.engine.paths import get_path, set_path
from connector_core.errors import (
    InterpolationError,
)
from connector_core.sync.checks import modified_path
from connector_core.sync.connection import LoadedConnection
from connector_core.sync.mapping import CompiledMapping, CompiledTarget
from connector_core.sync.models import Flow, Lookup
from connector_core.sync.records import (
    DEAD_LETTER_RETRIES_PER_RUN,
    SINGLE_COMMIT_EVERY,
    DeleteBreakerError,
    InFlight,
    WriteItem,
    as_epoch,
    delete_path,
    grouped,
    id_value,
    record_hash,
    truthy,
)
from connector_core.sync.signals import signals_deferred
from connector_core.sync.store import DeadLetter, MappedRecord, OutboxEntry, SQLStateStore
from connector_core.sync.writes import FlowWrites, RunContext


class FlowContext(RunContext, Protocol):
    """What a flow run needs from the run it belongs to (the :class:`~.runner.Runner`)."""

    loaded: LoadedConnection
    store: SQLStateStore
    dry_run: bool
    full_refresh: bool
    accept_deletes: bool

    def lookup(self, lookup: Lookup) -> dict[str, Any]: ...

    def index(self, side: str, stream: str, key: str, value: str) -> dict[str, Any]: ...


class FlowRun(FlowWrites):
    """One flow within a run."""

    def __init__(self, runner: FlowContext, flow: Flow) -> None:
        self.runner: FlowContext = runner
        self.flow = flow
        self.store = runner.store
        self.dry_run = runner.dry_run
        self.counts: Counter[str] = Counter()
        self.errors: list[str] = []
        loaded = runner.loaded
        self.read_side, self.write_side = flow.from_.side, flow.to.side
        self.read_spec = loaded.specs[self.read_side].spec
        self.write_spec = loaded.specs[self.write_side].spec
        self.role = loaded.roles[self.read_side]
        self.state_key = flow.from_.state_key or flow.name
        self.breaker_key = f"{self.state_key}:breaker"
        self.id_paths = self._id_paths()
        self.modified_path = modified_path(flow, loaded.specs[self.read_side])
        self.mapping = CompiledMapping(flow.mapping, runner.interpolator, f"{flow.name}.mapping", let=flow.let, checks=flow.checks)
        self.target = CompiledTarget(flow.match.target, runner.interpolator, f"{flow.name}.match.target") if flow.match.target is not None else None
        self.inactivate = (
            CompiledMapping(flow.delete.inactivate_mapping, runner.interpolator, f"{flow.name}.delete.inactivate_mapping")
            if flow.delete and flow.delete.inactivate_mapping
            else None
        )
        self.reverse_flows = [f.name for f in loaded.connection.flows if f.to.side == self.read_side and f.name != flow.name]
        owners = flow.conflict.owners if flow.conflict and flow.conflict.policy == "owner" else {}
        self.not_ours = {path for path, owner in owners.items() if owner != self.role}
        self.create_kind = self.write_spec.operations[flow.to.operation].kind
        self.batch_size = flow.to.batch.size if flow.to.batch else SINGLE_COMMIT_EVERY
        self.pending: dict[str, str] = {}
        self.buffer: list[WriteItem] = []
        self.outbox_ids: set[str] = set()  # records whose write-back is owed (in the store's outbox)
        self.seen: set[str] = set()  # the ids read, kept only to detect deletions as missing ids (memory)
        self.collects_seen = flow.delete is not None and flow.delete.detect == "missing"
        self.claims: dict[str, str] = {}  # external id → the read record that took it in this run
        self.checkpoint: dict[str, Any] | None = None
        self.warned_modified = False
        self.other_modified: dict[str, Any] = {}
        self.inflight: deque[InFlight] = deque()  # started, not committed; oldest first
        self.inflight_ids: set[str] = set()
        self.answers: SimpleQueue[InFlight] = SimpleQueue()  # the batch of each write answered, as it is
        self._pool: ThreadPoolExecutor | None = None
        self._repeatable: dict[str, bool] = {}

    def _id_paths(self) -> list[str]:
        if self.flow.from_.id:
            return [self.flow.from_.id]
        if self.flow.from_.group_by:
            return ["key"]
        stream = self.read_spec.streams[self.flow.from_.stream]
        key = stream.primary_key
        if isinstance(key, str):
            return [key]
        return list(key) if key else ["id"]

    def record_id(self, record: Mapping[str, Any]) -> str | None:
        values = [get_path(record, path) for path in self.id_paths]
        if any(v is None or v == "" for v in values):
            return None
        return "|".join(str(v) for v in values)

    # -- the flow ----------------------------------------------------------------------------------------

    def retry(self, letters: Iterable[DeadLetter]) -> None:
        """What a stopped run still owed, then ``letters`` again through the path new records take, all
        committed: how every run begins, and all a retry from the dashboard does."""
        flow = self.flow
        self.pending = self.store.pending(flow.name)
        self.outbox_ids = {entry.source_id for entry in self.store.outbox(flow.name)}
        self.send_write_backs()  # what a stopped run still owed goes first
        if flow.conflict is not None and flow.conflict.policy == "newest_wins":
            self.peek_other_side()
        for letter in letters:
            self.runner.stop_point()
            self.process(letter.record, retry=True)
        self.flush(None)
        self.drain()

    def run(self) -> None:
        flow = self.flow
        self.retry(self.store.dead_letters(flow.name, limit=DEAD_LETTER_RETRIES_PER_RUN))
        saved = None if self.runner.full_refresh else self.store.cursor(self.state_key)
        if saved is not None and flow.delete is not None and flow.delete.detect == "missing" and self.store.cursor(self.breaker_key):
            # the breaker stopped an earlier run: deletions are checked again, and that needs a full read
            self.runner.reporter.message(f"{flow.name}: the delete breaker holds this flow; reading it in full to check the deletions again")
            saved = None
        stream = self.read_spec.streams[flow.from_.stream]
        full_read = saved is None or stream.cursor is None

        def on_checkpoint(state: dict[str, Any]) -> None:
            # every record yielded so far is in the buffer or written: the state covers them
            self.checkpoint = state

        reader = self.runner.connector(self.read_side).read(flow.from_.stream, saved, on_checkpoint=on_checkpoint)
        if flow.from_.group_by:
            reader = grouped(reader, flow.from_.group_by)
        for record in reader:
            self.runner.stop_point()  # a stop asked from another thread (Runner.request_stop) lands here, as a Ctrl-C may
            if self.checkpoint is not None:
                self.flush_checkpoint()
            self.process(record)
        self.flush_checkpoint(final=True)
        self.send_write_backs()
        if flow.delete is not None:
            self.deletes(full_read)

    def flush_checkpoint(self, final: bool = False) -> None:
        cursor, self.checkpoint = self.checkpoint, None
        if cursor is not None or final:
            self.flush(cursor)
        if final:
            self.drain(sending_write_backs=True)

    # -- one record --------------------------------------------------------------------------------------

    def process(self, record: dict[str, Any], *, retry: bool = False) -> None:
        flow, runner = self.flow, self.runner
        self.counts["retried" if retry else "read"] += 1
        source_id = self.record_id(record)
        if source_id is None:
            self.counts["failed"] += 1
            self.errors.append(f"{flow.name}: a record has no id at {' + '.join(self.id_paths)}; set from.id (keys: {', '.join(sorted(record)[:12])})")
            return
        if not retry and self.collects_seen:
            self.seen.add(source_id)
        context = {"record": record}
        if flow.filter:
            try:
                keep = runner.interpolator.render(flow.filter, context, f"{flow.name}.filter")
            except InterpolationError as exc:
                self.fail(source_id, record, None, f"record {source_id}: filter failed: {exc.message}", retry)
                return
            if not truthy(keep):
                self.counts["skipped"] += 1
                return
        modified = get_path(record, self.modified_path) if self.modified_path else None
        if not retry and flow.skip_echoes and self.is_echo(source_id, modified):
            self.counts["echo"] += 1
            return
        try:
            external_id = str(runner.interpolator.render(flow.match.external_id, context, f"{flow.name}.match.external_id"))
        except InterpolationError as exc:
            self.fail(source_id, record, None, f"record {source_id}: match.external_id failed: {exc.message}", retry)
            return
        holder = self.claims.setdefault(external_id, source_id)
        if holder == source_id:
            holder = self.store.holder_of_external_id(flow.name, external_id) or source_id
        if holder != source_id:
            # two records that render one external id would be written onto one destination record: never merge
            self.fail(
                source_id, record, external_id,
                f"record {source_id}: its external id {external_id!r} already belongs to record {holder} of this flow; two records "
                "must not share one (they would merge on the other side): make match.external_id unique per record",
                retry,
            )
            return
        existing = self.store.mapped(flow.name, source_id)
        dest_id = existing.dest_id if existing is not None and not existing.deleted else None
        if dest_id is None and existing is None and self.reverse_flows:
            # written by the flow of the other direction: the pair is already known (cross ids)
            pairs = self.store.written_as(self.reverse_flows, source_id)
            dest_id = pairs[0].source_id if pairs else None
        known_dest = dest_id
        if dest_id is None and flow.match.id:
            try:
                carried = runner.interpolator.render(flow.match.id, context, f"{flow.name}.match.id")
            except InterpolationError as exc:
                self.fail(source_id, record, external_id, f"record {source_id}: match.id failed: {exc.message}", retry)
                return
            dest_id = known_dest = None if carried in (None, "") else str(carried)
        if dest_id is None and flow.match.lookup is not None:
            found = runner.index(self.write_side, flow.match.lookup.stream, flow.match.lookup.key, flow.match.lookup.id).get(external_id)
            dest_id = None if found is None else str(found)
        unmatched = None
        if dest_id is None and self.target is not None:
            dest_id, unmatched = self.target.resolve(record, record_id=source_id, context=context, lookups=runner.lookup)
        if dest_id is None and (flow.match.missing == "fail" or (flow.match.missing == "create" and self.create_kind == "update")):
            why = unmatched or "neither the ID map nor match found it"
            self.fail(source_id, record, external_id, f"record {source_id}: no counterpart on the {self.write_side} side to write to: {why}", retry)
            return
        if dest_id is None and flow.match.missing == "skip":
            self.counts["skipped"] += 1
            if retry:
                self.buffer.append(WriteItem(source_id, record, external_id, "resolve"))
            return
        values = {
            **context,
            "source": {"id": source_id, "external_id": external_id, "stream": flow.from_.stream, "side": self.read_side},
            "target": {"id": dest_id, "side": self.write_side},
        }
        mapped, problems = self.mapping.apply(record, record_id=source_id, context=values, lookups=runner.lookup)
        if problems:
            self.fail(source_id, record, external_id, "; ".join(problems), retry)
            return
        # what the record maps to, whatever the operation and ids: equal hashes mean nothing to write
        digest = record_hash({"fields": mapped, "external_id": external_id})
        if existing is not None and dest_id is not None and existing.hash == digest and not existing.deleted:
            self.counts["unchanged"] += 1
            if retry:
                self.buffer.append(WriteItem(source_id, record, external_id, "resolve"))
            return
        if dest_id is not None and flow.conflict is not None:
            if flow.conflict.policy == "owner":
                for path in self.not_ours:
                    delete_path(mapped, path, prune=True)
            elif self.other_side_newer(existing, dest_id, modified):
                self.counts["conflict"] += 1
                return
        try:
            payload = self.build_input(mapped, values, external_id, dest_id, batch_entry=flow.to.batch is not None)
        except InterpolationError as exc:
            self.fail(source_id, record, external_id, f"record {source_id}: to.input failed: {exc.message}", retry)
            return
        if dest_id is None and source_id in self.pending and self.create_kind == "create" and flow.match.lookup is None:
            self.fail(
                source_id, record, external_id,
                f"record {source_id}: an interrupted run sent a create for it that was never acknowledged; it may exist on the "
                f"{self.write_side} side. Find it (external id {external_id}) and delete the duplicate or add match.lookup, then clear this entry",
                retry,
            )
            return
        action = "update" if dest_id is not None else "create"
        operation = (flow.to.update or flow.to.operation) if dest_id is not None else flow.to.operation
        self.buffer.append(
            WriteItem(
                source_id, record, external_id, action, operation, payload, digest, dest_id, None if modified is None else str(modified),
                retry=retry, prior_dest=known_dest,
            )
        )
        if len(self.buffer) >= self.batch_size:
            self.flush(None)

    def build_input(
        self, mapped: dict[str, Any], values: Mapping[str, Any], external_id: str | None, dest_id: str | None, *, batch_entry: bool = False
    ) -> dict[str, Any]:
        """One call's input, or with ``batch_entry`` one entry of a batch call's `records` (to.input goes to the call: :meth:`batch_input`)."""
        to = self.flow.to
        payload: dict[str, Any] = {}
        if to.input and not batch_entry:
            payload = dict(self.runner.interpolator.render(to.input, values, f"{self.flow.name}.to.input"))
        if to.into:
            set_path(payload, to.into, mapped)
        else:
            payload.update(mapped)
        if to.external_id and external_id is not None:
            set_path(payload, to.external_id, external_id)
        if to.id and dest_id is not None:
            set_path(payload, to.id, id_value(dest_id))
        return payload

    def is_echo(self, source_id: str, modified: Any) -> bool:
        """The record is as our own last write left it: another flow wrote it and it has not changed since."""
        if not self.reverse_flows:
            return False
        if modified is None:
            if not self.warned_modified:
                self.warned_modified = True
                self.runner.reporter.message(
                    f"{self.flow.name}: records have no modified time at '{self.modified_path}', so our own writes cannot be told "
                    "from other changes (echo suppression is off); set from.modified"
                )
            return False
        seen = as_epoch(modified)
        if seen is None:
            return False
        for row in self.store.written_as(self.reverse_flows, source_id):
            caused = as_epoch(row.caused_modified) if row.caused_modified else row.written_at
            if caused is not None and seen <= caused:
                return True
        return False

    def peek_other_side(self) -> None:
        """newest_wins: read what changed on the written side since the reverse flows' cursors (nothing saved).

        The reverse flows run later in this run; without this look ahead, a change made there since the
        last run would be overwritten before anyone compared the two modification times.
        """
        loaded = self.runner.loaded
        for other in loaded.connection.flows:
            if other.name not in self.reverse_flows:
                continue
            reverse = FlowRun(self.runner, other)
            if reverse.modified_path is None:
                continue
            saved = self.store.cursor(reverse.state_key)
            for record in self.runner.connector(reverse.read_side).read(other.from_.stream, saved):
                record_id = reverse.record_id(record)
                if record_id is not None:
                    self.other_modified[record_id] = get_path(record, reverse.modified_path)

    def other_side_newer(self, existing: MappedRecord | None, dest_id: str, modified: Any) -> bool:
        """newest_wins: the written-side record changed after our last write, later than this record did."""
        ours = as_epoch(modified)
        last_write = (as_epoch(existing.caused_modified) if existing and existing.caused_modified else None) or (existing.written_at if existing else None)
        seen = [self.other_modified.get(dest_id)] + [
            row.source_modified for row in (self.store.mapped(name, dest_id) for name in self.reverse_flows) if row is not None
        ]
        for value in seen:
            theirs = as_epoch(value)
            if theirs is None:
                continue
            if last_write is not None and theirs <= last_write:
                continue  # the change they saw is our own write
            if ours is None or theirs > ours:
                return True
        return False

    def fail(self, source_id: str, record: dict[str, Any], external_id: str | None, reason: str, retry: bool) -> None:
        self.buffer.append(WriteItem(source_id, record, external_id, "fail", reason=reason, retry=retry))
        if len(self.buffer) >= self.batch_size:
            self.flush(None)

    # -- writing and committing ----------------------------------------------------------------------

    def flush(self, cursor: dict[str, Any] | None) -> None:
        items, self.buffer = self.buffer, []
        if not items and cursor is None:
            return
        writes = [i for i in items if i.action in ("create", "update")]
        if self.dry_run:
            for item in items:
                self.report_intended(item)
            self.counts_for(items)
            return
        if self.overlapping(items, writes):
            self.flush_overlapped(items, writes, cursor)
            return
        self.drain()  # batches commit in the order they were read
        creates = [i for i in writes if i.action == "create"]
        if creates and self.flow.to.batch is not None:
            # one request carries them all: each is pending until the batch answer is committed
            self.store.add_pending(self.flow.name, [(i.source_id, i.external_id) for i in creates], self.flow.to.batch.operation, self.runner.run_id)
        done: list[WriteItem] = []
        try:
            if self.flow.to.batch is not None:
                self.write_batches(writes, done)
            else:
                self.write_each(writes, done)
            self.await_write_backs(done)
        except BaseException:
            # commit what the destination acknowledged before the failure, without the cursor
            self.await_write_backs(done)
            self.commit([i for i in items if i.action in ("fail", "resolve")] + done, None)
            raise
        self.commit(items, cursor)

    def commit(self, items: list[WriteItem], cursor: dict[str, Any] | None, cursor_key: str | None = None) -> None:
        """One transaction: the ID map rows of the acknowledged writes, the write-backs they owe (outbox),
        dead letters, cleared ledger entries, the run's counts and the cursor the batch completes."""
        with signals_deferred():  # the transaction and the counts saying it happened, never one without the other
            self._commit(items, cursor, cursor_key)

    def _commit(self, items: list[WriteItem], cursor: dict[str, Any] | None, cursor_key: str | None) -> None:
        now = self.runner.clock()
        self.counts_for(items)
        owed: list[str] = []
        with self.store.batch() as tx:
            for item in items:
                if item.action in ("create", "update"):
                    # a record is settled (its hash stored) only once every effect is acknowledged: until its
                    # write-back is, it has no hash (reading it again writes it again) and an outbox entry
                    tx.map_record(
                        MappedRecord(
                            self.flow.name, item.source_id, item.dest_id, item.external_id,
                            None if item.write_back_pending else item.hash, now, item.caused, item.modified,
                        )
                    )
                    if item.write_back_pending and item.dest_id is not None:
                        tx.put_outbox(
                            OutboxEntry(
                                self.flow.name, item.source_id, item.dest_id, item.external_id, item.record, item.hash,
                                item.caused, item.modified, created_at=now,
                            )
                        )
                        owed.append(item.source_id)
                    tx.resolve_dead_letter(self.flow.name, item.source_id)
                elif item.action == "resolve":
                    tx.resolve_dead_letter(self.flow.name, item.source_id)
                elif item.action == "fail":
                    tx.dead_letter(self.flow.name, item.source_id, item.record, item.reason or "failed")
                elif item.action in ("delete", "inactivate", "ignore") and item.row is not None:
                    item.row.deleted = True
                    item.row.written_at = now
                    tx.map_record(item.row)
            tx.clear_pending(self.flow.name, [i.source_id for i in items if i.action in ("create", "update", "fail")])
            if cursor is not None:
                tx.set_cursor(cursor_key or self.state_key, cursor)
            self.save_run_counts(tx)
            tx.renew_lease(self.runner.owner, self.runner.lease_seconds)
        self.outbox_ids.update(owed)

    def counts_for(self, items: list[WriteItem]) -> None:
        for item in items:
            if item.action == "create":
                self.counts["created"] += 1
            elif item.action == "update":
                self.counts["updated"] += 1
            elif item.action == "fail":
                self.counts["failed"] += 1
                self.runner.reporter.message(f"{self.flow.name}: dead-lettered {item.reason}")
            elif item.action in ("delete", "inactivate"):
                self.counts["deleted"] += 1
            elif item.action == "ignore":
                self.counts["delete_ignored"] += 1
        self.runner.reporter.progress(self.flow.name, self.counts)

    def report_intended(self, item: WriteItem) -> None:
        if item.action in ("resolve",):
            return
        write: dict[str, Any] = {
            "flow": self.flow.name,
            "action": item.action,
            "source_id": item.source_id,
            "external_id": item.external_id,
            "dest_id": item.dest_id,
            "operation": self.batch_operation(item) if self.flow.to.batch and item.action in ("create", "update") else item.operation,
        }
        if item.input is not None:
            write["input"] = item.input
        if item.reason:
            write["reason"] = item.reason
        self.runner.reporter.intended(write)

    # -- deletes ---------------------------------------------------------------------------------------

    def deletes(self, full_read: bool) -> None:
        delete = self.flow.delete
        assert delete is not None
        rows = {row.source_id: row for row in self.store.mapped_rows(self.flow.name) if not row.deleted and row.dest_id}
        cursor: dict[str, Any] | None = None
        if delete.detect == "missing":
            if not full_read:
                self.runner.reporter.message(
                    f"{self.flow.name}: deletions are detected as missing ids only on a full read; run with --full-refresh to check"
                )
                return
            dead_lettered = {d.source_id for d in self.store.dead_letters(self.flow.name)}
            gone = [sid for sid in rows if sid not in self.seen and sid not in dead_lettered]
        else:
            assert delete.stream is not None
            key = f"{self.state_key}:deletes"
            saved = None if self.runner.full_refresh else self.store.cursor(key)
            checkpoints: list[dict[str, Any]] = []
            gone = []
            for tombstone in self.runner.connector(self.read_side).read(delete.stream, saved, on_checkpoint=checkpoints.append):
                if delete.filter and not truthy(self.runner.interpolator.render(delete.filter, {"record": tombstone}, f"{self.flow.name}.delete.filter")):
                    continue
                found = get_path(tombstone, delete.id)
                if found is not None and str(found) in rows and str(found) not in gone:
                    gone.append(str(found))
            cursor = checkpoints[-1] if checkpoints else None
        if gone and len(gone) > delete.max_share * len(rows) and not self.runner.accept_deletes:
            if not self.dry_run:
                with self.store.batch() as tx:  # the breaker holds until a run passes it or the deletions are accepted
                    tx.set_cursor(self.breaker_key, {"since": self.runner.clock(), "would_delete": len(gone), "mapped": len(rows)})
            raise DeleteBreakerError(
                f"flow '{self.flow.name}' would {delete.policy if delete.policy != 'ignore' else 'mark deleted'} {len(gone)} of its "
                f"{len(rows)} mapped records ({len(gone) / max(len(rows), 1):.0%}, more than delete.max_share {delete.max_share:.0%}); nothing was deleted",
                hint="check the read side (a filter or permission change can hide records); if the deletions are real, "
                "`connector-core run --accept-deletes` applies them once",
            )
        items: list[WriteItem] = []
        for source_id in gone:
            item = self.delete_item(rows[source_id])
            item.row = rows[source_id]
            items.append(item)
        if self.dry_run:
            for item in items:
                self.report_intended(item)
            self.counts_for(items)
            return
        done: list[WriteItem] = []
        failed = 0
        try:
            for item in items:
                if item.action in ("delete", "inactivate"):
                    self.write_one(item)
                if item.action == "fail":
                    # the mapping stays: the deletion is tried again on the next run
                    failed += 1
                    self.errors.append(item.reason or f"record {item.source_id}: the deletion failed")
                    self.runner.reporter.message(f"{self.flow.name}: {item.reason}")
                    continue
                done.append(item)
        except BaseException:
            self.commit(done, None)
            raise
        self.commit(done, cursor, f"{self.state_key}:deletes")
        self.counts["failed"] += failed
        if not self.dry_run and self.store.cursor(self.breaker_key) is not None:
            with self.store.batch() as tx:
                tx.clear_cursor(self.breaker_key)

    def delete_item(self, row: MappedRecord) -> WriteItem:
        delete = self.flow.delete
        assert delete is not None
        values = {"record": {}, "source": {"id": row.source_id, "external_id": row.external_id}, "target": {"id": row.dest_id}}
        if delete.policy == "ignore":
            return WriteItem(row.source_id, {}, row.external_id, "ignore", dest_id=row.dest_id)
        if delete.policy == "delete":
            payload = self.build_input({}, values, None, row.dest_id)
            if self.flow.to.into:
                delete_path(payload, self.flow.to.into)
            if self.flow.to.id is None and self.flow.to.external_id and row.external_id:
                set_path(payload, self.flow.to.external_id, row.external_id)
            return WriteItem(row.source_id, {}, row.external_id, "delete", delete.operation, payload, dest_id=row.dest_id)
        assert self.inactivate is not None
        mapped, problems = self.inactivate.apply({}, record_id=row.source_id, context=values)
        payload = self.build_input(mapped, values, row.external_id, row.dest_id)
        operation = delete.operation or self.flow.to.update or self.flow.to.operation
        if problems:
            return WriteItem(row.source_id, {}, row.external_id, "fail", reason="; ".join(problems))
        return WriteItem(row.source_id, {}, row.external_id, "inactivate", operation, payload, dest_id=row.dest_id)


__all__ = ["FlowContext", "FlowRun"]
