"""Bulk API 2.0 or query pages, chosen per read: by `bulk`, or by a `SELECT COUNT()` above `bulk_above`,
against the emulator."""

from __future__ import annotations

from collections.abc import Callable

from salesforce_connector_support import jwt_config, route_counts

from connector_core.engine.connector import Connector
from connector_core.sync.records import record_hash
from connector_core.testing import read_stream
from connectors.crm.salesforce_emulator import SalesforceEmulator


def test_a_read_above_the_threshold_goes_through_a_job(make_emulator: Callable[..., SalesforceEmulator], open_salesforce: Callable[..., Connector]) -> None:
    emu = make_emulator(accounts=45)
    records = read_stream(open_salesforce(jwt_config(emu, bulk_above=40)), "accounts").records
    assert len(records) == 45
    counts = route_counts(emu)
    assert counts["query"] == 1  # the SELECT COUNT(), then the job
    assert counts["bulk.create"] == 1


def test_a_read_at_or_below_the_threshold_reads_query_pages(
    make_emulator: Callable[..., SalesforceEmulator], open_salesforce: Callable[..., Connector]
) -> None:
    emu = make_emulator(accounts=45)
    connector = open_salesforce(jwt_config(emu, bulk_above=45))
    first = read_stream(connector, "accounts")
    assert len(first.records) == 45
    counts = route_counts(emu)
    assert counts["query"] == 2 and "bulk.create" not in counts  # the count, then one page of records


def test_the_count_follows_the_incremental_range(make_emulator: Callable[..., SalesforceEmulator], open_salesforce: Callable[..., Connector]) -> None:
    emu = make_emulator(contacts=30)
    connector = open_salesforce(jwt_config(emu, bulk_above=10))
    first = read_stream(connector, "contacts")  # 30 rows: a job
    changed = first.records[0]["Id"]
    connector.call("update_record", {"type": "Contact", "id": changed, "fields": {"Title": "CFO"}})
    second = read_stream(connector, "contacts", first.state)  # the minute's overlap and one change: pages
    assert changed in [r["Id"] for r in second.records]
    counts = route_counts(emu)
    assert counts["bulk.create"] == 1
    assert counts["query"] == 3  # two counts and the second read's page


def test_without_bulk_above_nothing_is_counted(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> None:
    read_stream(open_salesforce(jwt_config(emu)), "opportunities")
    assert route_counts(emu)["query"] == 1


def test_bulk_wins_over_the_count(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> None:
    read_stream(open_salesforce(jwt_config(emu, bulk=True, bulk_above=1000)), "opportunity_line_items")
    counts = route_counts(emu)
    assert counts["bulk.create"] == 1 and "query" not in counts  # no count asked for: bulk is chosen outright


def test_a_run_that_flips_from_pages_to_a_job_hashes_every_record_alike(
    make_emulator: Callable[..., SalesforceEmulator], open_salesforce: Callable[..., Connector]
) -> None:
    emu = make_emulator(accounts=45)
    fields = ["Name", "AnnualRevenue", "NumberOfEmployees", "Paid_Revenue__c", "Key_Account__c", "LastModifiedDate"]
    paged = read_stream(open_salesforce(jwt_config(emu, account_fields=fields, bulk_above=100)), "accounts").records
    jobbed = read_stream(open_salesforce(jwt_config(emu, account_fields=fields, bulk_above=40)), "accounts").records
    assert route_counts(emu)["bulk.create"] == 1  # the first run read pages, the second a job
    # the digest a sync keeps per record: equal digests mean nothing is written again
    assert {r["Id"]: record_hash(r) for r in jobbed} == {r["Id"]: record_hash(r) for r in paged}
