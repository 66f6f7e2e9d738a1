"""Interrupted runs: SIGKILL mid-run, creates that landed without an acknowledgement, overlapping run-due."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from runner_support import Sync

from connector_core.engine.connector import Connector

CLI = [str(Path(sys.executable).parent / "connector-core")]


def cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@pytest.fixture
def big_shop(sync: Sync) -> Sync:
    """200 shop customers instead of 40."""
    data = sync.shop.api.data
    with data.lock:
        for i in range(41, 201):
            data.customers[i] = {**data.customers[1], "id": i, "name": f"Customer {i:05d}", "email": f"customer{i}@example.test"}
        data.next_id = 201
    return sync


def settle(sync: Sync) -> None:
    """Wait until the NetSuite emulator has served every request it received (none in flight, the
    count steady), so what it counts from now on is the rerun's."""
    previous = -1

    def steady() -> bool:
        nonlocal previous
        stats = sync.netsuite.stats(recent=0)
        total, previous = previous, stats["total"]
        if stats["in_flight"] or total != previous:
            time.sleep(0.05)
            return False
        return True

    wait_for(steady)


@pytest.mark.parametrize("killed_after", [3, 80, 170], ids=lambda n: f"killed-after-{n}-writes")
def test_a_run_killed_mid_way_resumes_without_duplicates_or_gaps(big_shop: Sync, killed_after: int) -> None:
    sync = big_shop
    path = sync.write()
    latency = sync.netsuite.faults.add("latency", seconds=0.02, path_prefix="/services/rest/record")
    child = cli("run", str(path), cwd=sync.dir)
    try:
        wait_for(lambda: sync.ns_writes() >= killed_after or child.poll() is not None)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    sync.netsuite.faults.remove(latency.id)
    settle(sync)  # requests the killed run sent are counted when the emulator has served them
    landed = sync.ns_count()
    with sync.store() as store:
        committed = len(store.mapped_rows("customers"))
        assert store.cursor("customers") is None  # the only checkpoint comes at the end of the stream
        assert committed % 25 == 0 and 0 <= committed <= landed < 200
    writes_before = sync.ns_writes()

    rerun = cli("run", str(path), cwd=sync.dir)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert sync.ns_count() == 200
    rows = sync.netsuite.suiteql("SELECT externalid, COUNT(*) AS n FROM customer WHERE externalid LIKE 'shop-%' GROUP BY externalid HAVING COUNT(*) > 1")
    assert rows == []
    assert sync.ns_writes() - writes_before == 200 - committed  # what was committed is not written again
    with sync.store() as store:
        statuses = [r.status for r in store.runs()]
        assert statuses == ["ok", "interrupted"]
        assert store.pending("customers") == {} and len(store.mapped_rows("customers")) == 200
    third = cli("run", str(path), cwd=sync.dir)
    third.communicate(timeout=120)
    assert third.returncode == 0 and sync.ns_writes() - writes_before == 200 - committed


def back_to_shop(lookup: bool) -> dict[str, Any]:
    flow: dict[str, Any] = {
        "name": "ns-customers",
        "from": {"side": "destination", "stream": "customers"},
        "to": {"side": "source", "operation": "create_customer", "update": "update_customer", "id": "id"},
        "match": {"external_id": "ns-{{ record.id }}@sync.test"},
        "mapping": {"name": "entityid", "email": {"template": "{{ source.external_id }}"}},
    }
    if lookup:
        flow["match"]["lookup"] = {"stream": "customers", "key": "email", "id": "id"}
    return flow


class Crash(BaseException):
    """Stands for the process dying right after a request reached the API."""


def crash_after_creates(monkeypatch: pytest.MonkeyPatch, landed: int) -> None:
    real = Connector.call
    calls = {"n": 0}

    def call(self: Connector, operation: str, payload: Any = None) -> Any:
        result = real(self, operation, payload)
        if operation == "create_customer":
            calls["n"] += 1
            if calls["n"] == landed:
                raise Crash
        return result

    monkeypatch.setattr(Connector, "call", call)


@pytest.mark.parametrize("lookup", [False, True])
def test_a_create_that_landed_without_an_acknowledgement_is_never_repeated(sync: Sync, monkeypatch: pytest.MonkeyPatch, lookup: bool) -> None:
    every_subsidiary = {k: v for k, v in sync.ns_config().items() if k != "subsidiary_id"}
    sync.write([back_to_shop(lookup)], direction="netsuite->crm", destination={"connector": "netsuite", "config": every_subsidiary})
    shop = sync.shop.api.data.customers
    crash_after_creates(monkeypatch, landed=2)
    with pytest.raises(Crash):
        sync.run()
    monkeypatch.undo()
    assert len(shop) == 42  # two creates landed; the second was never acknowledged
    with sync.store() as store:
        assert list(store.pending("ns-customers")) == ["2"]
        assert [r.status for r in store.runs()] == ["interrupted"]
    run = sync.run()
    emails = sorted(c["email"] for c in shop.values() if c["email"].startswith("ns-"))
    assert emails == ["ns-1@sync.test", "ns-2@sync.test", "ns-3@sync.test"]  # no duplicate of ns-2
    with sync.store() as store:
        assert store.pending("ns-customers") == {}
        letters = store.dead_letters()
    if lookup:
        assert run.status == "ok" and run.counts["ns-customers"] == {"read": 3, "unchanged": 1, "updated": 1, "created": 1}
        assert letters == []
    else:
        assert run.status == "failed_records"
        assert [d.source_id for d in letters] == ["2"]
        assert "an interrupted run sent a create for it that was never acknowledged" in letters[0].reason


