"""Starting a connection's run on Temporal, joining one already under way, and following its progress.

``connector-core run CONN --via temporal`` uses these; so may any program with a
:class:`temporalio.client.Client`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from connector_core.sync.temporal.shared import WORKFLOW, SyncOutcome, SyncRequest, schedule_id, workflow_id


@dataclass
class Started:
    """The workflow a start led to: ``joined`` when it was already running (nothing new was started)."""

    handle: WorkflowHandle[Any, SyncOutcome]
    joined: bool


@dataclass
class Progress:
    """What the workflow's activity reported last: its attempt, the worker running it, every flow's
    counts (the heartbeat detail), and why the attempt before failed (a retry)."""

    attempt: int
    worker: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    flow: str | None = None
    last_failure: str | None = None


async def start_or_join(client: Client, request: SyncRequest, *, task_queue: str) -> Started:
    """Start the run of ``request.connection`` as workflow ``sync/<name>``, or join the one under way:
    a run its schedule started (whose ID carries the schedule's time), else a running ``sync/<name>``.
    Temporal opens at most one workflow per ID, so a second start never makes a second run; and the
    state store's lease stops a run the schedule and a manual start would otherwise make side by side."""
    name = request.connection
    try:
        scheduled = await client.get_schedule_handle(schedule_id(name)).describe()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
    else:
        for action in scheduled.info.running_actions:
            if isinstance(action, ScheduleActionExecutionStartWorkflow):
                running = client.get_workflow_handle(action.workflow_id, first_execution_run_id=action.first_execution_run_id, result_type=SyncOutcome)
                return Started(running, True)
    joined = False
    try:
        described = await client.get_workflow_handle(workflow_id(name)).describe()
        joined = described.status == WorkflowExecutionStatus.RUNNING
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
    handle: WorkflowHandle[Any, SyncOutcome] = await client.start_workflow(
        WORKFLOW, request, id=workflow_id(name), task_queue=task_queue, result_type=SyncOutcome,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return Started(handle, joined)


async def progress(client: Client, handle: WorkflowHandle[Any, SyncOutcome]) -> Progress | None:
    """The workflow's activity as its last heartbeat left it, or None when none is pending."""
    described = await handle.describe()
    for pending in described.raw_description.pending_activities:
        details = await client.data_converter.decode(pending.heartbeat_details.payloads) if pending.HasField("heartbeat_details") else []
        detail = details[-1] if details and isinstance(details[-1], dict) else {}
        failure = pending.last_failure.message if pending.HasField("last_failure") else None
        return Progress(pending.attempt, pending.last_worker_identity, dict(detail.get("counts") or {}), detail.get("flow"), failure or None)
    return None


async def follow(
    client: Client, handle: WorkflowHandle[Any, SyncOutcome], on_progress: Callable[[Progress], None], *, every: float = 1.0,
) -> SyncOutcome:
    """Wait for the workflow's outcome, calling ``on_progress`` every ``every`` seconds meanwhile.

    Raises:
        temporalio.client.WorkflowFailureError: the workflow failed (its cause: the activity's error).
    """
    result = asyncio.ensure_future(handle.result())
    try:
        while True:
            done, _ = await asyncio.wait({result}, timeout=every)
            if done:
                return result.result()
            try:
                seen = await progress(client, handle)
            except RPCError:
                continue  # the server is busy or restarting: the next poll will tell
            if seen is not None:
                on_progress(seen)
    finally:
        if not result.done():
            result.cancel()


__all__ = ["Progress", "Started", "follow", "progress", "start_or_join"]
