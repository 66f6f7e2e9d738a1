"""sObject resources: describe, create/read/update/delete, upsert by external id, validation, audit fields."""

from __future__ import annotations

from datetime import UTC, datetime

from salesforce_emulator_support import Org


def _error(reply: object) -> dict[str, object]:
    body = reply.json()  # type: ignore[attr-defined]
    assert isinstance(body, list) and len(body) == 1, body
    return body[0]  # type: ignore[no-any-return]


def test_describe_shows_types_picklists_flags_and_custom_fields(shared_org: Org) -> None:
    reply = shared_org.get("/sobjects/Account/describe")
    assert reply.status_code == 200
    body = reply.json()
    assert (body["name"], body["keyPrefix"], body["custom"]) == ("Account", "001", False)
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["Id"]["type"] == "id" and not fields["Id"]["updateable"]
    assert fields["Name"]["nillable"] is False and fields["Name"]["createable"] is True
    assert fields["NetSuite_Id__c"]["externalId"] is True and fields["NetSuite_Id__c"]["custom"] is True
    assert "Technology" in [p["value"] for p in fields["Industry"]["picklistValues"]]
    assert fields["SystemModstamp"]["type"] == "datetime" and not fields["SystemModstamp"]["updateable"]
    assert fields["OwnerId"]["referenceTo"] == ["User"] and fields["OwnerId"]["relationshipName"] == "Owner"
    custom = shared_org.get("/sobjects/NetSuite_Invoice__c/describe").json()
    assert custom["custom"] is True
    assert {"Account__c", "Total__c", "Due_Date__c"} <= {f["name"] for f in custom["fields"]}
    listing = shared_org.get("/sobjects").json()
    assert {"Account", "Contact", "Opportunity", "OpportunityLineItem", "User", "NetSuite_Invoice__c"} <= {
        s["name"] for s in listing["sobjects"]}


def test_create_read_update_delete_keep_audit_fields(org: Org) -> None:
    created = org.post("/sobjects/Account", {"Name": "Acme", "Industry": "Energy", "AnnualRevenue": 1200.5})
    assert created.status_code == 201
    body = created.json()
    assert body["success"] is True and body["errors"] == [] and len(body["id"]) == 18
    assert created.headers["Location"] == f"/services/data/v59.0/sobjects/Account/{body['id']}"
    first = org.get(f"/sobjects/Account/{body['id']}").json()
    assert first["Name"] == "Acme" and first["AnnualRevenue"] == 1200.5 and first["IsDeleted"] is False
    assert first["CreatedDate"] == first["SystemModstamp"]
    assert first["SystemModstamp"].endswith("+0000") and len(first["SystemModstamp"]) == 28

    org.emulator.advance_time(60)
    assert org.patch(f"/sobjects/Account/{body['id']}", {"Industry": "Retail"}).status_code == 204
    second = org.get(f"/sobjects/Account/{body['id']}", params={"fields": "Industry,SystemModstamp"}).json()
    assert second["Industry"] == "Retail" and second["SystemModstamp"] > first["SystemModstamp"]
    assert set(second) == {"attributes", "Industry", "SystemModstamp"}

    assert org.delete(f"/sobjects/Account/{body['id']}").status_code == 204
    gone = org.get(f"/sobjects/Account/{body['id']}")
    assert gone.status_code == 404 and _error(gone)["errorCode"] == "ENTITY_IS_DELETED"
    assert _error(org.delete(f"/sobjects/Account/{body['id']}"))["errorCode"] == "ENTITY_IS_DELETED"


