"""A worker killed on one host: its run resumes on a worker of another host once the lease expires
(issue 12: the cross-host path of the lease). Two `connector-core worker` processes, each under a host
name of its own (a UTS namespace: ``temporal_support.other_host_prefix``), share one PostgreSQL state;
the one that runs the connection is killed with SIGKILL once batches are committed. Unlike a worker on
the same host, the other cannot see that the killed process is gone, so its lease stands until it
expires (the worker lease: 4 heartbeat timeouts, at least 30 s): meanwhile a run started from any host
is skipped ("running elsewhere") and writes nothing, and Temporal's retries on the other host wait.
Then the run resumes there, and both sides end exact.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from finance_support import Finance, assert_customers_exact_both_ways, hubspot, netsuite_ns  # noqa: F401
from temporal_support import Worker, call, rename, require_other_hosts, run_cli, task_queue

from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator
from connectors.netsuite.emulator import NetSuiteEmulator

pytestmark = pytest.mark.slow

HEARTBEAT = 5.0
FLOW = "companies-to-customers"


def wait_until(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s")


@pytest.mark.timeout(400)  # about 70 s alone: the dead host's lease must expire (30 s)
def test_a_run_killed_on_one_host_resumes_on_another_once_its_lease_expires(
    tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry, temporal: str,  # noqa: F811
    postgres_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from connector_core.sync.temporal.activities import worker_lease_seconds
    from connector_core.sync.temporal.shared import WORKFLOW, SyncOutcome, SyncRequest, workflow_id

    require_other_hosts()
    monkeypatch.setenv("CONNECTOR_CORE_STATE_URL", postgres_url)  # the workers inherit it: one database for both hosts
    sync = Finance("customers_both_ways.yaml", tmp_path, hubspot, netsuite_ns, registry)
    rename(sync.path, "customers-hosts")
    crm_customers = {c["id"] for c in sync.companies() if c.get("lifecyclestage") == "customer"}
    seeded_ns = {str(r["id"]) for r in sync.suiteql("SELECT id FROM customer WHERE isinactive = 'F'")}
    name = sync.load().name
    slow = hubspot.faults.add("latency", seconds=0.3, count=None, path_prefix="/crm/")
    slow_writes = netsuite_ns.faults.add("latency", seconds=1.0, count=None, path_prefix="/services/rest/record")
    queue = task_queue()
    workers = {host: Worker(sync.path.parent, temporal, queue, host=host, log=tmp_path / f"worker-{host}.log") for host in ("host-a", "host-b")}
    try:
        for worker in workers.values():
            worker.wait_serving()
        request = SyncRequest(name, heartbeat_timeout=HEARTBEAT, retry_initial=0.5)
        call(temporal, lambda client: client.start_workflow(WORKFLOW, request, id=workflow_id(name), task_queue=queue))

        def committed() -> int:
            with sync.store() as store:
                return len(store.mapped_rows(FLOW))

        wait_until(lambda: committed() >= 3, "the first run committed records")
        with sync.store() as store:
            holder = store.lease_holder()
        assert holder is not None, "the run ended before the kill: make it slower"
        killed = workers[holder[0].split(":", 1)[0]]
        survivor = next(worker for worker in workers.values() if worker is not killed)
        killed.kill()  # SIGKILL to its worker's process group: no stop, no release of the lease
        killed_at = time.monotonic()
        before = committed()
        hubspot.faults.remove(slow.id)
        netsuite_ns.faults.remove(slow_writes.id)

        elsewhere = run_cli("run", str(sync.path))  # from this host: the killed host's lease is not one it can see is dead
        assert elsewhere.returncode == 0 and "skipped: running elsewhere" in elsewhere.stderr, elsewhere.stderr
        assert committed() == before  # nobody wrote while the killed run's lease stood

        async def result(client: Any) -> SyncOutcome:
            outcome: SyncOutcome = await client.get_workflow_handle(workflow_id(name), result_type=SyncOutcome).result()
            return outcome

        outcome = call(temporal, result)
        resumed_after = time.monotonic() - killed_at
    finally:
        hubspot.faults.clear()
        netsuite_ns.faults.clear()
        for worker in workers.values():
            worker.stop()

    assert (outcome.status, outcome.worker) == ("ok", survivor.identity), (outcome, survivor.output())
    assert outcome.attempt > 2  # attempt 2 met the killed run's lease, and was retried until it expired
    assert resumed_after >= worker_lease_seconds(HEARTBEAT) - HEARTBEAT  # it waited for the lease, not only for the heartbeat timeout
    with sync.store() as store:
        statuses = [run.status for run in store.runs()]
        assert statuses[0] == "ok" and "running" not in statuses, statuses
        assert store.lease_holder() is None
    assert_customers_exact_both_ways(sync, crm_customers, seeded_ns, 0)
