"""The workflow: one per connection (ID ``sync/<name>``), running one activity that runs the connection.

Workflow code must replay the same way every time, so this module imports only temporalio and
:mod:`.shared` (plain dataclasses, passed through the sandbox), and calls the activity by its name:
the activity's module (the runner, the connectors, the state store) is never imported here.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from connector_core.sync.temporal.shared import (
        ACTIVITY,
        NON_RETRYABLE,
        WORKFLOW,
        SyncOutcome,
        SyncRequest,
    )


@workflow.defn(name=WORKFLOW)
class ConnectionSync:
    """Runs the connection once, through the ``run_connection`` activity, and returns its outcome.

    The activity heartbeats after every committed batch; a worker silent for ``heartbeat_timeout`` is
    taken for dead and the activity is retried on another worker, where the run resumes from its last
    checkpoint. Auth, spec, config and state errors fail the workflow at once (:data:`NON_RETRYABLE`);
    anything else is retried with backoff, up to ``max_attempts``. Cancelling the workflow stops the run
    at its next safe point, and the workflow ends only once it has.
    """

    @workflow.run
    async def run(self, request: SyncRequest) -> SyncOutcome:
        outcome: SyncOutcome = await workflow.execute_activity(
            ACTIVITY,
            request,
            result_type=SyncOutcome,
            start_to_close_timeout=timedelta(seconds=request.start_to_close_timeout),
            heartbeat_timeout=timedelta(seconds=request.heartbeat_timeout),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=request.retry_initial),
                backoff_coefficient=2.0,
                maximum_interval=timedelta(seconds=max(request.retry_initial, request.retry_maximum)),
                maximum_attempts=request.max_attempts,
                non_retryable_error_types=list(NON_RETRYABLE),
            ),
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        return outcome


__all__ = ["ConnectionSync"]
