"""`connector-core schedules sync DIR`: one Temporal schedule per connection from its `schedule:`, created,
updated and deleted as the directory changes (issue 12 §2), on a Temporal dev server started offline."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from finance_support import Finance, hubspot, netsuite_ns  # noqa: F401
from temporal_support import Worker, call, run_cli, task_queue

from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator
from connectors.netsuite.emulator import NetSuiteEmulator


def write(directory: Path, base: dict[str, Any], file: str, name: str, schedule: str | None) -> Path:
    data = {**base, "name": name}
    data.pop("schedule", None)
    if schedule:
        data["schedule"] = schedule
    path = directory / file
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def describe(address: str, name: str) -> Any:
    async def work(client: Any) -> Any:
        return await client.get_schedule_handle(f"sync/{name}").describe()

    return call(address, work)


def minutes(address: str, name: str) -> list[Any]:
    (calendar,) = describe(address, name).schedule.spec.calendars
    return list(calendar.minute)


def listed(address: str) -> set[str]:
    async def work(client: Any) -> set[str]:
        return {entry.id async for entry in await client.list_schedules()}

    return call(address, work)


def test_schedules_sync_creates_updates_and_deletes_one_schedule_per_connection(
    tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry, temporal: str  # noqa: F811
) -> None:
    from temporalio.client import ScheduleOverlapPolicy, ScheduleRange

    from connector_core.sync.temporal.schedules import sync_schedules
    from connector_core.sync.temporal.shared import SyncRequest

    sync = Finance("customers_both_ways.yaml", tmp_path, hubspot, netsuite_ns, registry)
    directory = sync.path.parent
    base = yaml.safe_load(sync.path.read_text(encoding="utf-8"))
    sync.path.unlink()
    tag = uuid.uuid4().hex[:8]
    a, b, c, foreign = (f"{letter}-{tag}" for letter in ("a", "b", "c", "foreign"))
    write(directory, base, "a.yaml", a, "every 15m")
    write(directory, base, "b.yaml", b, "*/30 * * * *")
    write(directory, base, "c.yaml", c, None)
    queue, other_queue = task_queue(), task_queue()
    call(temporal, lambda client: sync_schedules(client, {foreign: ("every 1h", SyncRequest(foreign))}, task_queue=other_queue))
    schedules = ["schedules", "sync", str(directory), "--temporal", temporal, "--task-queue", queue]

    first = run_cli(*schedules)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"created schedule sync/{a} (every 15m)", f"created schedule sync/{b} (*/30 * * * *)"]
    made = describe(temporal, a)
    assert made.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
    assert [spec.every for spec in made.schedule.spec.intervals] == [dt.timedelta(minutes=15)]
    assert made.schedule.spec.jitter == dt.timedelta(minutes=1)  # a tenth of the interval, at most a minute
    assert (made.schedule.action.id, made.schedule.action.task_queue, made.schedule.action.workflow) == (f"sync/{a}", queue, "ConnectionSync")
    assert minutes(temporal, b) == [ScheduleRange(0, 59, 30)]  # the server keeps a cron expression as a calendar

    again = run_cli(*schedules)
    assert (again.returncode, again.stdout) == (0, ""), again.stderr
    assert "0 created, 0 updated, 0 deleted, 2 unchanged" in again.stderr

    # a's schedule changes (a pause someone made survives the update); b's file breaks; c gets a schedule
    call(temporal, lambda client: client.get_schedule_handle(f"sync/{a}").pause(note="paused by hand"))
    write(directory, base, "a.yaml", a, "every 5m")
    (directory / "b.yaml").write_text(f"name: {b}\nsource: {{connector: hubspot}}\nflows: []\n", encoding="utf-8")
    write(directory, base, "c.yaml", c, "every 1h")
    deadline = time.monotonic() + 30
    while not {f"sync/{a}", f"sync/{b}", f"sync/{foreign}"} <= listed(temporal) and time.monotonic() < deadline:
        time.sleep(0.2)  # the list comes from visibility, which lags behind
    third = run_cli(*schedules)
    assert third.returncode == 1, third.stderr  # an invalid file: its schedule is left as it was
    assert "b.yaml: error:" in third.stderr and "its schedule is left as it was" in third.stderr
    assert sorted(third.stdout.splitlines()) == [f"created schedule sync/{c} (every 1h)", f"updated schedule sync/{a} (every 5m)"]
    updated = describe(temporal, a)
    assert [spec.every for spec in updated.schedule.spec.intervals] == [dt.timedelta(minutes=5)]
    assert updated.schedule.spec.jitter == dt.timedelta(seconds=30) and updated.schedule.state.paused
    assert minutes(temporal, b) == [ScheduleRange(0, 59, 30)]

    (directory / "b.yaml").unlink()  # b is gone: its schedule goes; the other task queue's stays
    fourth = run_cli(*schedules)
    assert fourth.returncode == 0 and fourth.stdout.splitlines() == [f"deleted schedule sync/{b}"], fourth.stderr
    assert describe(temporal, foreign).schedule.action.task_queue == other_queue

    # a scheduled run is a run like any: triggered, it runs c on a worker of the task queue
    worker = Worker(directory, temporal, queue)
    try:
        worker.wait_serving()
        call(temporal, lambda client: client.get_schedule_handle(f"sync/{c}").trigger())
        deadline = time.monotonic() + 60
        while not describe(temporal, c).info.recent_actions and time.monotonic() < deadline:
            time.sleep(0.2)
        (action,) = describe(temporal, c).info.recent_actions
        run_id = action.action.first_execution_run_id

        async def outcome(client: Any) -> Any:
            return await client.get_workflow_handle(action.action.workflow_id, run_id=run_id).result()

        result = call(temporal, outcome)
    finally:
        assert worker.stop() == 0, worker.output()
    assert action.action.workflow_id.startswith(f"sync/{c}-") and result["status"] == "ok", result

    async def cleanup(client: Any) -> None:
        for name in (a, c, foreign):
            await client.get_schedule_handle(f"sync/{name}").delete()

    call(temporal, cleanup)
