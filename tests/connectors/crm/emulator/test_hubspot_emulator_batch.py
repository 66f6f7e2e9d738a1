"""Batch endpoints: limits, partial failures (207), upsert, unique-value enforcement."""

from __future__ import annotations

from hubspot_emulator_support import Client

from connectors.crm.emulator import HubSpotEmulator


def _ids(client: Client, otype: str, n: int) -> list[str]:
    r = client.get(f"/crm/v3/objects/{otype}?limit={n}")
    return [o["id"] for o in r.json()["results"]]


def _unique_prop(client: Client, otype: str = "companies", name: str = "ns_id") -> None:
    group = {"companies": "companyinformation", "contacts": "contactinformation", "deals": "dealinformation"}[otype]
    r = client.post(f"/crm/v3/properties/{otype}", json={
        "name": name, "label": "NetSuite ID", "type": "string", "fieldType": "text",
        "groupName": group, "hasUniqueValue": True})
    assert r.status_code == 201, r.text


def test_more_than_100_inputs_is_400(client: Client) -> None:
    for op in ("read", "create", "update", "upsert", "archive"):
        r = client.post(f"/crm/v3/objects/contacts/batch/{op}", json={"inputs": [{"id": str(i)} for i in range(107)]})
        assert r.status_code == 400, op
        body = r.json()
        assert body["category"] == "VALIDATION_ERROR"
        assert body["message"].startswith("The maximum number of inputs supported in a batch is 100")
        assert "x-hubspot-ratelimit-remaining" in r.headers


def test_batch_read_partial_is_207(client: Client) -> None:
    ids = _ids(client, "companies", 3)
    r = client.post("/crm/v3/objects/companies/batch/read",
                    json={"properties": ["name"], "inputs": [{"id": i} for i in ids] + [{"id": "999"}, {"id": "x"}]})
    assert r.status_code == 207
    body = r.json()
    assert body["status"] == "COMPLETE"
    assert sorted(o["id"] for o in body["results"]) == sorted(ids)
    assert body["numErrors"] == 1
    err = body["errors"][0]
    assert err["status"] == "error" and err["category"] == "OBJECT_NOT_FOUND"
    assert err["message"].startswith("Could not get some COMPANY objects")
    assert err["context"] == {"ids": ["999", "x"]}
    assert "startedAt" in body and "completedAt" in body
    ok = client.post("/crm/v3/objects/companies/batch/read", json={"inputs": [{"id": ids[0]}]})
    assert ok.status_code == 200 and "errors" not in ok.json()


def test_batch_read_by_id_property_and_history_cap(client: Client) -> None:
    r = client.post("/crm/v3/objects/contacts/batch/create", json={"inputs": [
        {"properties": {"email": "a1@x.test"}}, {"properties": {"email": "a2@x.test"}}]})
    assert r.status_code == 201
    r = client.post("/crm/v3/objects/contacts/batch/read", json={
        "idProperty": "email", "properties": ["email"], "inputs": [{"id": "a1@x.test"}, {"id": "a2@x.test"}]})
    assert r.status_code == 200
    assert {o["properties"]["email"] for o in r.json()["results"]} == {"a1@x.test", "a2@x.test"}
    r = client.post("/crm/v3/objects/contacts/batch/read", json={
        "propertiesWithHistory": ["email"], "inputs": [{"id": str(i)} for i in range(51)]})
    assert r.status_code == 400 and "50" in r.json()["message"]


def test_batch_create_and_invalid_input_fails_whole_call(emu: HubSpotEmulator, client: Client) -> None:
    before = emu.count("companies")
    r = client.post("/crm/v3/objects/companies/batch/create", json={"inputs": [
        {"properties": {"name": "B1"}}, {"properties": {"name": "B2", "bogus": "1"}}]})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    assert emu.count("companies") == before
    r = client.post("/crm/v3/objects/companies/batch/create", json={"inputs": [
        {"properties": {"name": "B1"}}, {"properties": {"name": "B2"}}]})
    assert r.status_code == 201
    assert [o["properties"]["name"] for o in r.json()["results"]] == ["B1", "B2"]
    assert emu.count("companies") == before + 2


def test_batch_create_known_contact_email_is_one_409(emu: HubSpotEmulator, client: Client) -> None:
    existing = client.get("/crm/v3/objects/contacts?limit=2").json()["results"]
    before = emu.count("contacts")
    r = client.post("/crm/v3/objects/contacts/batch/create", json={"inputs": [
        {"properties": {"email": "fresh@x.test"}},
        {"properties": {"email": existing[0]["properties"]["email"]}},
        {"properties": {"email": existing[1]["properties"]["email"]}}]})
    assert r.status_code == 409
    assert r.json()["message"] == f"Contact already exists. Existing ID: {existing[0]['id']}"
    assert emu.count("contacts") == before


