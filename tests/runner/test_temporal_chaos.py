"""The fleet's kill test (issue 12 §2): 3 `connector-core worker` processes, 6 connections against the
emulators (one long: its emulators answer slowly), and SIGKILL to the process group of the worker running
the long one, in the middle of its first flow, once batches of it are committed. Its run must resume on another worker
within the heartbeat timeout (plus the retry's first wait), from its last checkpoint; every connection must end exact on both
sides: no duplicate, nothing missing, every write-back present. A second start of the running connection
is rejected meanwhile.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml
from finance_support import Finance, assert_customers_exact_both_ways
from temporal_support import Worker, call, task_queue

from connector_core.plugins import Registry
from connector_core.sync.store import open_store
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

pytestmark = pytest.mark.slow

CONNECTIONS, WORKERS, SLOTS = 6, 3, 2
HEARTBEAT, RETRY = 5.0, 1.0
LONG_COMPANIES, LATENCY = 300, 0.4  # about 12 s alone on an idle 2-core machine
TO_NETSUITE = "companies-to-customers"
KILL_AFTER = 30  # records of the long run's first flow committed (of about 109)


def fleet_file(sync: Finance, fleet: Path, name: str) -> Path:
    """The connection of ``sync`` as a file of the fleet's directory, named ``name``, its configs where
    its own copy put them (absolute paths), its state in the fleet's `.state`."""
    data = yaml.safe_load(sync.path.read_text(encoding="utf-8"))
    data["name"] = name
    for side in ("source", "destination"):
        data[side]["config"] = str((sync.path.parent / data[side]["config"]).resolve())
    path = fleet / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    sync.path = path
    return path


