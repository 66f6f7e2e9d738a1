"""Running a connection: read each flow's stream, map, match, write, and checkpoint durably.

For every flow, in order:

1. dead letters of earlier runs are retried through the same path as new records;
2. the stream is read from the saved cursor; each record is filtered, checked for an echo of our own
   write (bidirectional syncs), mapped, hashed (unchanged records are skipped) and matched (ID map,
   then an optional lookup of the written side by external id);
3. records are written in batches. Before a batch that creates records, a pending entry per record is
   committed; after the batch, ONE transaction stores the ID map rows and hashes of the acknowledged
   records, clears their pending entries, dead-letters the rejected ones, and saves the cursor when the
   batch completes a checkpoint the reader gave. A cursor therefore never covers an unwritten record;
4. deletions are detected (tombstone stream, or ids missing from a full read) and handled by the
   flow's policy, unless more than ``max_share`` of the mapped records would go (the breaker).

Before anything is read or written, the config of every side the setup calls and flows use is
resolved and checked (:meth:`Runner.open_connectors`): a missing secret stops the run there, never
after one side has been written. A flow that an error stops is reported failed, never done.

A dry run takes exactly this path, but prints each intended write instead of calling the operation
and commits nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from connector_core.engine.auth.tokenstore import JsonFileTokenStore, default_token_path
from connector_core.engine.connector import Connector
from connector_core.engine.interpolation import Interpolator
from connector_core.engine.paths import get_path
from connector_core.engine.registry import Registry
from connector_core.errors import (
    ConfigError,
    ConnectorError,
    HTTPError,
    LeaseLostError,
    StateUnavailableError,
)
from connector_core.sync.connection import LoadedConnection
from connector_core.sync.flow import FlowRun
from connector_core.sync.mapping import lookup_index
from connector_core.sync.models import Lookup
from connector_core.sync.records import (
    LEASE_SECONDS,
    DeleteBreakerError,
    Reporter,
    ReporterProtocol,
    RunResult,
    StopRequested,
)
from connector_core.sync.store import SQLStateStore, lease_owner


class Runner:
    """One run of one connection."""

    def __init__(
        self,
        loaded: LoadedConnection,
        store: SQLStateStore,
        registry: Registry,
        *,
        dry_run: bool = False,
        full_refresh: bool = False,
        accept_deletes: bool = False,
        reporter: ReporterProtocol | None = None,
        connectors: Mapping[str, Connector] | None = None,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.loaded = loaded
        self.connection = loaded.connection
        self.store = store
        self.registry = registry
        self.dry_run = dry_run
        self.full_refresh = full_refresh
        self.accept_deletes = accept_deletes  # the delete breaker does not stop this run
        self.reporter: ReporterProtocol = reporter or Reporter()
        self.clock = clock
        self.interpolator = Interpolator(registry.filters)
        self._connectors: dict[str, Connector] = dict(connectors or {})
        self._owned = set(self._connectors)
        self._lookups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.owner = lease_owner()
        #: How long the lease lasts past its last renewal: every commit renews it, and so does every safe
        #: point (each record read, each wait for writes) once a third of it has gone. A dead run's lease
        #: frees the connection this long after; a worker engine sets it short (its heartbeat timeout's
        #: order) so another host may resume soon, the fence keeping a paused run from writing after.
        self.lease_seconds = lease_seconds
        self._lease_renewed = time.monotonic()
        self.run_id: int | None = None
        self._counts: Mapping[str, Mapping[str, int]] = {}
        self._stop: str | None = None

    # -- connectors and cached lookups ------------------------------------------------------------------

    def connector(self, side: str) -> Connector:
        if side not in self._connectors:
            config = self.loaded.config_for(side)
            # the tokens `connector-core authorize -c CONFIG` saved: beside the config file, or beside the
            # connection file for an inline config ($CONNECTOR_CORE_TOKENS overrides both)
            tokens = JsonFileTokenStore(default_token_path(config if isinstance(config, Path) else self.loaded.path))
            self._connectors[side] = Connector(self.loaded.specs[side], config, self.registry, tokens=tokens)
        return self._connectors[side]

    def sides_used(self) -> list[str]:
        """The sides the setup calls and flows read, write or look up, in the order they are first used."""
        used: list[str] = [call.side for call in self.connection.setup]
        for flow in self.connection.flows:
            used += [flow.from_.side, flow.to.side]
        return list(dict.fromkeys(used))

    def open_connectors(self) -> None:
        """Resolve and check the config of every side in use before the first request: a missing secret
        or setting is found before anything is written to either side."""
        for side in self.sides_used():
            try:
                self.connector(side)
            except ConfigError as exc:
                config = self.loaded.endpoint(side).config
                where = f"config file {config}" if isinstance(config, str) else f"config at {self.loaded.document.where((side, 'config'))}"
                message = exc.message
                for prefix in (f"{self.loaded.config_for(side)}: ", "config: "):  # the file is named once, as the connection names it
                    message = message.removeprefix(prefix)
                connector = self.loaded.specs[side].spec.name
                raise ConfigError(
                    f"{side} ({connector}) {where}: {message}; nothing was read or written",
                    problems=exc.problems,
                    hint=exc.hint,
                ) from None

    def index(self, side: str, stream: str, key: str, value: str) -> dict[str, Any]:
        """{key as text: value} over a whole stream, read once per run."""
        cache_key = (side, stream, key, value)
        if cache_key not in self._lookups:
            index: dict[str, Any] = {}
            for record in self.connector(side).read(stream):
                found = get_path(record, key)
                if found is not None:
                    index.setdefault(str(found), get_path(record, value) if value else record)
            self._lookups[cache_key] = index
        return self._lookups[cache_key]

    def lookup(self, lookup: Lookup) -> dict[str, Any]:
        """A mapping lookup's {key as text: value} (filter, list keys and sort_by applied), over a stream read once per run."""
        side, _, stream = lookup.stream.partition(".")
        cache_key = (side, stream, lookup.key, f"{lookup.value}|{lookup.filter}|{lookup.sort_by}|{lookup.order}|{lookup.all}")
        if cache_key not in self._lookups:
            self._lookups[cache_key] = lookup_index(self.connector(side).read(stream), lookup, self.interpolator)
        return self._lookups[cache_key]

    def run_setup(self) -> None:
        """The connection's `setup` calls (idempotent, e.g. create custom properties), before any flow."""
        for index, call in enumerate(self.connection.setup):
            if self.dry_run:
                self.reporter.message(f"setup[{index}]: {call.operation} on the {call.side} side is not called in a dry run")
                continue
            result = self.connector(call.side).call(call.operation, call.input)
            outcomes = result.get("records") if isinstance(result, dict) else None
            refused = [o for o in outcomes or [] if isinstance(o, dict) and o.get("ok") is False]
            if refused:
                reasons = "; ".join(str(o.get("message") or o.get("error")) for o in refused[:5])
                raise ConnectorError(f"setup[{index}]: {call.operation} on the {call.side} side failed for {len(refused)} record(s): {reasons}")

    def run_counts(self) -> dict[str, dict[str, int]]:
        """Every flow's counts so far in this run."""
        return {flow: dict(counts) for flow, counts in self._counts.items()}

    def request_stop(self, reason: str) -> None:
        """Ask the run to stop, from another thread, as a stop signal would: at the next record it reads
        or while it waits for its writes, with what the destination acknowledged committed (status
        ``interrupted``, ``stopped_by`` the reason). For runs outside the main thread, where signals do
        not arrive (a Temporal worker)."""
        self._stop = reason

    def stop_point(self) -> None:
        """Raise :class:`StopRequested` if :meth:`request_stop` was called (a place where a Ctrl-C is safe);
        renew the lease once a third of it has gone (fenced: LeaseLostError if another run took it over)."""
        if self._stop is not None:
            raise StopRequested(self._stop)
        if self.run_id is not None and time.monotonic() - self._lease_renewed > self.lease_seconds / 3:
            self.store.renew_lease(self.owner, self.lease_seconds)
            self._lease_renewed = time.monotonic()

    # -- the run -------------------------------------------------------------------------------------

    def run(self, due_check: Callable[[], bool] | None = None) -> RunResult:
        """Run every flow. ``due_check`` is asked under the lease; when it says no, nothing runs."""
        started = time.monotonic()
        result = RunResult(self.connection.name, "ok", self.dry_run)
        self._counts = result.counts
        if not self.dry_run:
            if not self.store.acquire_lease(self.owner, self.lease_seconds):
                holder = self.store.lease_holder()
                result.status = "locked"
                result.errors.append(
                    f"skipped: running elsewhere: connection '{self.connection.name}' is being run by "
                    f"{holder[0] if holder else 'another process'}; not started"
                )
                return result
            if due_check is not None and not due_check():
                self.store.release_lease(self.owner)
                result.status = "not_due"
                return result
            self.store.mark_interrupted_runs()
            self.run_id = self.store.start_run(False)
        try:
            self.open_connectors()
            self.run_setup()
            for flow in self.connection.flows:
                flow_run = FlowRun(self, flow)
                result.counts[flow.name] = flow_run.counts
                self.reporter.flow_started(flow.name)
                try:
                    flow_run.run()
                except ConnectorError as exc:
                    if not isinstance(exc, DeleteBreakerError):
                        # the run log names the flow that failed; the reporter says failed, never done
                        result.failed_flow = flow.name
                        failed = getattr(self.reporter, "flow_failed", None)  # optional in the reporter protocol
                        if failed is not None:
                            failed(flow.name, flow_run.counts, str(exc))
                    raise
                finally:
                    flow_run.stop()
                    if result.failed_flow != flow.name:
                        self.reporter.flow_finished(flow.name, flow_run.counts)
                result.errors.extend(flow_run.errors)
        except DeleteBreakerError as exc:
            result.status = "breaker"
            result.errors.append(str(exc))
        except LeaseLostError as exc:
            # another run took the connection over while this one was paused or cut off: its last
            # transaction was rolled back and it stops; the holder goes on from the last checkpoint
            result.status = "lease_lost"
            result.errors.append(self._where(result) + str(exc))
        except (HTTPError, StateUnavailableError) as exc:
            result.status, result.cause = "api_error", exc
            result.errors.append(self._where(result) + str(exc))
        except ConnectorError as exc:
            result.status, result.cause = "error", exc
            result.errors.append(self._where(result) + str(exc))
        except (KeyboardInterrupt, StopRequested) as exc:
            # committed batches stand (the flow committed what was acknowledged on its way out); a rerun resumes
            result.status = "interrupted"
            result.stopped_by = exc.signal_name if isinstance(exc, StopRequested) else "Ctrl-C"
            result.errors.append(f"interrupted ({result.stopped_by}); the next run resumes from the last checkpoint")
        except BaseException:
            result.status = "interrupted"  # a crash: committed batches stand, the rest is redone
            raise
        finally:
            result.duration = time.monotonic() - started
            if result.status == "ok" and result.totals.get("failed", 0):
                result.status = "failed_records"
            if self.run_id is not None:
                self.store.finish_run(self.run_id, result.status, result.counts, result.errors)
                self.store.release_lease(self.owner)  # a lease taken over stays with its new holder
            result.run_id = self.run_id
            for side, connector in self._connectors.items():
                if side not in self._owned:
                    connector.close()
        return result

    @staticmethod
    def _where(result: RunResult) -> str:
        """The run log's error names the flow it stopped ("" for the setup calls and config checks)."""
        return f"flow {result.failed_flow}: " if result.failed_flow else ""


__all__ = ["DeleteBreakerError", "Reporter", "RunResult", "Runner"]
