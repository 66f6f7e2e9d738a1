"""Salesforce writes through the `salesforce` spec against the emulator: one record (create, update,
upsert by external id, delete) and many through sObject Collections, with an outcome per record."""

from __future__ import annotations

import pytest
from salesforce_connector_support import control, route_counts

from connector_core.engine.connector import Connector
from connector_core.errors import FatalHTTPError
from connectors.crm.salesforce_emulator import SalesforceEmulator


def stored(emu: SalesforceEmulator, record_id: str) -> dict[str, object]:
    return next(r for r in emu.records("Account", include_deleted=True) if r["Id"] == record_id)


def test_create_update_and_delete_one_record(salesforce: Connector, emu: SalesforceEmulator) -> None:
    created = salesforce.call("create_record", {"type": "Account", "fields": {"Name": "Acme Ltd", "CurrencyIsoCode": "GBP"}})
    new_id = str(created["id"])
    assert created["status"] == 201 and len(new_id) == 18
    updated = salesforce.call("update_record", {"type": "Account", "id": new_id[:15], "fields": {"BillingCity": "Leeds"}})
    assert updated["status"] == 204 and updated["output"] == {"id": new_id}  # the 15-character id is the same record
    assert stored(emu, new_id)["BillingCity"] == "Leeds"
    salesforce.call("delete_record", {"type": "Account", "id": new_id})
    assert stored(emu, new_id)["IsDeleted"] is True


def test_upsert_by_external_id_creates_once_then_updates(salesforce: Connector, emu: SalesforceEmulator) -> None:
    payload = {"type": "Account", "external_id_field": "NetSuite_Id__c", "external_id": "CUST 7",
               "fields": {"Name": "Globex", "CurrencyIsoCode": "USD", "NetSuite_Id__c": "CUST 7"}}
    first = salesforce.call("upsert_record", payload)
    assert first["status"] == 201 and first["body"]["created"] is True
    second = salesforce.call("upsert_record", {**payload, "fields": {**payload["fields"], "Phone": "+1 555 0100"}})
    assert second["status"] == 200 and second["body"]["created"] is False and second["id"] == first["id"]
    matches = [r for r in emu.records("Account") if r.get("NetSuite_Id__c") == "CUST 7"]
    assert len(matches) == 1 and matches[0]["Phone"] == "+1 555 0100"


def test_an_external_id_held_by_two_records_is_reported_not_guessed(salesforce: Connector, emu: SalesforceEmulator) -> None:
    twins = [control(emu, "POST", "/records/Account", {"Name": f"Twin {n}", "CurrencyIsoCode": "USD", "NetSuite_Id__c": "DUP-1"})["Id"] for n in (1, 2)]
    with pytest.raises(FatalHTTPError) as caught:
        salesforce.call("upsert_record", {"type": "Account", "external_id_field": "NetSuite_Id__c", "external_id": "DUP-1", "fields": {"Name": "Which?"}})
    message = str(caught.value)
    assert caught.value.status == 300 and "found 2 records holding this external id" in message
    assert all(twin in message for twin in twins) and "make the field Unique" in message
    assert {r["Name"] for r in emu.records("Account") if r.get("NetSuite_Id__c") == "DUP-1"} == {"Twin 1", "Twin 2"}


def test_create_records_in_collections_of_200_with_an_outcome_each(salesforce: Connector, emu: SalesforceEmulator) -> None:
    records: list[dict[str, object]] = [{"Name": f"Bulk {n}", "CurrencyIsoCode": "EUR"} for n in range(450)]
    records[201] = {"CurrencyIsoCode": "EUR"}  # no Name: this one alone is refused
    result = salesforce.call("create_records", {"type": "Account", "records": records})
    assert result["requests"] == 3 and route_counts(emu)["composite.create"] == 3
    outcomes = result["records"]
    assert [o["index"] for o in outcomes] == list(range(450))
    refused = [o for o in outcomes if not o["ok"]]
    assert [o["index"] for o in refused] == [201]
    assert refused[0]["message"].startswith("REQUIRED_FIELD_MISSING: ") and "(fields: Name)" in refused[0]["message"]
    ids = [o["result"]["id"] for o in outcomes if o["ok"]]
    assert len(set(ids)) == 449
    assert {r["Name"] for r in emu.records("Account") if r["Id"] in set(ids)} == {f"Bulk {n}" for n in range(450) if n != 201}
    assert emu.stats.snapshot()["by_error_code"].get("EXCEEDED_ID_LIMIT") is None


def test_update_and_delete_records_by_15_or_18_character_ids(salesforce: Connector, emu: SalesforceEmulator) -> None:
    ids = [str(r["Id"]) for r in emu.records("Account")[:3]]
    update = salesforce.call("update_records", {"type": "Account", "records": [
        {"Id": ids[0][:15], "BillingCity": "Oslo"}, {"Id": ids[1], "BillingCity": "Rome"}, {"Id": ids[2], "NumberOfEmployees": "many"}]})
    assert [o["ok"] for o in update["records"]] == [True, True, False]
    assert update["records"][0]["result"]["id"] == ids[0]
    assert stored(emu, ids[0])["BillingCity"] == "Oslo" and stored(emu, ids[1])["BillingCity"] == "Rome"
    deleted = salesforce.call("delete_records", {"records": [{"Id": ids[0][:15]}, {"Id": ids[1]}]})
    assert [o["ok"] for o in deleted["records"]] == [True, True]
    assert stored(emu, ids[0])["IsDeleted"] is True and stored(emu, ids[1])["IsDeleted"] is True


def test_upsert_records_reports_created_updated_and_duplicates_per_record(salesforce: Connector, emu: SalesforceEmulator) -> None:
    control(emu, "POST", "/records/Account", [{"Name": f"Held {n}", "CurrencyIsoCode": "USD", "NetSuite_Id__c": "HELD"} for n in (1, 2)])
    existing = salesforce.call("upsert_record", {"type": "Account", "external_id_field": "NetSuite_Id__c", "external_id": "OLD-1",
                                                 "fields": {"Name": "Old", "CurrencyIsoCode": "USD"}})
    result = salesforce.call("upsert_records", {"type": "Account", "external_id_field": "NetSuite_Id__c", "records": [
        {"NetSuite_Id__c": "NEW-1", "Name": "New", "CurrencyIsoCode": "USD"},
        {"NetSuite_Id__c": "OLD-1", "Name": "Old, renamed"},
        {"NetSuite_Id__c": "HELD", "Name": "Ambiguous"},
        {"NetSuite_Id__c": "TWICE", "Name": "Twice A", "CurrencyIsoCode": "USD"},
        {"NetSuite_Id__c": "TWICE", "Name": "Twice B", "CurrencyIsoCode": "USD"},
    ]})
    outcomes = result["records"]
    assert outcomes[0]["ok"] and outcomes[0]["result"]["created"] is True
    assert outcomes[1]["ok"] and outcomes[1]["result"]["created"] is False and outcomes[1]["result"]["id"] == existing["id"]
    assert not outcomes[2]["ok"] and outcomes[2]["message"].startswith("MULTIPLE_CHOICES")
    assert [o["ok"] for o in outcomes[3:]] == [False, False]
    assert all(o["message"].startswith("DUPLICATE_EXTERNAL_ID") for o in outcomes[3:])
    assert not [r for r in emu.records("Account") if r.get("NetSuite_Id__c") == "TWICE"]
