"""Property definitions API."""

from __future__ import annotations

from hubspot_emulator_support import Client

BASE = {"label": "L", "type": "string", "fieldType": "text", "groupName": "companyinformation"}


def test_standard_properties_seeded(client: Client) -> None:
    for otype, names in {
        "companies": {"name", "domain", "industry", "city", "country", "phone", "annualrevenue",
                      "hs_lastmodifieddate", "createdate", "hs_object_id"},
        "contacts": {"email", "firstname", "lastname", "lastmodifieddate"},
        "deals": {"dealname", "amount", "dealstage", "pipeline", "closedate", "hs_is_closed_won",
                  "hs_v2_date_entered_closedwon"},
    }.items():
        r = client.get(f"/crm/v3/properties/{otype}")
        assert r.status_code == 200
        got = {p["name"] for p in r.json()["results"]}
        assert names <= got, names - got
    amount = client.get("/crm/v3/properties/deals/amount").json()
    assert amount["type"] == "number" and amount["fieldType"] == "number"
    assert amount["modificationMetadata"]["readOnlyDefinition"] is True


def test_create_get_patch_delete(client: Client) -> None:
    r = client.post("/crm/v3/properties/companies", json={**BASE, "name": "ns_id", "hasUniqueValue": True})
    assert r.status_code == 201
    assert r.json()["hasUniqueValue"] is True
    assert client.get("/crm/v3/properties/companies/ns_id").json()["name"] == "ns_id"
    r = client.patch("/crm/v3/properties/companies/ns_id", json={"label": "NetSuite ID"})
    assert r.status_code == 200 and r.json()["label"] == "NetSuite ID"
    r = client.patch("/crm/v3/properties/companies/ns_id", json={"hasUniqueValue": False})
    assert r.status_code == 400
    client.post("/crm/v3/objects/companies", json={"properties": {"ns_id": "X"}})
    assert client.delete("/crm/v3/properties/companies/ns_id").status_code == 204
    assert client.get("/crm/v3/properties/companies/ns_id").status_code == 404
    r = client.post("/crm/v3/objects/companies", json={"properties": {"ns_id": "Y"}})
    assert r.status_code == 400
    assert client.delete("/crm/v3/properties/companies/name").status_code == 400


def test_create_validation(client: Client) -> None:
    r = client.post("/crm/v3/properties/companies", json={"name": "x1", "label": "X"})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    r = client.post("/crm/v3/properties/companies", json={**BASE, "name": "x2", "type": "enumeration",
                                                          "fieldType": "select"})
    assert r.status_code == 400
    r = client.post("/crm/v3/properties/companies", json={**BASE, "name": "x3", "type": "enumeration",
                                                          "fieldType": "select",
                                                          "options": [{"label": "A", "value": "a"}]})
    assert r.status_code == 201
    ok = client.post("/crm/v3/objects/companies", json={"properties": {"x3": "a"}})
    assert ok.status_code == 201
    bad = client.post("/crm/v3/objects/companies", json={"properties": {"x3": "b"}})
    assert bad.status_code == 400 and "INVALID_OPTION" in bad.json()["message"]


def test_duplicate_name_is_409(client: Client) -> None:
    assert client.post("/crm/v3/properties/companies", json={**BASE, "name": "dup"}).status_code == 201
    r = client.post("/crm/v3/properties/companies", json={**BASE, "name": "dup"})
    assert r.status_code == 409 and r.json()["category"] == "CONFLICT"
    r = client.post("/crm/v3/properties/companies", json={**BASE, "name": "domain"})
    assert r.status_code == 409


def test_at_most_ten_unique_properties(client: Client) -> None:
    for i in range(10):
        r = client.post("/crm/v3/properties/deals", json={**BASE, "groupName": "dealinformation",
                                                          "name": f"u{i}", "hasUniqueValue": True})
        assert r.status_code == 201, r.text
    r = client.post("/crm/v3/properties/deals", json={**BASE, "groupName": "dealinformation",
                                                      "name": "u10", "hasUniqueValue": True})
    assert r.status_code == 400
    r = client.post("/crm/v3/properties/deals", json={**BASE, "groupName": "dealinformation", "name": "plain"})
    assert r.status_code == 201


def test_groups(client: Client) -> None:
    names = {g["name"] for g in client.get("/crm/v3/properties/companies/groups").json()["results"]}
    assert "companyinformation" in names
    r = client.post("/crm/v3/properties/companies/groups", json={"name": "netsuite", "label": "NetSuite"})
    assert r.status_code == 201
    r = client.post("/crm/v3/properties/companies", json={**BASE, "name": "ns_x", "groupName": "netsuite"})
    assert r.status_code == 201
    r = client.post("/crm/v3/properties/companies", json={**BASE, "name": "ns_y", "groupName": "nope"})
    assert r.status_code == 400
