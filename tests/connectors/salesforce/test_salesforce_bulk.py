"""Bulk API 2.0 query jobs (create, poll, CSV results paged by Sforce-Locator) through the engine's export
jobs, against the emulator's jobs: the record streams read through a job when `bulk` is set."""

from __future__ import annotations

from collections.abc import Callable

from salesforce_connector_support import jwt_config, route_counts

from connector_core.engine.connector import Connector
from connector_core.testing import read_stream
from connectors.crm.salesforce_emulator import SalesforceEmulator


def test_a_bulk_read_gives_the_records_of_the_rest_read_in_pages(
    make_emulator: Callable[..., SalesforceEmulator], open_salesforce: Callable[..., Connector]
) -> None:
    emu = make_emulator(accounts=45)
    bulk = read_stream(open_salesforce(jwt_config(emu, bulk=True, bulk_page_size=20)), "accounts").records
    counts = route_counts(emu)
    assert counts["bulk.create"] == 1 and counts["bulk.results"] == 3  # 20 + 20 + 5, chained by Sforce-Locator
    assert counts["bulk.status"] >= 2  # polled until JobComplete
    assert "query" not in counts
    rest = read_stream(open_salesforce(jwt_config(emu)), "accounts").records
    assert route_counts(emu)["bulk.create"] == 1  # bulk off: pages
    assert bulk == rest  # nulls for empty cells and the cast transforms: the same values, typed alike


def test_a_bulk_read_is_incremental_too(make_emulator: Callable[..., SalesforceEmulator], open_salesforce: Callable[..., Connector]) -> None:
    salesforce = open_salesforce(jwt_config(make_emulator(), bulk=True))
    first = read_stream(salesforce, "contacts")
    assert first.records and first.state["cursor"]
    changed = first.records[2]["Id"]
    salesforce.call("update_record", {"type": "Contact", "id": changed, "fields": {"Title": "CFO"}})
    second = read_stream(salesforce, "contacts", first.state)
    assert [r["Id"] for r in second.records] == [changed] and second.records[0]["Title"] == "CFO"


def test_deleted_rows_come_through_query_all_jobs(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> None:
    plain = open_salesforce(jwt_config(emu))
    victim = read_stream(plain, "opportunities").records[0]["Id"]
    plain.call("delete_record", {"type": "Opportunity", "id": victim})
    records = read_stream(open_salesforce(jwt_config(emu, include_deleted=True, bulk=True)), "opportunities").records
    assert [r["Id"] for r in records if r["IsDeleted"] is True] == [victim]
    assert all(isinstance(r["Amount"], float | int | None) for r in records)
