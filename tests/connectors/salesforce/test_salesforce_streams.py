"""Salesforce streams read through the `salesforce` spec against the emulator over loopback HTTP: SOQL
pages, incremental reads on SystemModstamp with exact boundaries, deleted rows, schemas from describe,
and SOQL values that cannot change a query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from salesforce_connector_support import control, jwt_config, route_counts

from connector_core.engine.connector import Connector
from connector_core.engine.interpolation import parse_datetime
from connector_core.errors import ConnectorError
from connector_core.testing import read_stream
from connectors.crm.salesforce_emulator import SalesforceEmulator

STREAMS = [
    "accounts", "contacts", "opportunities", "won_opportunities", "opportunity_line_items", "users",
    "object_types", "schema_objects", "object_schemas",
]  # fmt: skip


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def plant_account(emu: SalesforceEmulator, name: str, modstamp: dt.datetime, **fields: object) -> str:
    created = control(emu, "POST", "/records/Account", {"Name": name, "CurrencyIsoCode": "USD", "SystemModstamp": stamp(modstamp), **fields})
    return str(created["Id"])


@pytest.mark.parametrize("stream", STREAMS)
def test_every_stream_reads_records_with_their_primary_key(salesforce: Connector, stream: str) -> None:
    records = read_stream(salesforce, stream).records
    assert records
    key = salesforce.spec.streams[stream].primary_key
    assert isinstance(key, str)
    identities = [record[key] for record in records]
    assert len(identities) == len(set(identities))
    assert all("attributes" not in record for record in records)


def test_record_streams_read_every_record_of_their_type(salesforce: Connector, emu: SalesforceEmulator) -> None:
    for stream, kind in [("accounts", "Account"), ("contacts", "Contact"), ("opportunities", "Opportunity"),
                         ("opportunity_line_items", "OpportunityLineItem"), ("users", "User")]:
        read = {r["Id"] for r in read_stream(salesforce, stream).records}
        assert read == {r["Id"] for r in emu.records(kind)}, stream
    won = read_stream(salesforce, "won_opportunities").records
    assert won and all(r["IsWon"] and r["StageName"] == "Closed Won" for r in won)


def test_pages_follow_next_records_url_until_done(
    make_emulator: Callable[..., SalesforceEmulator], open_salesforce: Callable[..., Connector]
) -> None:
    emu = make_emulator(accounts=450, max_page_size=200)
    records = read_stream(open_salesforce(jwt_config(emu)), "accounts").records
    assert len(records) == len({r["Id"] for r in records}) == 450
    counts = route_counts(emu)
    assert counts["query"] == 1 and counts["query.next"] == 2  # 200 + 200 + 50


def test_second_incremental_run_reads_only_what_changed(salesforce: Connector) -> None:
    first = read_stream(salesforce, "accounts")
    cursor = parse_datetime(first.state["cursor"])
    assert cursor == max(parse_datetime(r["SystemModstamp"]) for r in first.records)
    changed = first.records[7]["Id"]
    salesforce.call("update_record", {"type": "Account", "id": changed, "fields": {"BillingCity": "Lyon"}})
    second = read_stream(salesforce, "accounts", first.state)
    assert [r["Id"] for r in second.records] == [changed]
    assert second.records[0]["BillingCity"] == "Lyon"
    assert read_stream(salesforce, "accounts", second.state).records == []


def test_records_at_the_saved_cursor_are_neither_lost_nor_read_twice(salesforce: Connector, emu: SalesforceEmulator) -> None:
    """Three records share one SystemModstamp (milliseconds included); the third is committed after a
    run read the first two, as a slow transaction would be. One more arrives with an earlier stamp."""
    moment = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).replace(microsecond=500_000)
    a = plant_account(emu, "Equal A", moment)
    b = plant_account(emu, "Equal B", moment)
    first = read_stream(salesforce, "accounts")
    assert {a, b} <= {r["Id"] for r in first.records}
    assert parse_datetime(first.state["cursor"]) == moment
    c = plant_account(emu, "Equal C", moment)
    late = plant_account(emu, "Committed late", moment - dt.timedelta(milliseconds=200))
    second = read_stream(salesforce, "accounts", first.state)
    assert sorted(r["Id"] for r in second.records) == sorted([c, late])
    assert read_stream(salesforce, "accounts", second.state).records == []


def test_start_date_bounds_the_first_run(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> None:
    everything = read_stream(open_salesforce(jwt_config(emu)), "contacts").records
    times = sorted(parse_datetime(r["SystemModstamp"]) for r in everything)
    start = times[len(times) // 2]
    recent = read_stream(open_salesforce(jwt_config(emu, start_date=start.isoformat())), "contacts").records
    assert {r["Id"] for r in recent} == {r["Id"] for r in everything if parse_datetime(r["SystemModstamp"]) >= start}


def test_deleted_records_come_through_query_all_when_asked(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> None:
    plain = open_salesforce(jwt_config(emu))
    victim = read_stream(plain, "accounts").records[3]["Id"]
    plain.call("delete_record", {"type": "Account", "id": victim[:15]})  # a 15-character id names it too
    assert victim not in {r["Id"] for r in read_stream(plain, "accounts").records}
    with_deleted = read_stream(open_salesforce(jwt_config(emu, include_deleted=True)), "accounts").records
    deleted = [r for r in with_deleted if r["IsDeleted"]]
    assert [r["Id"] for r in deleted] == [victim]
    assert route_counts(emu)["queryAll"] == 1


def test_object_schemas_come_from_describe_with_custom_objects_and_fields(salesforce: Connector) -> None:
    schemas = {r["name"]: r for r in read_stream(salesforce, "object_schemas").records}
    assert {"Account", "Contact", "Opportunity", "OpportunityLineItem", "User", "NetSuite_Invoice__c"} <= set(schemas)
    assert schemas["NetSuite_Invoice__c"]["custom"] is True
    opportunity = schemas["Opportunity"]["json_schema"]
    stage = opportunity["properties"]["StageName"]
    assert "Closed Won" in stage["enum"] and stage["type"] == "string"  # restricted picklist, not nillable
    assert {"Name", "StageName", "CloseDate"} <= set(opportunity["required"])
    assert opportunity["properties"]["IsWon"]["readOnly"] is True
    assert opportunity["properties"]["Amount"]["type"] == ["number", "null"]
    assert opportunity["properties"]["CloseDate"]["format"] == "date"
    account = schemas["Account"]
    assert "NetSuite_Id__c" in account["external_id_fields"]
    ext = account["json_schema"]["properties"]["NetSuite_Id__c"]
    assert ext["x-salesforce"]["externalId"] is True and ext["x-salesforce"]["custom"] is True and ext["maxLength"] == 40
    industry = account["json_schema"]["properties"]["Industry"]
    assert "enum" not in industry and "Banking" in industry["examples"]  # an open picklist lists, never restricts
    assert account["json_schema"]["properties"]["SystemModstamp"]["x-salesforce"]["updateable"] is False


def test_values_are_escaped_by_soql_rules(salesforce: Connector, emu: SalesforceEmulator) -> None:
    tricky = "O'Brien \\ 50%_\"x\"\nline"
    wanted = plant_account(emu, "Tricky", dt.datetime(2024, 6, 1, tzinfo=dt.UTC), NetSuite_Id__c=tricky[:40])
    found = salesforce.call("find_by_external_id", {"type": "Account", "field": "NetSuite_Id__c", "value": tricky[:40]})
    assert [r["Id"] for r in found["output"]] == [wanted]
    injected = salesforce.call("find_by_external_id", {"type": "Account", "field": "NetSuite_Id__c", "value": "x' OR Name != '"})
    assert injected["output"] == []
    assert emu.stats.snapshot()["by_error_code"] == {}


def test_names_that_are_not_api_names_never_reach_a_query(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> None:
    connector = open_salesforce(jwt_config(emu, account_fields=["Name FROM User WHERE Name != null --"]))
    with pytest.raises(ConnectorError) as caught:
        list(connector.read("accounts"))
    assert "is not a Salesforce field name" in str(caught.value)
    assert route_counts(emu).get("query", 0) == 0