def test_validation_errors_name_the_fields(org: Org) -> None:
    missing = _error(org.post("/sobjects/Opportunity", {"Name": "x"}))
    assert missing["errorCode"] == "REQUIRED_FIELD_MISSING" and missing["fields"] == ["StageName", "CloseDate"]
    unknown = _error(org.post("/sobjects/Account", {"Name": "x", "Colour__c": "red"}))
    assert unknown["errorCode"] == "INVALID_FIELD" and unknown["fields"] == ["Colour__c"]
    locked = _error(org.post("/sobjects/Account", {"Name": "x", "SystemModstamp": "2024-01-01T00:00:00Z"}))
    assert locked["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE" and locked["fields"] == ["SystemModstamp"]
    picklist = _error(org.post("/sobjects/Opportunity", {"Name": "x", "StageName": "Won-ish", "CloseDate": "2025-01-01"}))
    assert picklist["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    date = _error(org.post("/sobjects/Opportunity", {"Name": "x", "StageName": "Prospecting", "CloseDate": "01/02/2025"}))
    assert date["errorCode"] == "JSON_PARSER_ERROR" and date["fields"] == ["CloseDate"]
    reference = _error(org.post("/sobjects/Contact", {"LastName": "x", "AccountId": "001000000000000AAA"}))
    assert reference["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"
    unknown_type = org.post("/sobjects/Invoice", {"Name": "x"})
    assert unknown_type.status_code == 404 and _error(unknown_type)["errorCode"] == "NOT_FOUND"


def test_calculated_fields_follow_their_inputs(org: Org) -> None:
    opp = org.records("SELECT Id FROM Opportunity WHERE IsWon = false LIMIT 1")[0]["Id"]
    assert org.patch(f"/sobjects/Opportunity/{opp}", {"StageName": "Closed Won"}).status_code == 204
    won = org.get(f"/sobjects/Opportunity/{opp}").json()
    assert won["IsWon"] is True and won["IsClosed"] is True
    line = org.post("/sobjects/OpportunityLineItem", {"OpportunityId": opp, "Quantity": 3, "UnitPrice": 2.5,
                                                      "ProductCode": "ITEM-0001"}).json()["id"]
    assert org.get(f"/sobjects/OpportunityLineItem/{line}").json()["TotalPrice"] == 7.5


def test_upsert_by_external_id_creates_then_updates(org: Org) -> None:
    created = org.patch("/sobjects/Account/NetSuite_Id__c/NS-100", {"Name": "Upserted"})
    assert created.status_code == 201
    assert created.json()["created"] is True and created.json()["success"] is True
    updated = org.patch("/sobjects/Account/NetSuite_Id__c/NS-100", {"Name": "Renamed"})
    assert updated.status_code == 200
    assert updated.json() == {"id": created.json()["id"], "success": True, "errors": [], "created": False}
    read = org.get("/sobjects/Account/NetSuite_Id__c/NS-100").json()
    assert read["Name"] == "Renamed" and read["NetSuite_Id__c"] == "NS-100"


def test_upsert_with_duplicate_external_ids_is_300_with_the_candidates(org: Org) -> None:
    org.control("POST", "/records/Account", [{"Name": "A", "NetSuite_Id__c": "DUP"},
                                             {"Name": "B", "NetSuite_Id__c": "DUP"}])
    reply = org.patch("/sobjects/Account/NetSuite_Id__c/DUP", {"Name": "which?"})
    assert reply.status_code == 300
    urls = reply.json()
    assert len(urls) == 2 and all(u.startswith("/services/data/v59.0/sobjects/Account/001") for u in urls)
    names = sorted(r["Name"] for r in org.records("SELECT Name FROM Account WHERE NetSuite_Id__c = 'DUP'"))
    assert names == ["A", "B"]  # nothing was guessed


def test_upsert_errors(org: Org) -> None:
    not_external = org.patch("/sobjects/Account/Name/Acme", {"Industry": "Energy"})
    assert not_external.status_code == 400 and _error(not_external)["errorCode"] == "INVALID_FIELD"
    no_field = org.patch("/sobjects/Account/Nope__c/1", {"Name": "x"})
    assert no_field.status_code == 404 and _error(no_field)["errorCode"] == "NOT_FOUND"
    update_only = org.http.patch(f"{org.data}/sobjects/Account/NetSuite_Id__c/NEW?updateOnly=true", json={"Name": "x"})
    assert update_only.status_code == 404
    mismatch = org.patch("/sobjects/Account/NetSuite_Id__c/A1", {"Name": "x", "NetSuite_Id__c": "B2"})
    assert mismatch.status_code == 400


def test_a_malformed_id_reads_as_a_missing_external_id(org: Org) -> None:
    reply = org.get("/sobjects/Account/not-an-id")
    assert reply.status_code == 404 and _error(reply)["errorCode"] == "NOT_FOUND"


def test_updated_and_deleted_windows(org: Org) -> None:
    now = org.control("GET", "/time")["now"]
    org.emulator.advance_time(120)
    changed = org.post("/sobjects/Account", {"Name": "Recent"}).json()["id"]
    removed = org.records("SELECT Id FROM Account LIMIT 1")[0]["Id"]
    org.delete(f"/sobjects/Account/{removed}")
    org.emulator.advance_time(120)
    start = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    end = datetime.fromtimestamp(now + 600, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    updated = org.get("/sobjects/Account/updated", params={"start": start, "end": end}).json()
    assert updated["ids"] == [changed] and updated["latestDateCovered"].endswith(":00.000+0000")
    deleted = org.get("/sobjects/Account/deleted", params={"start": start, "end": end}).json()
    assert [d["id"] for d in deleted["deletedRecords"]] == [removed]
    bad = org.get("/sobjects/Account/updated", params={"start": "yesterday", "end": end})
    assert bad.status_code == 400 and _error(bad)["errorCode"] == "INVALID_REPLICATION_DATE"


def test_versions_are_listed_and_an_unknown_one_is_not_found(org: Org) -> None:
    versions = org.http.get(f"{org.url}/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    assert org.http.get(f"{org.url}/services/data/v12.0/limits").status_code == 404
    assert org.http.get(f"{org.url}/services/data/v59.0/").json()["query"] == "/services/data/v59.0/query"
