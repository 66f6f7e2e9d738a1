"""Temporal as the engine (issue 12 §2): a connection run through a `connector-core worker` process ends
like `run`; a second start of a running connection is joined or rejected, never a second writer; refused
credentials fail the workflow once. Against the HubSpot and NetSuite emulators and a Temporal dev server
started offline (temporal_support.py); how an activity's run ends is checked without a server first.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from finance_support import Finance, assert_customers_exact_both_ways, hubspot, netsuite_ns  # noqa: F401
from temporal_support import CLI, Worker, call, rename, run_cli, task_queue

from connector_core.errors import AuthError, RetriableHTTPError, SpecError
from connector_core.plugins import Registry
from connector_core.sync.records import RunResult
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.netsuite.emulator import NetSuiteEmulator

TAG = ":temporal:run-1"


def finance(tmp_path: Path, crm: HubSpotEmulator, erp: NetSuiteEmulator, registry: Registry) -> tuple[Finance, set[str], set[str]]:
    """customers_both_ways.yaml under a name of this test's own, with the records each side starts with."""
    sync = Finance("customers_both_ways.yaml", tmp_path, crm, erp, registry)
    rename(sync.path, f"customers-{uuid.uuid4().hex[:8]}")
    crm_customers = {c["id"] for c in sync.companies() if c.get("lifecyclestage") == "customer"}
    seeded_ns = {str(r["id"]) for r in sync.suiteql("SELECT id FROM customer WHERE isinactive = 'F'")}
    return sync, crm_customers, seeded_ns


# -- how a run ends, as the activity reports it (no server) -------------------------------------------


@pytest.mark.usefixtures("temporalio_sdk")
class TestSettle:
    def settle(self, result: RunResult, holder: str | None = None) -> Any:
        from connector_core.sync.temporal.activities import settle

        return settle(result, attempt=2, worker="1@host", run_tag=TAG, holder=holder)

    def raised(self, result: RunResult, holder: str | None = None) -> Any:
        from temporalio.exceptions import ApplicationError

        with pytest.raises(ApplicationError) as caught:
            self.settle(result, holder)
        return caught.value

    def test_finished_runs_are_outcomes_with_plain_counts(self) -> None:
        from collections import Counter

        for status in ("ok", "failed_records", "breaker"):
            outcome = self.settle(RunResult("c", status, False, {"f": Counter(read=3)}))
            assert (outcome.status, outcome.counts, outcome.attempt, outcome.worker) == (status, {"f": {"read": 3}}, 2, "1@host")
            assert type(outcome.counts["f"]) is dict  # a Counter would not survive the data converter's asdict()

    def test_a_lease_held_elsewhere_is_skipped(self) -> None:
        said = "skipped: running elsewhere: connection 'c' is being run by h:1:ab; not started"
        outcome = self.settle(RunResult("c", "locked", False, errors=[said]), holder="h:1:ab")
        assert (outcome.status, outcome.errors) == ("skipped", [said])

    def test_a_lease_held_by_an_earlier_attempt_of_the_run_is_retried(self) -> None:
        error = self.raised(RunResult("c", "locked", False), holder=f"h:1:ab{TAG}")
        assert error.type == "EarlierAttemptHoldsLease" and not error.non_retryable

    def test_refused_credentials_are_not_retried_other_api_failures_are(self) -> None:
        refused = self.raised(RunResult("c", "api_error", False, errors=["HubSpot refused the credentials"], cause=AuthError("refused", status=401)))
        assert (refused.type, refused.non_retryable, refused.message) == ("AuthError", True, "HubSpot refused the credentials")
        assert refused.details[0]["status"] == "api_error"
        failing = self.raised(RunResult("c", "api_error", False, errors=["503"], cause=RetriableHTTPError("503", status=503)))
        assert (failing.type, failing.non_retryable) == ("RetriableHTTPError", False)

    def test_a_file_to_fix_is_not_retried_a_lost_lease_is(self) -> None:
        spec = self.raised(RunResult("c", "error", False, errors=["bad"], cause=SpecError("bad")))
        assert (spec.type, spec.non_retryable) == ("SpecError", True)
        lost = self.raised(RunResult("c", "lease_lost", False, errors=["lost"]))
        assert (lost.type, lost.non_retryable) == ("LeaseLostError", False)

    def test_a_stopped_run_is_retried_unless_the_workflow_was_cancelled(self) -> None:
        from temporalio.exceptions import CancelledError

        from connector_core.sync.temporal.activities import CANCELLED, WORKER_STOPPED

        stopped = self.raised(RunResult("c", "interrupted", False, stopped_by=WORKER_STOPPED))
        assert (stopped.type, stopped.non_retryable) == ("Stopped", False)
        with pytest.raises(CancelledError):
            self.settle(RunResult("c", "interrupted", False, stopped_by=CANCELLED))


