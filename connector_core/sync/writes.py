"""How a sync run sends its writes: one call per record, concurrently where repeating is safe, or
through a batch operation; and how new ids are written back to the side that was read.

:class:`FlowWrites` is a part of the runner's per-flow state (``connector_core.sync.flow.FlowRun``),
kept in its own module because the write mechanics are a subject of their own. Kept whole (a little over
500 lines): the single, overlapped and batched paths share the same per-flow attributes and commit.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from functools import partial
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any, Protocol

from connector_core.engine.paths import get_path
from connector_core.engine.writes import repeatable
from connector_core.errors import (
    AuthError,
    FatalHTTPError,
    InterpolationError,
    OperationError,
)
from connector_core.sync.records import (
    BATCHES_IN_FLIGHT,
    MAX_WRITE_THREADS,
    OUTSTANDING_WRITES_PER_SLOT,
    WRITE_THREADS_PER_SLOT,
    InFlight,
    WriteItem,
)
from connector_core.sync.signals import signals_deferred
from connector_core.sync.store import MappedRecord, Transaction

if TYPE_CHECKING:
    from connector_core.engine.connector import Connector
    from connector_core.engine.interpolation import Interpolator
    from connector_core.sync.models import Flow
    from connector_core.sync.records import ReporterProtocol
    from connector_core.sync.store import SQLStateStore


class RunContext(Protocol):
    """What the write mechanics need from the run they belong to (the runner provides it)."""

    run_id: int | None
    owner: str
    lease_seconds: float
    reporter: ReporterProtocol
    interpolator: Interpolator
    clock: Callable[[], float]

    def connector(self, side: str) -> Connector: ...

    def run_counts(self) -> dict[str, dict[str, int]]: ...

    def stop_point(self) -> None: ...


class FlowWrites:
    """Write mechanics of a flow run; mixed into ``FlowRun``, which sets these attributes
    and provides ``commit`` and ``counts_for``."""

    runner: RunContext
    flow: Flow
    store: SQLStateStore
    dry_run: bool
    counts: Counter[str]
    read_side: str
    write_side: str
    read_spec: Any
    write_spec: Any
    outbox_ids: set[str]
    inflight: deque[InFlight]
    inflight_ids: set[str]
    answers: SimpleQueue[InFlight]
    _pool: ThreadPoolExecutor | None
    _repeatable: dict[str, bool]
    # FlowRun.commit: the items' state and the read cursor (None: keep the saved one), in one transaction
    commit: Callable[[list[WriteItem], dict[str, Any] | None], None]

    def write_one(self, item: WriteItem, ledger: bool = True) -> None:
        connector = self.runner.connector(self.write_side)
        assert item.operation is not None and item.input is not None
        if item.action == "create" and ledger:
            # committed before the request leaves: a crash after it lands is recognised on resume
            self.store.add_pending(self.flow.name, [(item.source_id, item.external_id)], item.operation, self.runner.run_id)
        try:
            result = connector.call(item.operation, item.input)
        except AuthError:
            raise
        except (FatalHTTPError, OperationError, InterpolationError) as exc:
            item.action, item.reason = "fail", f"record {item.source_id}: {item.operation} was rejected: {exc.message}"
            return
        new_id = result.get("id") if isinstance(result, dict) else None
        item.dest_id = str(new_id) if new_id not in (None, "") else item.dest_id
        if self.flow.to.modified and isinstance(result, dict):
            found = get_path(result.get("body"), self.flow.to.modified)
            item.caused = None if found is None else str(found)

    def write_each(self, writes: list[WriteItem], done: list[WriteItem]) -> None:
        """One call per record; each acknowledged item is appended to ``done``.

        Writes that may be repeated (upsert, update, delete, an idempotency key) run concurrently, up to
        the write side's concurrency: their creates enter the ledger together before any request leaves
        (an interrupted run simply sends them again). A plain create is sent alone, after its own ledger
        entry, so an interrupted run leaves at most one create in doubt. When a write raises (auth, a
        429/5xx beyond the retries, an interrupt) no further write starts; those under way finish and
        the acknowledged ones are kept, so the caller commits them before the run stops.
        """
        connector = self.runner.connector(self.write_side)
        workers = connector.governor.concurrency
        parallel = [i for i in writes if workers > 1 and self.repeatable(i)]
        if len(parallel) < 2 or len({i.source_id for i in parallel}) < len(parallel):
            parallel = []  # nothing to overlap, or one record twice: in order, as read
        concurrent = {id(i) for i in parallel}
        futures: dict[Future[None], WriteItem] = {}
        acknowledged = ("create", "update")
        try:
            if parallel:
                creates = [(i.source_id, i.external_id) for i in parallel if i.action == "create"]
                if creates:
                    self.store.add_pending(self.flow.name, creates, self.flow.to.operation, self.runner.run_id)
                pool = self.write_pool()
                futures = {pool.submit(self.write_one, item, False): item for item in parallel}
            for item in writes:
                if id(item) not in concurrent:
                    self.write_one(item)
                    if item.action in acknowledged:
                        done.append(item)
            for future in as_completed(futures):
                future.result()
                if futures[future].action in acknowledged:
                    done.append(futures[future])
        except BaseException:
            for future in futures:
                future.cancel()
            wait(futures)
            kept = {id(i) for i in done}
            for future, item in futures.items():
                if not future.cancelled() and future.exception() is None and item.action in acknowledged and id(item) not in kept:
                    done.append(item)
            raise

    def repeatable(self, item: WriteItem) -> bool:
        """The item's write may run concurrently and be resent (see :func:`connector_core.engine.writes.repeatable`)."""
        name = str(item.operation)
        if name not in self._repeatable:
            self._repeatable[name] = repeatable(self.write_spec.operations[name])
        return self._repeatable[name]

    # -- overlapped writes: a batch is written while the next one is read and mapped ---------------------

    def write_pool(self) -> ThreadPoolExecutor:
        """More threads than the write side's concurrency: the governor still lets only that many requests
        out at once, but a write waiting out a retry's backoff (holding no request slot) no longer keeps
        a slot's worth of other writes waiting."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.write_threads(), thread_name_prefix=f"{self.flow.name}-write")
        return self._pool

    def write_threads(self) -> int:
        concurrency = self.runner.connector(self.write_side).governor.concurrency
        return min(WRITE_THREADS_PER_SLOT * concurrency, MAX_WRITE_THREADS)

    def overlapping(self, items: list[WriteItem], writes: list[WriteItem]) -> bool:
        """One repeatable call per record, more than one allowed in flight, no record twice in the batch."""
        if self.flow.to.batch is not None:
            return False
        if self.runner.connector(self.write_side).governor.concurrency < 2 or not all(self.repeatable(i) for i in writes):
            return False
        return len({i.source_id for i in items}) == len(items)

    def flush_overlapped(self, items: list[WriteItem], writes: list[WriteItem], cursor: dict[str, Any] | None) -> None:
        """Start the batch's writes and return while they run.

        Each batch is committed in one transaction as soon as all its writes are answered, whether or
        not the batches before it are; the cursor a batch completes is saved only once every batch
        before it is committed too, so a stopped run resumes before the first unfinished one. The
        reader goes on while writes are under way, up to ``OUTSTANDING_WRITES_PER_SLOT`` per request
        slot and ``BATCHES_IN_FLIGHT`` batches: a write waiting out a retry (a 429 or 5xx) holds
        back no other write and no other commit.
        """
        try:
            if self.inflight_ids.intersection(i.source_id for i in items):
                self.drain()  # a record still being written: that write commits before the next one starts
            creates = [(i.source_id, i.external_id) for i in writes if i.action == "create"]
            if creates:
                # in the ledger before any of them leaves (repeatable: an interrupted run sends them again)
                self.store.add_pending(self.flow.name, creates, self.flow.to.operation, self.runner.run_id)
            pool = self.write_pool()
            batch = InFlight(items, cursor, {}, unanswered=len(writes))
            self.inflight.append(batch)
            answered = partial(self.answer_of, batch)
            for item in writes:
                future = pool.submit(self.write_one, item, False)
                batch.futures[future] = item
                future.add_done_callback(answered)
            self.inflight_ids.update(i.source_id for i in items)
            limit = OUTSTANDING_WRITES_PER_SLOT * self.runner.connector(self.write_side).governor.concurrency
            while True:
                self.take_answers()
                self.commit_finished()
                if sum(b.unanswered for b in self.inflight) <= limit and len(self.inflight) <= BATCHES_IN_FLIGHT:
                    break
                self.take_answers(wait=True)
        except BaseException:
            self.abandon()
            raise

    def answer_of(self, batch: InFlight, _future: Future[None]) -> None:
        """A write of ``batch`` is answered (or cancelled): its future's callback, in the thread that wrote it."""
        self.answers.put(batch)

    def take_answers(self, *, wait: bool = False) -> None:
        """Count the writes answered since the last look (``wait``: for at least one). Each answer is
        queued by its future's callback, so counting costs the same however many writes are in flight
        (a wait on every outstanding future would scan them all at each answer)."""
        try:
            batch = self.answers.get(block=wait)
            while True:
                batch.unanswered -= 1
                batch = self.answers.get_nowait()
        except Empty:
            return

    def commit_finished(self) -> None:
        """Commit every batch whose writes are all answered, in one transaction, with the cursor of the
        leading run of committed batches (none while an earlier batch is still being written)."""
        finished = [batch for batch in self.inflight if not batch.committed and batch.done()]
        if not finished:
            return
        for batch in finished:
            for future in batch.futures:
                future.result()  # a write that stopped the run (auth, retries exhausted) raises here
        finishing = {id(batch) for batch in finished}
        leading, cursor = 0, None
        for batch in self.inflight:
            if not (batch.committed or id(batch) in finishing):
                break
            leading += 1
            cursor = batch.cursor if batch.cursor is not None else cursor
        items = [item for batch in finished for item in batch.items]
        self.await_write_backs([i for i in items if i.action in ("create", "update")])
        with signals_deferred():  # committed and marked so together: a stop never commits (and counts) a batch twice
            self.commit(items, cursor)
            for batch in finished:
                batch.committed = True
                self.inflight_ids.difference_update(item.source_id for item in batch.items)
            for _ in range(leading):
                self.inflight.popleft()

    def drain(self, *, sending_write_backs: bool = False) -> None:
        """Commit every batch in flight (before a flush that is not overlapped, and at the end of the read).

        ``sending_write_backs``: the read is over, so the write-backs owed by committed records go out
        while the last writes finish, rather than after them.
        """
        try:
            while self.inflight:
                self.take_answers()
                self.commit_finished()
                if not self.inflight:
                    break
                self.runner.stop_point()  # a stop asked from another thread lands here as a Ctrl-C would: abandon() below
                if sending_write_backs and self.outbox_ids:
                    self.send_write_backs()
                    continue
                # an uncommitted batch has an unanswered write, whose answer is queued when it comes (or
                # already is): the queue cannot miss a wake-up the way a wait on a list taken earlier could
                self.take_answers(wait=True)
        except BaseException:
            self.abandon()
            raise

    def abandon(self) -> None:
        """The run stops: no further write starts, those under way finish, and what the destination
        acknowledged (and the batches' dead letters) is committed without a cursor."""
        batches, self.inflight = [batch for batch in self.inflight if not batch.committed], deque()
        self.inflight_ids.clear()
        futures = [future for batch in batches for future in batch.futures]
        for future in futures:
            future.cancel()
        wait(futures)
        keep: list[WriteItem] = []
        for batch in batches:
            sent = {id(item) for future, item in batch.futures.items() if not future.cancelled() and future.exception() is None}
            keep += [i for i in batch.items if i.action in ("fail", "resolve") or (i.action in ("create", "update") and id(i) in sent)]
        if keep:
            self.await_write_backs([i for i in keep if i.action in ("create", "update")])
            self.commit(keep, None)

    def stop(self) -> None:
        """After the flow, whatever happened: nothing left in flight, the write threads ended."""
        if self.inflight:
            self.abandon()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def write_batches(self, writes: list[WriteItem], done: list[WriteItem]) -> None:
        """Through ``to.batch``: the paired records by their destination id through ``to.batch.update`` when
        the flow names one, then the others (all of them without it) through ``to.batch.operation``. Each
        part's acknowledged items are appended to ``done`` once it is answered, so when the second part stops
        the run (auth, a 429/5xx beyond the retries) the first is still committed."""
        batch = self.flow.to.batch
        assert batch is not None
        updates = [i for i in writes if batch.update is not None and i.action == "update"]
        paired = {id(i) for i in updates}
        others = [i for i in writes if id(i) not in paired]
        for part in (updates, others):
            if part:
                self.write_batch(part, by_id=part is updates)
                done.extend(i for i in part if i.action in ("create", "update"))

    def batch_operation(self, item: WriteItem) -> str:
        """The batch operation that carries ``item`` (see :meth:`write_batches`)."""
        batch = self.flow.to.batch
        assert batch is not None
        return batch.update if batch.update is not None and item.action == "update" else batch.operation

    def write_batch(self, writes: list[WriteItem], *, by_id: bool = False) -> None:
        """One batch call (``by_id``: ``to.batch.update``, answered record by record; the destination ids are
        already known, so ``result_id``, ``result_key``, ``error_key`` and ``result_new``, which describe the
        answers of ``to.batch.operation``, do not apply)."""
        batch = self.flow.to.batch
        assert batch is not None
        if not writes:
            return
        connector = self.runner.connector(self.write_side)
        operation = batch.update if by_id and batch.update is not None else batch.operation
        call_input = batch.update_input if by_id and batch.update_input is not None else self.flow.to.input
        where = "to.batch.update_input" if by_id and batch.update_input is not None else "to.input"
        result = connector.call(operation, {**self.batch_input(call_input, where), "records": [item.input for item in writes]})
        refused = {
            outcome["index"]
            for outcome in result.get("records", [])
            if isinstance(outcome, dict) and outcome.get("whole_chunk") and isinstance(outcome.get("index"), int)
        }
        if len(refused) > 1 and len(refused) == len(writes):
            # The API refused the whole request, typically for one bad record: send each half on its own,
            # down to single records, so only the records it really rejects are dead-lettered.
            middle = len(writes) // 2
            self.write_batch(writes[:middle], by_id=by_id)
            self.write_batch(writes[middle:], by_id=by_id)
            return
        result_key, error_key = (None, None) if by_id else (batch.result_key, batch.error_key)
        by_key: dict[str, list[WriteItem]] = {}
        for item in writes:
            by_key.setdefault(str(item.external_id), []).append(item)
        acknowledged: set[int] = set()
        # the operation's per-record outcomes (by input position) decide first; result_key and error_key
        # match what they leave open
        decided: set[int] = set()
        for outcome in result.get("records", []):
            index = outcome.get("index") if isinstance(outcome, dict) else None
            if not isinstance(index, int) or not 0 <= index < len(writes) or outcome.get("ok") is None:
                continue
            item = writes[index]
            decided.add(id(item))
            if outcome["ok"]:
                if not by_id:
                    dest = get_path(outcome.get("result"), batch.result_id)
                    item.dest_id = str(dest) if dest not in (None, "") else item.dest_id
                    self.created_or_updated(item, outcome.get("result"))
                acknowledged.add(id(item))
            else:
                reason = outcome.get("message") or outcome.get("error") or f"status {outcome.get('status')}"
                item.action, item.reason = "fail", f"record {item.source_id}: {operation} rejected it: {reason}"
        # without result_key the operation's per-record outcomes above are the only acknowledgements
        results = result.get("results", []) if result_key else []
        for entry in results:
            key = get_path(entry, result_key or "")
            for item in by_key.get(str(key), []):
                if id(item) in decided:
                    continue
                dest = get_path(entry, batch.result_id)
                item.dest_id = str(dest) if dest not in (None, "") else item.dest_id
                self.created_or_updated(item, entry)
                acknowledged.add(id(item))
        loose: list[str] = []
        for error in result.get("errors", []):
            message = str(error.get("message") or error)
            targets: list[WriteItem] = []
            if isinstance(error.get("index"), int) and 0 <= error["index"] < len(writes):
                targets = [writes[error["index"]]]
            elif error_key:
                keys = get_path(error.get("error"), error_key)
                for key in keys if isinstance(keys, list) else [keys]:
                    targets += by_key.get(str(key), [])
            if not targets:
                loose.append(message)
            for item in targets:
                if id(item) not in acknowledged and id(item) not in decided:
                    item.action, item.reason = "fail", f"record {item.source_id}: {operation} rejected it: {message}"
        for item in writes:
            if id(item) not in acknowledged and item.action != "fail":
                detail = f": {'; '.join(loose)[:500]}" if loose else ""
                item.action, item.reason = "fail", f"record {item.source_id}: {operation} did not acknowledge it{detail}"

    def batch_input(self, values: dict[str, Any], where: str) -> dict[str, Any]:
        """A batch call's input besides `records` (to.input, write_back.batch_input): the same for every call, so no record."""
        if not values:
            return {}
        context = {"source": {"stream": self.flow.from_.stream, "side": self.read_side}, "target": {"side": self.write_side}}
        return dict(self.runner.interpolator.render(values, context, f"{self.flow.name}.{where}"))

    def created_or_updated(self, item: WriteItem, result: Any) -> None:
        """What the destination says happened (``to.batch.result_new``), not what the runner intended."""
        batch = self.flow.to.batch
        if batch is None or batch.result_new is None or item.action not in ("create", "update"):
            return
        new = get_path(result, batch.result_new)
        if isinstance(new, bool):
            item.action = "create" if new else "update"

    def await_write_backs(self, done: list[WriteItem]) -> None:
        """Mark the written records whose new pairing the read side must learn (`to.write_back`).

        A record needs one when its written-side id is not the one the read side already carries, when
        it is a retry, or when a write-back for it is still owed from before (it is in the outbox).
        Marked records go into the outbox in the transaction that commits their write.
        """
        if self.flow.to.write_back is None:
            return
        for item in done:
            if item.action in ("create", "update") and item.dest_id and (
                item.dest_id != item.prior_dest or item.retry or item.source_id in self.outbox_ids
            ):
                item.write_back_pending = True

    def send_write_backs(self) -> None:
        """Drain the flow's outbox: send every write-back owed, then settle each record in one transaction.

        Called when the flow starts (what a stopped run still owed) and once its read has finished. Not
        during the read: changing records of the stream being read can move them out of its result window
        (a search filtered on the modified date) and shift the pages still to come. An entry leaves the
        outbox only in the transaction that stores the record's hash (acknowledged) or dead-letters it
        (refused); a run that stops first leaves it there for the next one.
        """
        if self.flow.to.write_back is None or self.dry_run:
            return
        entries = self.store.outbox(self.flow.name)
        for start in range(0, len(entries), 500):
            items = [
                WriteItem(
                    e.source_id, e.record, e.external_id, "update", hash=e.hash, dest_id=e.dest_id, modified=e.source_modified,
                    caused=e.caused_modified,
                )
                for e in entries[start : start + 500]
            ]
            try:
                self.write_back(items)
            except BaseException as exc:
                with self.store.batch() as tx:
                    tx.outbox_failed(self.flow.name, [i.source_id for i in items], f"{type(exc).__name__}: {exc}")
                raise
            self.commit_write_backs(items)

    def commit_write_backs(self, items: list[WriteItem]) -> None:
        with signals_deferred():
            self._commit_write_backs(items)

    def _commit_write_backs(self, items: list[WriteItem]) -> None:
        now = self.runner.clock()
        for item in items:
            if item.write_back_error:
                self.counts["failed"] += 1
                self.runner.reporter.message(f"{self.flow.name}: dead-lettered {item.write_back_error}")
        with self.store.batch() as tx:
            for item in items:
                tx.remove_outbox(self.flow.name, item.source_id)
                if item.write_back_error:
                    tx.dead_letter(self.flow.name, item.source_id, item.record, item.write_back_error)
                    continue
                tx.map_record(
                    MappedRecord(self.flow.name, item.source_id, item.dest_id, item.external_id, item.hash, now, item.caused, item.modified)
                )
                tx.resolve_dead_letter(self.flow.name, item.source_id)
            self.save_run_counts(tx)
            tx.renew_lease(self.runner.owner, self.runner.lease_seconds)
        self.outbox_ids.difference_update(i.source_id for i in items)

    def save_run_counts(self, tx: Transaction) -> None:
        """The run's counts so far, in the transaction that makes them true: a killed run keeps them."""
        if self.runner.run_id is not None:
            tx.set_run_counts(self.runner.run_id, self.runner.run_counts())

    def write_back(self, items: list[WriteItem]) -> None:
        """Send each newly paired record's written-side id back to the read side; refusals set write_back_error."""
        spec = self.flow.to.write_back
        assert spec is not None
        todo = list(items)
        if not todo:
            return
        runner = self.runner
        inputs: list[tuple[WriteItem, dict[str, Any]]] = []
        for item in todo:
            values = {
                "record": item.record,
                "source": {"id": item.source_id, "external_id": item.external_id, "stream": self.flow.from_.stream, "side": self.read_side},
                "target": {"id": item.dest_id, "side": self.write_side},
            }
            try:
                inputs.append((item, dict(runner.interpolator.render(spec.input, values, f"{self.flow.name}.to.write_back.input"))))
            except InterpolationError as exc:
                item.write_back_error = f"record {item.source_id}: to.write_back.input failed: {exc.message}"
        if not inputs:
            return
        connector = runner.connector(self.read_side)
        operation = self.read_spec.operations[spec.operation]
        try:
            if operation.kind == "batch":
                try:
                    records = [payload for _, payload in inputs]
                    result = connector.call(spec.operation, {**self.batch_input(spec.batch_input, "to.write_back.batch_input"), "records": records})
                except AuthError:
                    raise
                except (FatalHTTPError, OperationError) as exc:
                    for item, _ in inputs:
                        item.write_back_error = f"record {item.source_id}: write-back {spec.operation} was rejected: {exc.message}"
                    return
                outcomes = {o.get("index"): o for o in result.get("records", []) if isinstance(o, dict)}
                for index, (item, _) in enumerate(inputs):
                    outcome = outcomes.get(index) or {}
                    if outcome.get("ok") is not True:
                        reason = outcome.get("message") or "the answer did not acknowledge it"
                        item.write_back_error = f"record {item.source_id}: write-back {spec.operation} failed: {reason}"
            else:
                for item, payload in inputs:
                    try:
                        connector.call(spec.operation, payload)
                    except AuthError:
                        raise
                    except (FatalHTTPError, OperationError) as exc:
                        item.write_back_error = f"record {item.source_id}: write-back {spec.operation} was rejected: {exc.message}"
        except BaseException as exc:
            # the run stops (429/5xx beyond the retries, auth): what was written is committed, marked for a retry
            for item, _ in inputs:
                item.write_back_error = item.write_back_error or f"record {item.source_id}: write-back {spec.operation} did not complete: {exc}"
            raise
