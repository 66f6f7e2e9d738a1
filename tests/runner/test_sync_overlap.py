"""Overlapped single writes: a write waiting out its retries holds back no other write and no other
commit, and the saved cursor never passes a batch that is not committed (HubSpot companies → NetSuite
customers, one upsert each, over loopback with a real SQLite state)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sync_batch_support import CrmSync, companies_to_customers

from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

COMPANIES = 120  # five commit batches of 25; the stream reads them in id order
RECORDS = "/services/rest/record/v1/customer"
FLOW = "companies-to-customers"


@pytest.fixture
def hubspot() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(HubSpotSettings(companies=COMPANIES, contacts=0, deals=0)) as emulator:
        yield emulator


@pytest.fixture
def netsuite() -> Iterator[NetSuiteEmulator]:
    with NetSuiteEmulator(EmulatorSettings(customers=0, items=1, sales_orders=0, invoices=0)) as emulator:
        yield emulator


@pytest.fixture
def sync(tmp_path: Path, hubspot: HubSpotEmulator, netsuite: NetSuiteEmulator, registry: Registry) -> CrmSync:
    sync = CrmSync(tmp_path, hubspot, netsuite, registry)
    sync.write([companies_to_customers()], direction="crm->netsuite", netsuite=sync.netsuite_config(subsidiary_id="1", concurrency=5))
    return sync


def ids_in_read_order(sync: CrmSync) -> list[str]:
    """The companies in the order the flow reads them: the same stream, read through the connector."""
    from connector_core.engine.connector import Connector

    with Connector.open("hubspot", sync.hubspot_config(), sync.registry) as hubspot:
        return [str(record["id"]) for record in hubspot.read("companies")]


def customers_by_external_id(sync: CrmSync) -> dict[str, int]:
    rows = sync.suiteql("SELECT externalid FROM customer WHERE externalid LIKE 'hs-%'")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["externalid"]] = counts.get(row["externalid"], 0) + 1
    return counts


def test_batches_after_a_retrying_write_commit_before_it(sync: CrmSync, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = ids_in_read_order(sync)
    first = ids[0]
    # the full batches read after the first one, which the retrying write belongs to (the last, partial
    # batch is flushed when the read ends, after the final drain)
    later_batches = ids[25:100]
    # the first record read meets 503s until the later batches are committed (or 60 s pass), retried
    # up to 20 times 0.25-0.5 s apart: the order is decided by the test, not by the machine's speed
    monkeypatch.setenv("CONNECTOR_CORE_RETRIES", "attempts=20,backoff=0.5,max_backoff=0.5")
    fault = sync.netsuite.faults.add("status", status=503, count=None, path_prefix=f"{RECORDS}/eid:hs-{first}")
    finished: list[Any] = []
    running = threading.Thread(target=lambda: finished.append(sync.run()), name="the run")
    running.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and running.is_alive():
            with sync.store() as store:
                committed = {row.source_id for row in store.mapped_rows(FLOW)}
            if set(later_batches) <= committed:
                break
            time.sleep(0.1)
        assert first not in committed
    finally:
        sync.netsuite.faults.remove(fault.id)
        running.join(120)
    (run,) = finished
    assert run.status == "ok", run.errors
    assert run.counts[FLOW] == {"read": COMPANIES, "created": COMPANIES}
    # with batches committed in read order none would be: all 75 were, while the first waited
    assert set(later_batches) <= committed, f"{len(committed & set(later_batches))} of {len(later_batches)} later records were committed before the retrying one"
    with sync.store() as store:
        rows = {row.source_id: row for row in store.mapped_rows(FLOW)}
    assert sorted(rows, key=int) == ids
    assert set(customers_by_external_id(sync).values()) == {1}


def test_a_run_stopped_by_a_failing_write_keeps_the_later_batches_but_not_the_cursor_past_it(
    sync: CrmSync, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = ids_in_read_order(sync)
    first = ids[0]
    monkeypatch.setenv("CONNECTOR_CORE_RETRIES", "attempts=2,backoff=0.3,max_backoff=0.3")
    fault = sync.netsuite.faults.add("status", status=503, count=None, path_prefix=f"{RECORDS}/eid:hs-{first}")

    stopped = sync.run()

    assert stopped.status == "api_error", stopped.errors
    with sync.store() as store:
        committed = {row.source_id for row in store.mapped_rows(FLOW)}
        cursor = store.cursor(FLOW)
    assert first not in committed
    assert set(ids[25:100]) <= committed, "batches acknowledged while the first one failed must be kept"
    assert cursor is None, f"the cursor passed a batch that was never committed: {cursor}"

    sync.netsuite.faults.remove(fault.id)
    resumed = sync.run()

    assert resumed.status == "ok", resumed.errors
    assert resumed.counts[FLOW]["created"] == 1 + (COMPANIES - 1 - len(committed))
    counts = customers_by_external_id(sync)
    assert sorted(counts) == sorted(f"hs-{i}" for i in ids) and set(counts.values()) == {1}