# -- through a worker -------------------------------------------------------------------------------


def test_a_run_through_a_worker_ends_like_run(
    tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry, temporal: str  # noqa: F811
) -> None:
    sync, crm_customers, seeded_ns = finance(tmp_path, hubspot, netsuite_ns, registry)
    queue = task_queue()
    metrics = tmp_path / "worker.prom"
    worker = Worker(sync.path.parent, temporal, queue, extra=("--metrics-file", str(metrics)))
    try:
        worker.wait_serving()
        assert not metrics.exists()  # written as each run ends, not before
        done = run_cli("run", str(sync.path), "--via", "temporal", "--temporal", temporal, "--task-queue", queue)
        published = metrics.read_text()  # while the worker still serves
    finally:
        assert worker.stop() == 0, worker.output()
    name = sync.load().name
    assert f'connector_core_up{{connection="{name}"}} 1.0' in published
    assert f'connector_core_last_run_result{{connection="{name}",result="ok"}} 1.0' in published
    created = f'connector_core_last_run_records_written{{action="created",connection="{name}",flow="companies-to-customers"}} {float(len(crm_customers))}'
    assert created in published, published
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{name}: started: workflow sync/{name} on task queue {queue}" in done.stderr
    assert f"ran on worker {worker.identity}, attempt 1" in done.stderr
    assert f"connection {name}: ok in " in done.stderr and "companies-to-customers: read" in done.stderr
    assert f"{name}: flow companies-to-customers: started" in worker.output()  # the worker's own lines name the connection

    assert_customers_exact_both_ways(sync, crm_customers, seeded_ns, 0)
    with sync.store() as store:
        (only,) = store.runs()
        assert only.status == "ok" and only.counts["companies-to-customers"]["created"] == len(crm_customers)
        assert store.lease_holder() is None and store.outbox() == []
    again = run_cli("run", str(sync.path))  # the same state: `run` here finds everything written
    assert again.returncode == 0 and "created" not in again.stderr, again.stderr


