"""Single-record object API: list, get, create, update, archive, shapes and errors."""

from __future__ import annotations

import json
import re

from hubspot_emulator_support import Client

from connectors.crm.emulator import HubSpotEmulator

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _create(client: Client, otype: str, props: dict, **kw) -> dict:
    r = client.post(f"/crm/v3/objects/{otype}", json={"properties": props, **kw})
    assert r.status_code == 201, r.text
    return r.json()


def test_create_returns_hubspot_shape(client: Client) -> None:
    obj = _create(client, "companies", {"name": "Acme", "domain": "acme.test", "annualrevenue": 1500.0,
                                        "numberofemployees": 12})
    assert set(obj) >= {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert obj["archived"] is False
    props = obj["properties"]
    assert props["hs_object_id"] == obj["id"]
    assert props["annualrevenue"] == "1500" and props["numberofemployees"] == "12"
    assert all(isinstance(v, str) for v in props.values())
    assert ISO_MS.match(props["createdate"]) and ISO_MS.match(props["hs_lastmodifieddate"])
    assert obj["createdAt"] == props["createdate"]
    assert obj["updatedAt"] == props["hs_lastmodifieddate"]


def test_get_by_id_with_properties_and_nulls(client: Client) -> None:
    obj = _create(client, "companies", {"name": "Acme"})
    r = client.get(f"/crm/v3/objects/companies/{obj['id']}?properties=name,city,not_a_prop")
    assert r.status_code == 200
    props = r.json()["properties"]
    assert props["name"] == "Acme"
    assert props["city"] is None
    assert "not_a_prop" not in props
    assert {"hs_object_id", "createdate", "hs_lastmodifieddate"} <= set(props)


def test_default_properties_when_none_requested(client: Client) -> None:
    r = client.get("/crm/v3/objects/contacts?limit=1")
    props = r.json()["results"][0]["properties"]
    assert set(props) == {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}


def test_get_missing_is_404_without_json_envelope(client: Client) -> None:
    for path in ("/crm/v3/objects/companies/1", "/crm/v3/objects/contacts/nobody@x.test?idProperty=email"):
        r = client.get(path)
        assert r.status_code == 404
        assert r.content == b""
        assert "json" not in r.headers.get("Content-Type", "")


def test_get_by_unique_id_property(client: Client) -> None:
    c = _create(client, "contacts", {"email": "Ada@Example.TEST", "firstname": "Ada"})
    assert c["properties"]["email"] == "ada@example.test"
    r = client.get("/crm/v3/objects/contacts/ada@example.test?idProperty=email")
    assert r.status_code == 200 and r.json()["id"] == c["id"]
    r = client.get("/crm/v3/objects/contacts/Ada?idProperty=firstname")
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"


def test_patch_updates_and_moves_modified_date(emu: HubSpotEmulator, client: Client) -> None:
    obj = _create(client, "deals", {"dealname": "D1", "amount": "10"})
    before = obj["properties"]["hs_lastmodifieddate"]
    emu.advance_time(5)
    r = client.patch(f"/crm/v3/objects/deals/{obj['id']}", json={"properties": {"amount": "20", "description": ""}})
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["properties"]["amount"] == "20"
    assert after["properties"]["hs_lastmodifieddate"] > before
    assert after["updatedAt"] == after["properties"]["hs_lastmodifieddate"]
    # contacts use lastmodifieddate
    c = _create(client, "contacts", {"email": "x@y.test"})
    emu.advance_time(1)
    r = client.patch(f"/crm/v3/objects/contacts/{c['id']}", json={"properties": {"firstname": "X"}})
    assert r.json()["properties"]["lastmodifieddate"] > c["properties"]["lastmodifieddate"]


def test_patch_missing_object_is_404_json(client: Client) -> None:
    r = client.patch("/crm/v3/objects/companies/abc", json={"properties": {"name": "x"}})
    assert r.status_code == 404
    body = r.json()
    assert body["status"] == "error"
    assert body["category"] == "OBJECT_NOT_FOUND"
    assert body["message"] == "Object not found.  objectId are usually numeric."
    assert body["context"] == {"id": ["abc"]}
    assert body["correlationId"]


def test_unknown_and_read_only_properties_are_rejected(client: Client) -> None:
    r = client.post("/crm/v3/objects/companies", json={"properties": {"name": "A", "ns_id": "1"}})
    assert r.status_code == 400
    body = r.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: ")
    items = json.loads(body["message"].split(": ", 1)[1])
    assert items[0]["error"] == "PROPERTY_DOESNT_EXIST" and items[0]["name"] == "ns_id"
    r = client.post("/crm/v3/objects/companies", json={"properties": {"hs_object_id": "5"}})
    assert r.status_code == 400 and "READ_ONLY_VALUE" in r.json()["message"]


def test_value_validation(client: Client) -> None:
    bad = [
        ("companies", {"annualrevenue": "lots"}, "INVALID_FLOAT"),
        ("companies", {"industry": "NOT_AN_INDUSTRY"}, "INVALID_OPTION"),
        ("deals", {"closedate": "yesterday"}, "INVALID_DATETIME"),
        ("deals", {"dealstage": "closedwon", "pipeline": "75318642"}, "INVALID_OPTION"),
    ]
    for otype, props, code in bad:
        r = client.post(f"/crm/v3/objects/{otype}", json={"properties": props})
        assert r.status_code == 400, (props, r.text)
        assert code in r.json()["message"], r.text
    # datetimes accept epoch ms and ISO, and read back as ISO with ms and Z
    d = _create(client, "deals", {"dealname": "x", "closedate": 1700000000000})
    assert d["properties"]["closedate"] == "2023-11-14T22:13:20.000Z"
    d = _create(client, "deals", {"dealname": "y", "closedate": "2024-02-01T10:00:00Z"})
    assert d["properties"]["closedate"] == "2024-02-01T10:00:00.000Z"


def test_date_property_must_be_midnight(client: Client) -> None:
    r = client.post("/crm/v3/properties/companies", json={
        "name": "renewal_date", "label": "Renewal", "type": "date", "fieldType": "date",
        "groupName": "companyinformation"})
    assert r.status_code == 201
    ok = _create(client, "companies", {"renewal_date": 1653696000000})
    assert ok["properties"]["renewal_date"] == "2022-05-28"
    r = client.post("/crm/v3/objects/companies", json={"properties": {"renewal_date": 1653711033600}})
    assert r.status_code == 400
    assert "is at 4:10:33.600 UTC, not midnight!" in r.json()["message"]


def test_duplicate_contact_email_is_409(client: Client) -> None:
    first = _create(client, "contacts", {"email": "dup@x.test"})
    r = client.post("/crm/v3/objects/contacts", json={"properties": {"email": "DUP@x.test"}})
    assert r.status_code == 409
    body = r.json()
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {first['id']}"


def test_companies_are_not_deduplicated_by_domain(client: Client) -> None:
    a = _create(client, "companies", {"domain": "same.test"})
    b = _create(client, "companies", {"domain": "same.test"})
    assert a["id"] != b["id"]


def test_archive_then_get_list_and_archived_listing(emu: HubSpotEmulator, client: Client) -> None:
    obj = _create(client, "companies", {"name": "Gone"})
    r = client.delete(f"/crm/v3/objects/companies/{obj['id']}")
    assert r.status_code == 204 and r.content == b""
    assert client.get(f"/crm/v3/objects/companies/{obj['id']}").status_code == 404
    r = client.get(f"/crm/v3/objects/companies/{obj['id']}?archived=true")
    assert r.status_code == 200 and r.json()["archived"] is True and "archivedAt" in r.json()
    archived = client.get("/crm/v3/objects/companies?archived=true&limit=100").json()["results"]
    assert [o["id"] for o in archived] == [obj["id"]]
    live = client.get("/crm/v3/objects/companies?limit=100").json()["results"]
    assert obj["id"] not in {o["id"] for o in live}
    assert client.patch(f"/crm/v3/objects/companies/{obj['id']}", json={"properties": {}}).status_code == 404
    assert client.delete("/crm/v3/objects/companies/12345").status_code == 204


def test_list_pages_through_everything(emu: HubSpotEmulator, client: Client) -> None:
    seen: list[str] = []
    path = "/crm/v3/objects/contacts?limit=7&properties=email"
    pages = 0
    while path:
        r = client.get(path)
        assert r.status_code == 200
        body = r.json()
        seen.extend(o["id"] for o in body["results"])
        pages += 1
        nxt = body.get("paging", {}).get("next")
        if nxt:
            assert nxt["link"].startswith(emu.url or "")
            path = f"/crm/v3/objects/contacts?limit=7&properties=email&after={nxt['after']}"
        else:
            path = ""
    assert len(seen) == len(set(seen)) == 40
    assert pages == 6
    assert seen == sorted(seen, key=int)


def test_list_limit_is_capped_at_100_and_defaults_to_10(make_emulator) -> None:
    emu = make_emulator(companies=150)
    c = Client(emu.url or "", emu.token)
    assert len(c.get("/crm/v3/objects/companies?limit=500").json()["results"]) == 100
    assert len(c.get("/crm/v3/objects/companies").json()["results"]) == 10


def test_unknown_object_type_is_400(client: Client) -> None:
    r = client.get("/crm/v3/objects/widgets")
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"


def test_invalid_json_body_is_400(client: Client) -> None:
    r = client.post("/crm/v3/objects/companies", data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"


def test_patch_by_id_property_and_history(client: Client) -> None:
    c = _create(client, "contacts", {"email": "hist@x.test", "firstname": "H"})
    r = client.patch("/crm/v3/objects/contacts/hist@x.test?idProperty=email", json={"properties": {"firstname": "I"}})
    assert r.status_code == 200 and r.json()["id"] == c["id"]
    r = client.get(f"/crm/v3/objects/contacts/{c['id']}?propertiesWithHistory=firstname")
    history = r.json()["propertiesWithHistory"]["firstname"]
    assert history[0]["value"] == "I" and history[0]["sourceType"] == "API"


def test_concurrent_writes_from_many_threads(emu: HubSpotEmulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    before = emu.count("contacts")

    def work(n: int) -> list[int]:
        c = Client(emu.url or "", emu.token)
        return [c.post("/crm/v3/objects/contacts", json={"properties": {"email": f"t{n}-{i}@x.test"}}).status_code
                for i in range(15)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = [code for batch in pool.map(work, range(8)) for code in batch]
    assert codes == [201] * 120
    assert emu.count("contacts") == before + 120
