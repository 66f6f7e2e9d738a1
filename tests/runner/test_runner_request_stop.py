"""`Runner.request_stop`: a run outside the main thread (a Temporal worker's), asked to stop from another
thread, stops at the next record it reads or while it waits for its writes, as Ctrl-C stops one in the
main thread: what the destination
acknowledged is committed, the run is logged `interrupted`, and the next run finishes the rest."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from runner_support import Collect, Sync

from connector_core.sync.runner import Runner, RunResult
from connector_core.sync.store import SQLiteStateStore


class StopAfterFirstCommit(Collect):
    """Asks its runner to stop when the first batch is committed, from a thread of its own."""

    runner: Runner

    def progress(self, flow: str, counts: Mapping[str, int]) -> None:
        if counts.get("created") and self.runner._stop is None:
            asker = threading.Thread(target=self.runner.request_stop, args=("worker stopped",))
            asker.start()
            asker.join()


def test_a_stop_asked_from_another_thread_lands_at_a_safe_point(sync: Sync) -> None:
    data = sync.shop.api.data
    with data.lock:  # 200 customers: several commits of 25
        for i in range(41, 201):
            data.customers[i] = {**data.customers[1], "id": i, "name": f"Customer {i:05d}", "email": f"customer{i}@example.test"}
        data.next_id = 201
    sync.write()
    loaded = sync.load()
    reporter = StopAfterFirstCommit()
    results: list[RunResult] = []
    with SQLiteStateStore(loaded.state_path(), loaded.name) as store:
        reporter.runner = Runner(loaded, store, sync.registry, reporter=reporter)
        runner_thread = threading.Thread(target=lambda: results.append(reporter.runner.run()))  # not the main thread: no signals there
        runner_thread.start()
        runner_thread.join(60)
        (stopped,) = results
        assert (stopped.status, stopped.stopped_by) == ("interrupted", "worker stopped")
        created = stopped.counts["customers"]["created"]
        assert 0 < created < 200 and store.lease_holder() is None
        (logged,) = store.runs()
        assert logged.status == "interrupted" and logged.counts["customers"]["created"] == created  # committed with their batches
    assert sync.ns_count() == created  # writes under way finished and were committed; none was left unrecorded
    written = sync.ns_writes()
    rest = sync.run()
    assert rest.status == "ok" and sync.ns_count() == 200
    assert sync.ns_writes() - written == 200 - created  # nothing the stopped run committed is written again