def test_overlapping_run_due_invocations_run_a_connection_once(sync: Sync) -> None:
    syncs = sync.dir / "syncs"
    syncs.mkdir()
    sync.write(name="syncs/shop.yaml")
    sync.netsuite.faults.add("latency", seconds=0.03, path_prefix="/services/rest/record")
    children = [cli("run-due", str(syncs), cwd=sync.dir) for _ in range(3)]
    outputs = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], outputs
    assert sync.ns_count() == 40 and sync.ns_writes() == 40
    with sync.store(syncs / "shop.yaml") as store:
        assert [r.status for r in store.runs()] == ["ok"]
    skipped = [err for _, err in outputs if "not due" in err or "is being run by" in err]
    assert len(skipped) == 2


@pytest.mark.parametrize(("signum", "name", "code"), [(signal.SIGTERM, "SIGTERM", 143), (signal.SIGINT, "Ctrl-C", 130)], ids=["SIGTERM", "Ctrl-C"])
def test_a_stop_signal_commits_what_was_acknowledged_says_so_and_a_rerun_resumes(big_shop: Sync, signum: int, name: str, code: int) -> None:
    sync = big_shop
    path = sync.write()
    latency = sync.netsuite.faults.add("latency", seconds=0.02, path_prefix="/services/rest/record")
    child = cli("run", str(path), cwd=sync.dir)
    try:
        wait_for(lambda: sync.ns_writes() >= 60 or child.poll() is not None)
        child.send_signal(signum)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == code, err
    assert f"interrupted ({name})" in err and "saved:" in err and "Traceback" not in err
    sync.netsuite.faults.remove(latency.id)
    with sync.store() as store:
        (run,) = store.runs()
        committed = len(store.mapped_rows("customers"))
        assert run.status == "interrupted" and any(name in e for e in run.errors)
        assert run.counts["customers"]["created"] + run.counts["customers"].get("updated", 0) == committed > 0
        assert store.lease_holder() is None  # released: the rerun need not wait for the lease to expire

    rerun = cli("run", str(path), cwd=sync.dir)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert sync.ns_count() == 200
    rows = sync.netsuite.suiteql("SELECT externalid, COUNT(*) AS n FROM customer WHERE externalid LIKE 'shop-%' GROUP BY externalid HAVING COUNT(*) > 1")
    assert rows == []


def test_a_run_killed_before_its_first_write_leaves_an_interrupted_run_in_the_log(sync: Sync) -> None:
    path = sync.write()
    held = sync.netsuite.faults.add("latency", seconds=30, count=None, path_prefix="/services/")  # every NetSuite request hangs
    child = cli("run", str(path), cwd=sync.dir)
    try:
        wait_for(lambda: sync.netsuite.stats(recent=0)["in_flight"] > 0 or child.poll() is not None)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    sync.netsuite.faults.remove(held.id)
    status = subprocess.run([*CLI, "status", str(path), "--json"], cwd=sync.dir, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    assert '"interrupted"' in status.stdout and sync.ns_writes() == 0, status.stdout
    text = subprocess.run([*CLI, "status", str(path)], cwd=sync.dir, capture_output=True, text=True, timeout=60)
    assert "interrupted" in text.stdout + text.stderr and "nothing to do" not in text.stdout + text.stderr


def test_a_run_with_a_short_lease_keeps_renewing_it_so_no_one_takes_it_over(sync: Sync) -> None:
    import threading

    from connector_core.sync.runner import Runner
    from connector_core.sync.store import SQLiteStateStore

    path = sync.write()
    # each write takes 0.6 s: the first commit comes after 3 s, so until then only the safe points renew the lease
    latency = sync.netsuite.faults.add("latency", seconds=0.6, count=None, path_prefix="/services/rest/record")
    loaded = sync.load(path)
    results = []
    with SQLiteStateStore(loaded.state_path(), loaded.name) as store:
        runner = Runner(loaded, store, sync.registry, lease_seconds=0.9)
        worker = threading.Thread(target=lambda: results.append(runner.run()))
        worker.start()
        taken = []
        try:
            time.sleep(1.5)  # well past the 0.9 s the lease was taken for
            with SQLiteStateStore(loaded.state_path(), loaded.name) as other:
                # another host (the owner's process is not ours to test for life): only an expired lease is free
                taken.append(bool(other.acquire_lease("another-host:1:z", 60)))
        finally:
            worker.join(timeout=60)
    sync.netsuite.faults.remove(latency.id)
    assert taken == [False], "the lease expired while the run was going on"
    assert results[0].status == "ok", results[0].errors
    assert sync.ns_count() == 40
