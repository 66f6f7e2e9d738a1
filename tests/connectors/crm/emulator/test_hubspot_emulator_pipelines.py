"""Deal pipelines and stage-derived deal properties."""

from __future__ import annotations

from hubspot_emulator_support import Client


def test_pipelines_shape(client: Client) -> None:
    r = client.get("/crm/v3/pipelines/deals")
    assert r.status_code == 200
    pipelines = {p["id"]: p for p in r.json()["results"]}
    default = pipelines["default"]
    assert default["label"] == "Sales Pipeline"
    stages = {s["id"]: s for s in default["stages"]}
    assert list(stages) == ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                            "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"]
    assert stages["closedwon"]["metadata"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["closedlost"]["metadata"] == {"isClosed": "true", "probability": "0.0"}
    assert stages["contractsent"]["metadata"]["isClosed"] == "false"
    custom = next(p for pid, p in pipelines.items() if pid != "default")
    assert custom["id"].isdigit()
    won = [s for s in custom["stages"] if s["metadata"] == {"isClosed": "true", "probability": "1.0"}]
    assert len(won) == 1 and won[0]["id"].isdigit() and won[0]["id"] != "closedwon"
    assert client.get(f"/crm/v3/pipelines/deals/{custom['id']}/stages").json()["results"] == custom["stages"]
    assert client.get("/crm/v3/pipelines/deals/nope").status_code == 404


def test_stage_changes_drive_closed_flags(client: Client) -> None:
    pipelines = client.get("/crm/v3/pipelines/deals").json()["results"]
    custom = next(p for p in pipelines if p["id"] != "default")
    won = next(s["id"] for s in custom["stages"] if s["metadata"]["probability"] == "1.0")
    r = client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "P", "pipeline": custom["id"]}})
    assert r.status_code == 201
    deal = r.json()
    assert deal["properties"]["dealstage"] == custom["stages"][0]["id"]
    assert deal["properties"]["hs_is_closed_won"] == "false"
    r = client.patch(f"/crm/v3/objects/deals/{deal['id']}", json={"properties": {"dealstage": won}})
    props = r.json()["properties"]
    assert props["hs_is_closed_won"] == "true" and props["hs_is_closed"] == "true"
    assert props[f"hs_v2_date_entered_{won}"] == props["hs_lastmodifieddate"]
    assert "closedate" in props
    r = client.patch(f"/crm/v3/objects/deals/{deal['id']}", json={"properties": {"dealstage": "closedwon"}})
    assert r.status_code == 400  # closedwon belongs to the default pipeline only
    r = client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "D", "dealstage": "closedlost"}})
    assert r.json()["properties"]["hs_is_closed_won"] == "false"
    assert r.json()["properties"]["hs_is_closed_lost"] == "true"


def test_seeded_deal_flags_consistent_with_stage(client: Client) -> None:
    pipelines = client.get("/crm/v3/pipelines/deals").json()["results"]
    meta = {s["id"]: s["metadata"] for p in pipelines for s in p["stages"]}
    deals = client.get("/crm/v3/objects/deals?limit=100&properties=dealstage,hs_is_closed_won,hs_is_closed").json()
    for d in deals["results"]:
        m = meta[d["properties"]["dealstage"]]
        won = m["isClosed"] == "true" and m["probability"] == "1.0"
        assert d["properties"]["hs_is_closed_won"] == ("true" if won else "false")
        assert d["properties"]["hs_is_closed"] == m["isClosed"]


def test_pipelines_only_for_deals(client: Client) -> None:
    assert client.get("/crm/v3/pipelines/companies").status_code == 400
