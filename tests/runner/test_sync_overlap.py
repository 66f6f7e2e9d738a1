"""Overlapped single writes: a write waiting out its retries holds back no other write and no other
commit, and the saved cursor never passes a batch that is not committed (HubSpot companies → NetSuite
customers, one upsert each, over loopback with a real SQLite state)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
    return sorted((c["id"] for c in sync.companies()), key=int)


def customers_by_external_id(sync: CrmSync) -> dict[str, int]:
    rows = sync.suiteql("SELECT externalid FROM customer WHERE externalid LIKE 'hs-%'")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["externalid"]] = counts.get(row["externalid"], 0) + 1
    return counts


def test_batches_after_a_retrying_write_commit_before_it(sync: CrmSync, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = ids_in_read_order(sync)
    first = ids[0]
    # the first record read meets five 503s; while the others are answered, each retry waits 0.5-1 s
    monkeypatch.setenv("CONNECTOR_CORE_RETRIES", "backoff=1,max_backoff=2")
    sync.netsuite.faults.add("status", status=503, count=5, path_prefix=f"{RECORDS}/eid:hs-{first}")

    run = sync.run()

    assert run.status == "ok", run.errors
    assert run.counts[FLOW] == {"read": COMPANIES, "created": COMPANIES}
    with sync.store() as store:
        rows = {row.source_id: row for row in store.mapped_rows(FLOW)}
    assert sorted(rows, key=int) == ids
    held = rows[first].written_at
    later_batches = ids[25:]  # read after the first batch, which the retrying write belongs to
    committed_first = [sid for sid in later_batches if rows[sid].written_at < held]
    # with batches committed in read order none would be; on a loaded machine the last few may finish after it
    assert len(committed_first) >= 50, f"{len(committed_first)} of {len(later_batches)} later records were committed before the retrying one"
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