def committed(sync: Finance, flow: str) -> int:
    """The flow's records in the ID map: committed with their batch (read-only: a run holds no lock on reads)."""
    loaded = sync.load()
    location = loaded.state_location()
    if not isinstance(location, Path):  # PostgreSQL: a read of its own
        with open_store(location, loaded.name) as store:
            return len(store.mapped_rows(flow))
    if not location.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{location}?mode=ro", uri=True, timeout=0.1) as db:
            return int(db.execute("SELECT COUNT(*) FROM id_map WHERE connection = ? AND flow = ?", (loaded.name, flow)).fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_workers_run_resumes_on_another_worker_exactly(
    tmp_path: Path, registry: Registry, temporal: str, backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from temporalio.exceptions import WorkflowAlreadyStartedError

    if backend == "postgresql":  # the 6 connections' state in one database, which the workers share
        monkeypatch.setenv("CONNECTOR_CORE_STATE_URL", request.getfixturevalue("postgres_url"))

    from connector_core.sync.temporal.client import progress
    from connector_core.sync.temporal.shared import WORKFLOW, SyncOutcome, SyncRequest, workflow_id

    tag = uuid.uuid4().hex[:6]
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    queue = task_queue()
    with ExitStack() as stack:
        syncs: list[Finance] = []
        expected: list[tuple[set[str], set[str]]] = []
        for index in range(CONNECTIONS):
            long = index == 0
            hubspot = stack.enter_context(HubSpotEmulator(HubSpotSettings(
                companies=LONG_COMPANIES if long else 30, contacts=0, deals=0, rate_limit_per_10s=100_000,
            )))
            netsuite = stack.enter_context(NetSuiteEmulator(EmulatorSettings(customers=50 if long else 20, items=3, sales_orders=0, invoices=0)))
            sync = Finance("customers_both_ways.yaml", tmp_path / f"c{index}", hubspot, netsuite, registry)
            fleet_file(sync, fleet, f"{'long' if long else 'short'}-{index}-{tag}")
            expected.append((
                {c["id"] for c in sync.companies() if c.get("lifecyclestage") == "customer"},
                {str(r["id"]) for r in sync.suiteql("SELECT id FROM customer WHERE isinactive = 'F'")},
            ))
            if long:
                hubspot.faults.add("latency", seconds=LATENCY, count=None, path_prefix="/crm/")
                netsuite.faults.add("latency", seconds=LATENCY, count=None, path_prefix="/services/rest/record")
            syncs.append(sync)
        long_sync, long_name = syncs[0], syncs[0].load().name
        workers = [Worker(fleet, temporal, queue, max_concurrent=SLOTS, log=tmp_path / f"worker-{n}.log") for n in range(WORKERS)]
        stack.callback(lambda: [worker.kill() for worker in workers])
        for worker in workers:
            worker.wait_serving()

        def request(sync: Finance) -> SyncRequest:
            return SyncRequest(sync.load().name, heartbeat_timeout=HEARTBEAT, retry_initial=RETRY, retry_maximum=2 * RETRY)

        async def start(client: Any) -> None:
            for sync in syncs:  # the long one first
                await client.start_workflow(WORKFLOW, request(sync), id=workflow_id(sync.load().name), task_queue=queue)

        started = time.monotonic()
        call(temporal, start)

        async def long_progress(client: Any) -> Any:
            return await progress(client, client.get_workflow_handle(workflow_id(long_name)))

        seen = None
        while seen is None or not seen.worker:  # the activity's first heartbeat names its worker at once
            assert time.monotonic() < started + 30, "the long run did not start in 30 s"
            seen = call(temporal, long_progress)
            time.sleep(0.1)
        victim = next(worker for worker in workers if worker.identity == seen.worker)
        with pytest.raises(WorkflowAlreadyStartedError):  # a manual second start of the running connection
            call(temporal, lambda client: client.start_workflow(WORKFLOW, request(long_sync), id=workflow_id(long_name), task_queue=queue))
        while committed(long_sync, TO_NETSUITE) < KILL_AFTER:  # mid-flow, batches committed
            assert time.monotonic() < started + 60, "the long run committed nothing in 60 s"
            time.sleep(0.05)
        victim.kill()
        killed_at = time.time()
        time.sleep(LATENCY + 0.5)  # requests the killed worker had sent land on the emulator
        written_before = long_sync.ns_writes()

        async def results(client: Any) -> list[SyncOutcome]:
            handles = [client.get_workflow_handle(workflow_id(sync.load().name), result_type=SyncOutcome) for sync in syncs]
            return list(await asyncio.wait_for(asyncio.gather(*(handle.result() for handle in handles)), 150))

        outcomes = call(temporal, results)
        took = time.monotonic() - started
        survivors = [worker for worker in workers if worker is not victim]
        for worker in survivors:
            assert worker.stop() == 0, worker.output()

        assert [o.status for o in outcomes] == ["ok"] * CONNECTIONS, [(o.connection, o.status, o.errors) for o in outcomes]
        long_outcome = outcomes[0]
        assert long_outcome.attempt >= 2 and long_outcome.worker in {w.identity for w in survivors}, long_outcome
        with long_sync.store() as store:
            resumed, killed = store.runs(2)
            assert store.lease_holder() is None
        assert (killed.status, resumed.status) == ("interrupted", "ok")  # the killed attempt's run, marked when the next one took the lease
        waited = resumed.started_at - killed_at
        print(f"\nchaos: {CONNECTIONS} connections on {WORKERS} workers in {took:.1f} s; the long run was killed on {victim.identity} "
              f"after {killed.counts}, resumed on {long_outcome.worker} {waited:.1f} s later (heartbeat timeout {HEARTBEAT:.0f} s, first retry wait {RETRY:.0f} s)")
        assert waited <= HEARTBEAT + RETRY + 3, f"resumed {waited:.1f} s after the kill"
        # from its last checkpoint: what the killed run committed was not written again (at most the records
        # it had in flight, uncommitted, are sent once more)
        first = killed.counts.get(TO_NETSUITE, {})
        assert KILL_AFTER <= first.get("created", 0) < len(expected[0][0]), first
        assert long_sync.ns_writes() - written_before <= len(expected[0][0]) - first["created"], (first, resumed.counts)
        if backend == "postgresql":
            assert not (fleet / ".state").exists()  # every run's state went to the shared database
        for sync, (crm_customers, seeded_ns) in zip(syncs, expected, strict=True):
            assert_customers_exact_both_ways(sync, crm_customers, seeded_ns, 0)
            with sync.store() as store:
                assert store.outbox() == [] and store.dead_letters() == [] and store.pending(TO_NETSUITE) == {}
