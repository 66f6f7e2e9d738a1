"""Retrying chosen dead letters now, without reading the streams: the dashboard's "Retry" buttons.

Every run already retries a flow's dead letters first, through the path new records take
(``FlowRun.process(record, retry=True)``). :class:`DeadLetterRetry` is a :class:`Runner` whose run does
only that, for the letters asked for: the lease, the run log, the config check, the setup calls, the
fenced commits and the outcome (``ok``, ``failed_records``, ``api_error``, ``locked`` ...) are
:meth:`Runner.run`'s own, so a retry can never overlap a run of the same connection (from the CLI,
cron or another dashboard), and it appears in ``status`` like any run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, cast

from connector_core.engine.registry import Registry
from connector_core.sync.connection import LoadedConnection
from connector_core.sync.flow import FlowRun
from connector_core.sync.records import ReporterProtocol
from connector_core.sync.runner import Runner
from connector_core.sync.store import SQLStateStore


class DeadLetterRetry(Runner):
    """A run that retries the chosen dead letters and reads nothing else.

    ``letters`` maps a flow's name to the source ids of its dead letters to retry, or to None for all of
    that flow's (up to what one run retries).
    """

    def __init__(
        self,
        loaded: LoadedConnection,
        store: SQLStateStore,
        registry: Registry,
        *,
        letters: Mapping[str, Collection[str] | None],
        reporter: ReporterProtocol | None = None,
    ) -> None:
        super().__init__(loaded, store, registry, reporter=reporter)
        self.letters = letters
        self.retried_flows = [flow for flow in loaded.connection.flows if flow.name in letters]
        # Runner.run walks `self.connection.flows` reading each stream; this run has no stream to read:
        # its work is done in run_setup, which Runner.run calls under the lease, after the config check.
        self.connection = loaded.connection.model_copy(update={"flows": []})

    def sides_used(self) -> list[str]:
        used = [call.side for call in self.connection.setup]
        for flow in self.retried_flows:
            used += [flow.from_.side, flow.to.side]
        return list(dict.fromkeys(used))

    def run_setup(self) -> None:
        """The connection's setup calls, as any run makes them, then the retries."""
        super().run_setup()
        from connector_core.sync.records import DEAD_LETTER_RETRIES_PER_RUN

        counts = cast(dict[str, Any], self._counts)  # Runner.run's result.counts: the run log saves it
        for flow in self.retried_flows:
            chosen = self.letters[flow.name]
            letters = [
                letter for letter in self.store.dead_letters(flow.name, limit=DEAD_LETTER_RETRIES_PER_RUN if chosen is None else None)
                if chosen is None or letter.source_id in chosen
            ]
            if not letters:
                continue
            flow_run = FlowRun(self, flow)
            counts[flow.name] = flow_run.counts
            self.reporter.flow_started(flow.name)
            try:
                flow_run.retry(letters)
            finally:
                flow_run.stop()
            for error in flow_run.errors:
                self.reporter.message(f"{flow.name}: {error}")
            self.reporter.flow_finished(flow.name, flow_run.counts)


__all__ = ["DeadLetterRetry"]
