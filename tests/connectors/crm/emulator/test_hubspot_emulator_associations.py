"""Associations v4 and the v3 inline form."""

from __future__ import annotations

from hubspot_emulator_support import Client

from connectors.crm.emulator import HubSpotEmulator


def _first(client: Client, otype: str, n: int = 1) -> list[str]:
    return [o["id"] for o in client.get(f"/crm/v3/objects/{otype}?limit={n}").json()["results"]]


def test_seeded_deals_have_primary_and_unlabeled_company(client: Client) -> None:
    deal = _first(client, "deals")[0]
    r = client.get(f"/crm/v4/objects/deals/{deal}/associations/companies")
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 1
    item = results[0]
    assert isinstance(item["toObjectId"], int)
    assert item["associationTypes"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
        {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None},
    ]
    # the inverse is visible from the company side
    company = item["toObjectId"]
    back = client.get(f"/crm/v4/objects/companies/{company}/associations/deals").json()["results"]
    entry = next(x for x in back if x["toObjectId"] == int(deal))
    assert {t["typeId"] for t in entry["associationTypes"]} == {6, 342}


def test_inline_associations_duplicate_primary_entry(client: Client) -> None:
    deal = _first(client, "deals")[0]
    r = client.get(f"/crm/v3/objects/deals/{deal}?associations=companies")
    results = r.json()["associations"]["companies"]["results"]
    assert len(results) == 2
    assert results[0]["id"] == results[1]["id"]
    assert [x["type"] for x in results] == ["deal_to_company", "deal_to_company_unlabeled"]
    listed = client.get("/crm/v3/objects/deals?limit=5&associations=company").json()["results"]
    assert all("companies" in o["associations"] for o in listed)


def test_put_default_then_list_and_delete(client: Client) -> None:
    deal = client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "New"}}).json()["id"]
    company = _first(client, "companies")[0]
    r = client.put(f"/crm/v4/objects/deal/{deal}/associations/default/company/{company}")
    assert r.status_code == 200
    specs = {(x["from"]["id"], x["associationSpec"]["associationTypeId"]) for x in r.json()["results"]}
    assert specs == {(deal, 341), (company, 342)}
    items = client.get(f"/crm/v4/objects/deals/{deal}/associations/companies").json()["results"]
    assert items == [{"toObjectId": int(company), "associationTypes": [
        {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}]}]
    inline = client.get(f"/crm/v3/objects/deals/{deal}?associations=companies").json()
    assert inline["associations"]["companies"]["results"] == [{"id": company, "type": "deal_to_company_unlabeled"}]
    r = client.delete(f"/crm/v4/objects/deals/{deal}/associations/companies/{company}")
    assert r.status_code == 204
    assert client.get(f"/crm/v4/objects/deals/{deal}/associations/companies").json()["results"] == []
    assert "associations" not in client.get(f"/crm/v3/objects/deals/{deal}?associations=companies").json()


def test_put_labelled_and_invalid_type(client: Client) -> None:
    contact = client.post("/crm/v3/objects/contacts", json={"properties": {"email": "l@x.test"}}).json()["id"]
    company = _first(client, "companies")[0]
    r = client.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
                   json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}])
    assert r.status_code == 201
    body = r.json()
    assert body["fromObjectTypeId"] == "0-1" and body["toObjectTypeId"] == "0-2"
    assert body["fromObjectId"] == int(contact) and body["labels"] == ["Primary"]
    r = client.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
                   json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 341}])
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    r = client.put(f"/crm/v4/objects/contacts/{contact}/associations/default/companies/99")
    assert r.status_code == 400
    assert r.json()["message"] == "One or more associations are invalid"
    assert r.json()["context"] == {"INVALID_OBJECT_IDS": ["99"]}


def test_batch_create_and_read(client: Client) -> None:
    deals = [client.post("/crm/v3/objects/deals", json={"properties": {"dealname": f"B{i}"}}).json()["id"]
             for i in range(2)]
    contacts = _first(client, "contacts", 2)
    r = client.post("/crm/v4/associations/deals/contacts/batch/create", json={"inputs": [
        {"from": {"id": deals[0]}, "to": {"id": contacts[0]},
         "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]},
        {"from": {"id": deals[1]}, "to": {"id": contacts[1]},
         "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]},
        {"from": {"id": deals[1]}, "to": {"id": "1"},
         "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]},
    ]})
    assert r.status_code == 207
    assert len(r.json()["results"]) == 2 and r.json()["numErrors"] == 1
    r = client.post("/crm/v4/associations/deals/contacts/batch/read",
                    json={"inputs": [{"id": deals[0]}, {"id": deals[1]}]})
    assert r.status_code == 200
    got = {x["from"]["id"]: [t["toObjectId"] for t in x["to"]] for x in r.json()["results"]}
    assert got == {deals[0]: [int(contacts[0])], deals[1]: [int(contacts[1])]}
    r = client.post("/crm/v4/associations/deals/contacts/batch/archive",
                    json={"inputs": [{"from": {"id": deals[0]}, "to": [{"id": contacts[0]}]}]})
    assert r.status_code == 204
    r = client.post("/crm/v4/associations/deals/contacts/batch/read", json={"inputs": [{"id": deals[0]}]})
    assert r.status_code == 207
    assert r.json()["errors"][0]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"


def test_create_with_inline_associations(emu: HubSpotEmulator, client: Client) -> None:
    company = _first(client, "companies")[0]
    r = client.post("/crm/v3/objects/deals", json={
        "properties": {"dealname": "With assoc"},
        "associations": [{"to": {"id": company},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 341}]}]})
    assert r.status_code == 201
    assert emu.associated_ids("deals", r.json()["id"], "companies") == [int(company)]
    r = client.post("/crm/v3/objects/deals", json={
        "properties": {"dealname": "Bad"},
        "associations": [{"to": {"id": company},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]})
    assert r.status_code == 400 and r.json()["message"] == "One or more associations are invalid"


def test_labels_and_paging(client: Client) -> None:
    labels = client.get("/crm/v4/associations/deals/companies/labels").json()["results"]
    assert {(x["typeId"], x["label"]) for x in labels} == {(341, None), (5, "Primary")}
    company = _first(client, "companies")[0]
    contacts = _first(client, "contacts", 5)
    for c in contacts:
        client.put(f"/crm/v4/objects/companies/{company}/associations/default/contacts/{c}")
    r = client.get(f"/crm/v4/objects/companies/{company}/associations/contacts?limit=2")
    assert len(r.json()["results"]) == 2 and r.json()["paging"]["next"]["after"] == "2"
