"""One Temporal schedule per connection, made from its ``schedule:`` (``connector-core schedules sync``).

Schedule ``sync/<name>`` starts workflow ``sync/<name>`` (Temporal appends the scheduled time to the ID)
on the fleet's task queue: on an interval (``every 15m``) or a five-field cron expression (UTC, as
``run-due`` reads it), with jitter, overlap policy SKIP (a run still going when the next is due makes
that one be skipped), and a catch-up window of one period (after an outage, at most the last missed run
is made up).

A schedule this module made carries a note, ``connector-core [task queue Q, FINGERPRINT]``: the task
queue says which fleet owns it, so :func:`sync_schedules` deletes only its own fleet's schedules whose
connection is gone, and the fingerprint of what it was made from says whether it must be updated.
A schedule someone paused stays paused when it is updated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from connector_core.sync.schedule import parse_schedule
from connector_core.sync.temporal.shared import WORKFLOW, SyncRequest, schedule_id, workflow_id

#: The jitter when none is given: a tenth of the period, at most this.
MAX_DEFAULT_JITTER = dt.timedelta(minutes=1)
_NOTE = re.compile(r"^connector-core \[task queue (?P<queue>\S+), (?P<fingerprint>[0-9a-f]{16})\]")


@dataclass
class ScheduleChanges:
    """What :func:`sync_schedules` did, by connection name."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def period(schedule: str) -> dt.timedelta:
    """The time between two runs of ``schedule`` (for a cron expression: between its next two times).

    Raises:
        ValueError: the schedule is not valid, or is a cron expression with other than five fields
            (Temporal reads a sixth field differently from croniter).
    """
    parsed = parse_schedule(schedule)
    if isinstance(parsed, dt.timedelta):
        return parsed
    if len(parsed.split()) != 5:
        raise ValueError(f"{schedule!r}: a Temporal schedule takes a cron expression of five fields (minute hour day month weekday)")
    from croniter import croniter

    times = croniter(parsed, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    first: dt.datetime = times.get_next(dt.datetime)
    second: dt.datetime = times.get_next(dt.datetime)
    return second - first


def desired_schedule(schedule: str, request: SyncRequest, *, task_queue: str, jitter: dt.timedelta | None = None) -> Schedule:
    """The Temporal schedule for a connection whose ``schedule:`` is ``schedule``; ``jitter`` None: a
    tenth of the period, at most :data:`MAX_DEFAULT_JITTER`."""
    every = period(schedule)
    jitter = min(every / 10, MAX_DEFAULT_JITTER) if jitter is None else jitter
    parsed = parse_schedule(schedule)
    spec = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)], jitter=jitter) if isinstance(parsed, dt.timedelta) else ScheduleSpec(cron_expressions=[parsed], jitter=jitter)
    made_from = {"schedule": schedule, "jitter": jitter.total_seconds(), "task_queue": task_queue, "request": asdict(request)}
    fingerprint = hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()[:16]
    return Schedule(
        action=ScheduleActionStartWorkflow(WORKFLOW, request, id=workflow_id(request.connection), task_queue=task_queue),
        spec=spec,
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=max(every, dt.timedelta(minutes=1))),
        state=ScheduleState(note=f"connector-core [task queue {task_queue}, {fingerprint}] {schedule}"),
    )


def _owner_and_fingerprint(note: str | None) -> tuple[str, str] | None:
    found = _NOTE.match(note or "")
    return (found["queue"], found["fingerprint"]) if found else None


async def sync_schedules(
    client: Client, requests: Mapping[str, tuple[str, SyncRequest]], *, task_queue: str, jitter: dt.timedelta | None = None,
    keep: Iterable[str] = (),
) -> ScheduleChanges:
    """Make the schedules of ``task_queue`` those of ``requests``: connection name → (its ``schedule:``,
    the request each run gets). Creates the missing ones, updates those made from something else,
    deletes this task queue's schedules of connections not in ``requests`` (except those in ``keep``:
    connections whose file could not be read this time).

    Raises:
        ValueError: a schedule Temporal cannot take (see :func:`period`); nothing was changed then.
    """
    changes = ScheduleChanges()
    wanted = {name: desired_schedule(text, request, task_queue=task_queue, jitter=jitter) for name, (text, request) in sorted(requests.items())}
    for name, schedule in wanted.items():
        handle = client.get_schedule_handle(schedule_id(name))
        try:
            existing = await handle.describe()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            await client.create_schedule(schedule_id(name), schedule)
            changes.created.append(name)
            continue
        if existing.schedule.state.note == schedule.state.note:
            changes.unchanged.append(name)
            continue

        def update(given: ScheduleUpdateInput, schedule: Schedule = schedule) -> ScheduleUpdate:
            paused = given.description.schedule.state.paused  # a schedule someone paused stays paused
            return ScheduleUpdate(schedule=Schedule(schedule.action, schedule.spec, schedule.policy, ScheduleState(note=schedule.state.note, paused=paused)))

        await handle.update(update)
        changes.updated.append(name)
    kept = set(keep)
    listed = await client.list_schedules()
    async for entry in listed:
        if not entry.id.startswith(schedule_id("")) or entry.schedule is None:
            continue
        name = entry.id.removeprefix(schedule_id(""))
        owned = _owner_and_fingerprint(entry.schedule.state.note)
        if owned is None or owned[0] != task_queue or name in wanted or name in kept:
            continue
        try:
            await client.get_schedule_handle(entry.id).delete()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:  # deleted meanwhile (listing lags behind)
                raise
            continue
        changes.deleted.append(name)
    return changes


__all__ = ["MAX_DEFAULT_JITTER", "ScheduleChanges", "desired_schedule", "period", "sync_schedules"]
