"""sObject Collections: up to 200 records a call, per-record outcomes, all-or-none rollback."""

from __future__ import annotations

from typing import Any

from salesforce_emulator_support import Org


def _account(name: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Account"}, "Name": name, **fields}


def test_create_reports_each_record_in_order(org: Org) -> None:
    reply = org.post("/composite/sobjects", {"allOrNone": False, "records": [
        _account("One"), {"attributes": {"type": "Account"}, "Industry": "Energy"}, _account("Three")]})
    assert reply.status_code == 200
    one, bad, three = reply.json()
    assert one["success"] is True and one["errors"] == [] and one["id"].startswith("001")
    assert bad == {"success": False, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING",
                                                 "message": "Required fields are missing: [Name]",
                                                 "fields": ["Name"]}]}
    assert three["success"] is True
    names = {r["Name"] for r in org.records("SELECT Name FROM Account WHERE Name IN ('One', 'Three')")}
    assert names == {"One", "Three"}


def test_all_or_none_rolls_every_record_back(org: Org) -> None:
    before = org.query("SELECT COUNT() FROM Account").json()["totalSize"]
    reply = org.post("/composite/sobjects", {"allOrNone": True, "records": [
        _account("Kept?"), _account("Bad", Sync_Status__c="Nonsense"), _account("Never")]})
    results = reply.json()
    assert [r["success"] for r in results] == [False, False, False]
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert "id" not in results[0]
    assert results[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert results[1]["errors"][0]["fields"] == ["Sync_Status__c"]
    assert org.query("SELECT COUNT() FROM Account").json()["totalSize"] == before


def test_more_than_200_records_is_refused_whole(org: Org) -> None:
    reply = org.post("/composite/sobjects", {"records": [_account(f"A{i}") for i in range(201)]})
    assert reply.status_code == 400
    assert reply.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    ids = ",".join(["001000000000000AAA"] * 201)
    assert org.delete("/composite/sobjects", params={"ids": ids}).status_code == 400


def test_update_and_delete_by_ids(org: Org) -> None:
    ids = [r["Id"] for r in org.records("SELECT Id FROM Account ORDER BY Id LIMIT 2")]
    updated = org.patch("/composite/sobjects", {"records": [
        {"attributes": {"type": "Account"}, "Id": ids[0], "Industry": "Energy"},
        {"attributes": {"type": "Account"}, "Id": "001000000000000AAA", "Industry": "Energy"}]}).json()
    assert updated[0] == {"id": ids[0], "success": True, "errors": []}
    assert updated[1]["success"] is False and updated[1]["id"] == "001000000000000AAA"
    deleted = org.delete("/composite/sobjects", params={"ids": ",".join(ids), "allOrNone": "false"}).json()
    assert [d["success"] for d in deleted] == [True, True]
    assert org.records(f"SELECT Id FROM Account WHERE Id IN ('{ids[0]}', '{ids[1]}')") == []


def test_upsert_by_external_id_reports_created_and_refuses_repeats(org: Org) -> None:
    org.post("/sobjects/Account", {"Name": "Old", "NetSuite_Id__c": "E1"})
    reply = org.patch("/composite/sobjects/Account/NetSuite_Id__c", {"allOrNone": False, "records": [
        _account("Updated", NetSuite_Id__c="E1"), _account("New", NetSuite_Id__c="E2"),
        _account("Twice", NetSuite_Id__c="E3"), _account("Twice again", NetSuite_Id__c="E3")]})
    first, second, third, fourth = reply.json()
    assert (first["success"], first["created"], second["success"], second["created"]) == (True, False, True, True)
    assert third["errors"][0]["statusCode"] == fourth["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    names = {r["NetSuite_Id__c"]: r["Name"] for r in org.records(
        "SELECT Name, NetSuite_Id__c FROM Account WHERE NetSuite_Id__c != null")}
    assert names == {"E1": "Updated", "E2": "New"}


def test_retrieve_gives_null_for_missing_ids(org: Org) -> None:
    account = org.records("SELECT Id, Name FROM Account LIMIT 1")[0]
    reply = org.get("/composite/sobjects/Account", params={"ids": f"{account['Id']},001000000000000AAA",
                                                           "fields": "Name"}).json()
    assert reply[0]["Name"] == account["Name"] and reply[1] is None
