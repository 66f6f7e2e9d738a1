"""The *_bulk streams: Bulk API 2.0 query jobs (create, poll, CSV results paged by Sforce-Locator) through
the engine's export jobs, against the emulator's jobs."""

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
    connector = open_salesforce(jwt_config(emu, bulk_page_size=20))
    bulk = read_stream(connector, "accounts_bulk").records
    rest = read_stream(connector, "accounts").records
    assert [r["Id"] for r in bulk] == [r["Id"] for r in rest]
    counts = route_counts(emu)
    assert counts["bulk.create"] == 1 and counts["bulk.results"] == 3  # 20 + 20 + 5, chained by Sforce-Locator
    assert counts["bulk.status"] >= 2  # polled until JobComplete
    by_id = {r["Id"]: r for r in rest}
    for record in bulk:  # CSV gives text: the same values, numbers and nulls as text
        assert record["Name"] == by_id[record["Id"]]["Name"]
        assert record["BillingStreet"] == (by_id[record["Id"]]["BillingStreet"] or "")


def test_a_bulk_read_is_incremental_too(salesforce: Connector) -> None:
    first = read_stream(salesforce, "contacts_bulk")
    assert first.records and first.state["cursor"]
    changed = first.records[2]["Id"]
    salesforce.call("update_record", {"type": "Contact", "id": changed, "fields": {"Title": "CFO"}})
    second = read_stream(salesforce, "contacts_bulk", first.state)
    assert [r["Id"] for r in second.records] == [changed] and second.records[0]["Title"] == "CFO"


def test_deleted_rows_come_through_query_all_jobs(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> None:
    plain = open_salesforce(jwt_config(emu))
    victim = read_stream(plain, "opportunities").records[0]["Id"]
    plain.call("delete_record", {"type": "Opportunity", "id": victim})
    records = read_stream(open_salesforce(jwt_config(emu, include_deleted=True)), "opportunities_bulk").records
    assert [r["Id"] for r in records if r["IsDeleted"] == "true"] == [victim]