def test_batch_update_partial_failure_is_207(client: Client) -> None:
    ids = _ids(client, "deals", 2)
    r = client.post("/crm/v3/objects/deals/batch/update", json={"inputs": [
        {"id": ids[0], "properties": {"amount": "111"}},
        {"id": "424242", "properties": {"amount": "1"}},
        {"id": ids[1], "properties": {"amount": "222"}}]})
    assert r.status_code == 207
    body = r.json()
    assert {o["properties"]["amount"] for o in body["results"]} == {"111", "222"}
    assert body["numErrors"] == 1 and body["errors"][0]["context"] == {"ids": ["424242"]}
    dup = client.post("/crm/v3/objects/deals/batch/update", json={"inputs": [
        {"id": ids[0], "properties": {}}, {"id": ids[0], "properties": {}}]})
    assert dup.status_code == 400 and "Duplicate IDs" in dup.json()["message"]


def test_batch_upsert_marks_new_records(client: Client) -> None:
    _unique_prop(client)
    body = {"inputs": [{"idProperty": "ns_id", "id": "C-1", "properties": {"name": "One"}},
                       {"idProperty": "ns_id", "id": "C-2", "properties": {"name": "Two"}}]}
    r = client.post("/crm/v3/objects/companies/batch/upsert", json=body)
    assert r.status_code == 200, r.text
    first = {o["properties"]["ns_id"]: o for o in r.json()["results"]}
    assert all(o["new"] is True for o in first.values())
    body["inputs"][0]["properties"] = {"name": "One v2"}
    body["inputs"].append({"idProperty": "ns_id", "id": "C-3", "properties": {"name": "Three"}})
    r = client.post("/crm/v3/objects/companies/batch/upsert", json=body)
    assert r.status_code == 200
    second = {o["properties"]["ns_id"]: o for o in r.json()["results"]}
    assert second["C-1"]["new"] is False and second["C-1"]["id"] == first["C-1"]["id"]
    assert second["C-1"]["properties"]["name"] == "One v2"
    assert second["C-3"]["new"] is True
    r = client.post("/crm/v3/objects/companies/batch/upsert",
                    json={"inputs": [{"idProperty": "name", "id": "x", "properties": {}}]})
    assert r.status_code == 400


def test_contact_upsert_by_email(client: Client) -> None:
    r = client.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": [
        {"idProperty": "email", "id": "up@x.test", "properties": {"firstname": "Up"}}]})
    assert r.status_code == 200 and r.json()["results"][0]["new"] is True
    r = client.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": [
        {"idProperty": "email", "id": "up@x.test", "properties": {"firstname": "Again"}}]})
    assert r.json()["results"][0]["new"] is False
    assert r.json()["results"][0]["properties"]["firstname"] == "Again"


def test_unique_value_enforcement(client: Client) -> None:
    _unique_prop(client)
    r = client.post("/crm/v3/objects/companies", json={"properties": {"name": "A", "ns_id": "N-1"}})
    assert r.status_code == 201
    first_id = r.json()["id"]
    r = client.post("/crm/v3/objects/companies", json={"properties": {"name": "B", "ns_id": "N-1"}})
    assert r.status_code == 409 and r.json()["category"] == "CONFLICT"
    assert first_id in r.json()["message"]
    r = client.post("/crm/v3/objects/companies/batch/create", json={"inputs": [
        {"properties": {"name": "C", "ns_id": "N-2"}},
        {"properties": {"name": "D", "ns_id": "N-1"}},
        {"properties": {"name": "E", "ns_id": "N-2"}}]})
    assert r.status_code == 207
    body = r.json()
    assert [o["properties"]["name"] for o in body["results"]] == ["C"]
    assert body["numErrors"] == 2
    assert all(e["category"] == "CONFLICT" and e["status"] == "error" and "context" in e for e in body["errors"])
    # updating another record to a taken value fails; re-saving its own value is fine
    other = client.post("/crm/v3/objects/companies", json={"properties": {"name": "F"}}).json()["id"]
    r = client.patch(f"/crm/v3/objects/companies/{other}", json={"properties": {"ns_id": "N-1"}})
    assert r.status_code == 409
    r = client.patch(f"/crm/v3/objects/companies/{first_id}", json={"properties": {"ns_id": "N-1"}})
    assert r.status_code == 200
    # the value frees up when its holder is archived
    client.delete(f"/crm/v3/objects/companies/{first_id}")
    assert client.patch(f"/crm/v3/objects/companies/{other}", json={"properties": {"ns_id": "N-1"}}).status_code == 200
    # lookups by the unique property
    r = client.get("/crm/v3/objects/companies/N-1?idProperty=ns_id")
    assert r.status_code == 200 and r.json()["id"] == other


def test_unique_conflict_status_is_configurable(make_emulator) -> None:
    emu = make_emulator(unique_conflict_status=400)
    c = Client(emu.url or "", emu.token)
    _unique_prop(c)
    assert c.post("/crm/v3/objects/companies", json={"properties": {"ns_id": "1"}}).status_code == 201
    r = c.post("/crm/v3/objects/companies", json={"properties": {"ns_id": "1"}})
    assert r.status_code == 400 and "already has that value" in r.json()["message"]


def test_batch_archive_is_204(emu: HubSpotEmulator, client: Client) -> None:
    ids = _ids(client, "contacts", 3)
    before = emu.count("contacts")
    r = client.post("/crm/v3/objects/contacts/batch/archive", json={"inputs": [{"id": i} for i in ids] + [{"id": "1"}]})
    assert r.status_code == 204
    assert emu.count("contacts") == before - 3
    assert emu.count("contacts", archived=True) == 3
