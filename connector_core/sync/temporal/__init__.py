"""Temporal as the engine for a fleet of workers (``pip install 'connector-core[temporal]'``).

- :mod:`.shared`: names, :class:`SyncRequest` and :class:`SyncOutcome` (standard library only);
- :mod:`.workflows`: :class:`~.workflows.ConnectionSync`, one workflow per connection (``sync/<name>``);
- :mod:`.activities`: ``run_connection``, one run through the Runner, heartbeating after every commit;
- :mod:`.client`: start or join a connection's run and follow its progress;
- :mod:`.schedules`: one Temporal schedule per connection from its ``schedule:``.

The state store's lease, not Temporal, keeps two runs of a connection from writing at once. Nothing
outside this package imports temporalio, and this ``__init__`` imports only :mod:`.shared`, so the
workflow sandbox, which imports the package of the workflow's module, stays clear of the runner.
"""

from connector_core.sync.temporal.shared import (
    ACTIVITY,
    DEFAULT_NAMESPACE,
    DEFAULT_TASK_QUEUE,
    NON_RETRYABLE,
    WORKFLOW,
    SyncOutcome,
    SyncRequest,
    schedule_id,
    workflow_id,
)

__all__ = [
    "ACTIVITY",
    "DEFAULT_NAMESPACE",
    "DEFAULT_TASK_QUEUE",
    "NON_RETRYABLE",
    "WORKFLOW",
    "SyncOutcome",
    "SyncRequest",
    "schedule_id",
    "workflow_id",
]