def test_a_second_start_of_a_running_connection_is_joined_or_rejected_never_a_second_writer(
    tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry, temporal: str  # noqa: F811
) -> None:
    from temporalio.exceptions import WorkflowAlreadyStartedError

    from connector_core.sync.temporal.shared import WORKFLOW, SyncOutcome, SyncRequest, workflow_id

    sync, crm_customers, seeded_ns = finance(tmp_path, hubspot, netsuite_ns, registry)
    name = sync.load().name
    # every HubSpot request of the run takes 3 s until this is removed: it outlasts the checks below even on
    # a loaded machine (at 0.3 s the first run once finished before the duplicate workflow started)
    slow = hubspot.faults.add("latency", seconds=3.0, count=None, path_prefix="/crm/")
    queue = task_queue()
    worker = Worker(sync.path.parent, temporal, queue, max_concurrent=3)
    via = [CLI, "run", str(sync.path), "--via", "temporal", "--temporal", temporal, "--task-queue", queue]
    try:
        worker.wait_serving()
        first = subprocess.Popen(via, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sync.store() as store:
                holder = store.lease_holder()
            if holder is not None:
                break
            time.sleep(0.1)
        assert holder is not None and ":temporal:" in holder[0], first.stderr.read() if first.poll() is not None else "no lease"

        async def second_start(client: Any) -> None:
            await client.start_workflow(WORKFLOW, SyncRequest(name), id=workflow_id(name), task_queue=queue)

        with pytest.raises(WorkflowAlreadyStartedError):  # Temporal: one open workflow per ID
            call(temporal, second_start)
        joined = subprocess.Popen(via, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        here = run_cli("run", str(sync.path))  # cron's `run` on the same state meets the lease
        assert here.returncode == 0 and "skipped: running elsewhere" in here.stderr and ":temporal:" in here.stderr, here.stderr

        async def duplicate(client: Any) -> SyncOutcome:  # as a duplicated delivery would: another workflow, the same connection
            handle = await client.start_workflow(WORKFLOW, SyncRequest(name), id=f"{workflow_id(name)}-duplicate", task_queue=queue, result_type=SyncOutcome)
            outcome: SyncOutcome = await handle.result()
            return outcome

        copy = call(temporal, duplicate)
        assert copy.status == "skipped" and copy.errors[0].startswith("skipped: running elsewhere"), copy
        hubspot.faults.remove(slow.id)
        first_err = first.communicate(timeout=120)[1]
        joined_err = joined.communicate(timeout=120)[1]
    finally:
        hubspot.faults.clear()
        assert worker.stop() == 0, worker.output()
    assert first.returncode == 0, first_err[-3000:]
    assert joined.returncode == 0 and f"{name}: joined the run under way: workflow sync/{name}" in joined_err, joined_err[-3000:]
    assert first_err.split("ran on worker")[1] == joined_err.split("ran on worker")[1]  # the same run, the same summary

    assert_customers_exact_both_ways(sync, crm_customers, seeded_ns, 0)
    with sync.store() as store:
        assert [run.status for run in store.runs()] == ["ok"]  # one run wrote; every other start met it


def test_refused_credentials_fail_the_workflow_once_with_the_message(
    tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry, temporal: str  # noqa: F811
) -> None:
    import json

    from temporalio.api.enums.v1 import EventType
    from temporalio.client import WorkflowExecutionStatus

    from connector_core.sync.temporal.shared import workflow_id

    sync, _, _ = finance(tmp_path, hubspot, netsuite_ns, registry)
    name = sync.load().name
    config = sync.path.parent / "config" / "hubspot.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "access_token": "pat-na1-revoked"}))
    queue = task_queue()
    worker = Worker(sync.path.parent, temporal, queue)
    try:
        worker.wait_serving()
        done = run_cli("run", str(sync.path), "--via", "temporal", "--temporal", temporal, "--task-queue", queue)
    finally:
        assert worker.stop() == 0, worker.output()
    assert done.returncode == 3, done.stderr[-3000:]  # as `run` exits when an API refuses the credentials
    assert "HubSpot refused the credentials" in done.stderr and "the workflow failed (AuthError)" in done.stderr, done.stderr[-3000:]

    async def history(client: Any) -> tuple[Any, list[Any]]:
        handle = client.get_workflow_handle(workflow_id(name))
        return (await handle.describe()).status, [event async for event in handle.fetch_history_events()]

    status, events = call(temporal, history)
    assert status == WorkflowExecutionStatus.FAILED
    started = [e.activity_task_started_event_attributes for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    failed = [e.activity_task_failed_event_attributes for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED]
    assert [s.attempt for s in started] == [1] and len(failed) == 1  # one attempt: not retried
    info = failed[0].failure.application_failure_info
    assert (info.type, info.non_retryable) == ("AuthError", True)
    assert "HubSpot refused the credentials" in failed[0].failure.message


def wait_for_lease(sync: Finance, timeout: float = 30) -> str:
    """The owner of the connection's lease once a run holds it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sync.store() as store:
            holder = store.lease_holder()
        if holder is not None:
            return holder[0]
        time.sleep(0.1)
    raise AssertionError(f"no run took the lease in {timeout}s")


@pytest.fixture
def big_hubspot() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(HubSpotSettings(companies=800, contacts=0, deals=0, rate_limit_per_10s=100_000)) as emulator:
        yield emulator


def test_cancelling_the_workflow_stops_the_run_at_a_safe_point(
    tmp_path: Path, big_hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry, temporal: str  # noqa: F811
) -> None:
    from temporalio.client import WorkflowFailureError
    from temporalio.exceptions import CancelledError

    from connector_core.sync.temporal.shared import WORKFLOW, SyncRequest, workflow_id

    sync, crm_customers, seeded_ns = finance(tmp_path, big_hubspot, netsuite_ns, registry)
    name = sync.load().name
    # every page read takes a second: the run reads for longer than Temporal takes to pass a cancellation on,
    # and a stop takes effect at the next record read
    big_hubspot.faults.add("latency", seconds=1.0, count=None, path_prefix="/crm/v3/objects/companies/search")
    queue = task_queue()
    worker = Worker(sync.path.parent, temporal, queue)
    try:
        worker.wait_serving()
        call(temporal, lambda client: client.start_workflow(WORKFLOW, SyncRequest(name, heartbeat_timeout=5), id=workflow_id(name), task_queue=queue))
        wait_for_lease(sync)

        async def cancel(client: Any) -> BaseException:
            handle = client.get_workflow_handle(workflow_id(name))
            await handle.cancel()
            with pytest.raises(WorkflowFailureError) as failed:
                await handle.result()
            return failed.value.cause

        cause = call(temporal, cancel)
    finally:
        big_hubspot.faults.clear()
        assert worker.stop() == 0, worker.output()
    assert isinstance(cause, CancelledError), cause
    with sync.store() as store:
        (stopped,) = store.runs()
        assert stopped.status == "interrupted" and store.lease_holder() is None  # stopped and logged before the workflow ended
    assert run_cli("run", str(sync.path)).returncode == 0  # and a run resumes it
    assert_customers_exact_both_ways(sync, crm_customers, seeded_ns, 0)


def test_a_stopped_worker_hands_its_run_to_another(
    tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry, temporal: str  # noqa: F811
) -> None:
    from connector_core.sync.temporal.client import progress
    from connector_core.sync.temporal.shared import WORKFLOW, SyncOutcome, SyncRequest, workflow_id

    sync, crm_customers, seeded_ns = finance(tmp_path, hubspot, netsuite_ns, registry)
    name = sync.load().name
    slow = hubspot.faults.add("latency", seconds=0.3, count=None, path_prefix="/crm/")
    queue = task_queue()
    workers = [Worker(sync.path.parent, temporal, queue, log=tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
        for worker in workers:
            worker.wait_serving()
        request = SyncRequest(name, heartbeat_timeout=5, retry_initial=0.5)
        call(temporal, lambda client: client.start_workflow(WORKFLOW, request, id=workflow_id(name), task_queue=queue))
        wait_for_lease(sync)
        running = call(temporal, lambda client: progress(client, client.get_workflow_handle(workflow_id(name))))
        first = next(worker for worker in workers if worker.identity == running.worker)
        assert first.stop() == 0, first.output()  # SIGTERM: the run stops at a safe point, the worker exits
        assert "stopped at a safe point (worker stopped)" in first.output() or "worker: stopped" in first.output()
        hubspot.faults.remove(slow.id)

        async def result(client: Any) -> SyncOutcome:
            outcome: SyncOutcome = await client.get_workflow_handle(workflow_id(name), result_type=SyncOutcome).result()
            return outcome

        outcome = call(temporal, result)
    finally:
        hubspot.faults.clear()
        for worker in workers:
            worker.stop()
    other = next(worker for worker in workers if worker is not first)
    assert (outcome.status, outcome.attempt, outcome.worker) == ("ok", 2, other.identity), outcome
    with sync.store() as store:
        assert [run.status for run in store.runs()] == ["ok", "interrupted"]
    assert_customers_exact_both_ways(sync, crm_customers, seeded_ns, 0)
