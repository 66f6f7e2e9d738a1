"""Search: operators, OR groups, sorts, paging, the result cap, datetime filters, per-second limit."""

from __future__ import annotations

import pytest
from hubspot_emulator_support import Client

from connectors.crm.emulator import HubSpotEmulator

SEARCH = "/crm/v3/objects/companies/search"


def _plant(emu: HubSpotEmulator) -> dict[str, str]:
    """Five companies with known values; returns name -> id."""
    rows = [
        ("Alpha Robotics", "alpha.test", "100", "Boston", "2024-03-01T00:00:00Z"),
        ("Beta Foods", "beta.test", "200", "Berlin", "2024-03-02T00:00:00Z"),
        ("Gamma Robotics", "gamma.test", "300", None, "2024-03-03T00:00:00Z"),
        ("Delta Energy", "delta.test", "400", "Boston", "2024-03-04T00:00:00Z"),
        ("Epsilon Labs", None, None, "Paris", "2024-03-05T00:00:00Z"),
    ]
    out = {}
    for name, domain, revenue, city, modified in rows:
        props = {"name": name, "domain": domain, "annualrevenue": revenue, "city": city, "description": "planted"}
        obj = emu.insert("companies", {k: v for k, v in props.items() if v is not None}, updated=modified,
                         created="2024-01-01T00:00:00Z")
        out[name] = obj["id"]
    return out


def _search(client: Client, filters: list | None = None, groups: list | None = None, **body) -> dict:
    if groups is None:
        groups = [{"filters": [{"propertyName": "description", "operator": "EQ", "value": "planted"},
                               *(filters or [])]}]
    r = client.post(SEARCH, json={"filterGroups": groups, "properties": ["name"], "limit": 100, **body})
    assert r.status_code == 200, r.text
    return r.json()


def _names(body: dict) -> list[str]:
    return [o["properties"]["name"] for o in body["results"]]


@pytest.mark.parametrize(("flt", "expected"), [
    ({"propertyName": "city", "operator": "EQ", "value": "boston"}, {"Alpha Robotics", "Delta Energy"}),
    ({"propertyName": "city", "operator": "NEQ", "value": "Boston"}, {"Beta Foods", "Epsilon Labs"}),
    ({"propertyName": "annualrevenue", "operator": "LT", "value": "300"}, {"Alpha Robotics", "Beta Foods"}),
    ({"propertyName": "annualrevenue", "operator": "LTE", "value": "300"},
     {"Alpha Robotics", "Beta Foods", "Gamma Robotics"}),
    ({"propertyName": "annualrevenue", "operator": "GT", "value": "300"}, {"Delta Energy"}),
    ({"propertyName": "annualrevenue", "operator": "GTE", "value": "300"}, {"Gamma Robotics", "Delta Energy"}),
    ({"propertyName": "annualrevenue", "operator": "BETWEEN", "value": "150", "highValue": "350"},
     {"Beta Foods", "Gamma Robotics"}),
    ({"propertyName": "city", "operator": "IN", "values": ["Paris", "Berlin"]}, {"Beta Foods", "Epsilon Labs"}),
    ({"propertyName": "city", "operator": "NOT_IN", "values": ["Boston"]}, {"Beta Foods", "Epsilon Labs"}),
    ({"propertyName": "domain", "operator": "HAS_PROPERTY"},
     {"Alpha Robotics", "Beta Foods", "Gamma Robotics", "Delta Energy"}),
    ({"propertyName": "city", "operator": "NOT_HAS_PROPERTY"}, {"Gamma Robotics"}),
    ({"propertyName": "name", "operator": "CONTAINS_TOKEN", "value": "robotics"},
     {"Alpha Robotics", "Gamma Robotics"}),
    ({"propertyName": "name", "operator": "CONTAINS_TOKEN", "value": "*ta"}, {"Beta Foods", "Delta Energy"}),
    ({"propertyName": "name", "operator": "NOT_CONTAINS_TOKEN", "value": "robotics"},
     {"Beta Foods", "Delta Energy", "Epsilon Labs"}),
])
def test_operators(emu: HubSpotEmulator, client: Client, flt: dict, expected: set) -> None:
    _plant(emu)
    assert set(_names(_search(client, [flt]))) == expected


def test_filter_groups_are_or_of_and(emu: HubSpotEmulator, client: Client) -> None:
    _plant(emu)
    planted = {"propertyName": "description", "operator": "EQ", "value": "planted"}
    groups = [
        {"filters": [planted, {"propertyName": "city", "operator": "EQ", "value": "Boston"},
                     {"propertyName": "annualrevenue", "operator": "GT", "value": "150"}]},
        {"filters": [planted, {"propertyName": "city", "operator": "EQ", "value": "Paris"}]},
    ]
    assert set(_names(_search(client, groups=groups))) == {"Delta Energy", "Epsilon Labs"}


def test_datetime_filters_numeric_epoch_ms_and_iso(emu: HubSpotEmulator, client: Client) -> None:
    _plant(emu)
    ms = "1709424000000"  # 2024-03-03T00:00:00Z
    for value in (ms, "2024-03-03T00:00:00.000Z"):
        body = _search(client, [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": value}])
        assert set(_names(body)) == {"Gamma Robotics", "Delta Energy", "Epsilon Labs"}
    body = _search(client, [{"propertyName": "hs_lastmodifieddate", "operator": "BETWEEN",
                             "value": "1709251200000", "highValue": "1709337600000"}])
    assert set(_names(body)) == {"Alpha Robotics", "Beta Foods"}
    # numeric, not lexicographic: a 12-digit ms value below the 13-digit ones
    body = _search(client, [{"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": "999999999999"}])
    assert len(body["results"]) == 5


def test_sorts_object_and_string_forms(emu: HubSpotEmulator, client: Client) -> None:
    _plant(emu)
    asc = _search(client, sorts=[{"propertyName": "annualrevenue", "direction": "ASCENDING"}])
    assert _names(asc)[:4] == ["Alpha Robotics", "Beta Foods", "Gamma Robotics", "Delta Energy"]
    desc = _search(client, sorts=["-annualrevenue"])
    assert _names(desc)[:4] == ["Delta Energy", "Gamma Robotics", "Beta Foods", "Alpha Robotics"]
    by_modified = _search(client, sorts=["-hs_lastmodifieddate"])
    assert _names(by_modified)[0] == "Epsilon Labs"
    default = _search(client)
    ids = [int(o["id"]) for o in default["results"]]
    assert ids == sorted(ids)


def test_result_shape_total_and_paging(client: Client) -> None:
    seen: list[str] = []
    after = None
    while True:
        body = {"limit": 7, "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]}
        if after is not None:
            body["after"] = after
        r = client.post(SEARCH, json=body)
        data = r.json()
        assert data["total"] == 30
        seen.extend(o["id"] for o in data["results"])
        nxt = data.get("paging", {}).get("next")
        if not nxt:
            break
        after = nxt["after"]
    assert len(seen) == 30 and len(set(seen)) == 30
    obj = r.json()["results"][0]
    assert set(obj) >= {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert set(obj["properties"]) == {"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"}


def test_limit_above_200_is_400(client: Client) -> None:
    r = client.post(SEARCH, json={"limit": 201})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"


def test_result_cap_and_restart_by_id(make_emulator) -> None:
    emu = make_emulator(companies=120, search_result_cap=50)
    c = Client(emu.url or "", emu.token)
    sorts = [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
    r = c.post(SEARCH, json={"limit": 20, "after": "40", "sorts": sorts})
    body = r.json()
    assert body["total"] == 120
    assert len(body["results"]) == 10  # stops at the cap
    assert body["paging"]["next"]["after"] == "50"
    r = c.post(SEARCH, json={"limit": 20, "after": "50", "sorts": sorts})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    # the documented workaround: restart with hs_object_id GT last id and after reset
    seen: list[int] = []
    last = 0
    after = "0"
    while True:
        flt = [{"filters": [{"propertyName": "hs_object_id", "operator": "GT", "value": str(last)}]}]
        data = c.post(SEARCH, json={"filterGroups": flt, "sorts": sorts, "limit": 20, "after": after}).json()
        seen.extend(int(o["id"]) for o in data["results"])
        nxt = data.get("paging", {}).get("next", {}).get("after")
        if not nxt:
            break
        if int(nxt) >= 50:
            last, after = seen[-1], "0"
        else:
            after = nxt
    assert len(seen) == 120 and seen == sorted(set(seen))


def test_search_reflects_writes_immediately(client: Client) -> None:
    r = client.post("/crm/v3/objects/companies", json={"properties": {"name": "Zeta Unique"}})
    oid = r.json()["id"]
    flt = [{"filters": [{"propertyName": "name", "operator": "EQ", "value": "Zeta Unique"}]}]
    assert [o["id"] for o in client.post(SEARCH, json={"filterGroups": flt}).json()["results"]] == [oid]
    client.patch(f"/crm/v3/objects/companies/{oid}", json={"properties": {"name": "Zeta Renamed"}})
    assert client.post(SEARCH, json={"filterGroups": flt}).json()["total"] == 0
    client.delete(f"/crm/v3/objects/companies/{oid}")
    flt2 = [{"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": oid}]}]
    assert client.post(SEARCH, json={"filterGroups": flt2}).json()["total"] == 0


def test_search_lag_is_configurable(make_emulator) -> None:
    emu = make_emulator(search_lag_seconds=3)
    c = Client(emu.url or "", emu.token)
    oid = c.post("/crm/v3/objects/companies", json={"properties": {"name": "Laggy"}}).json()["id"]
    flt = [{"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": oid}]}]
    assert c.post(SEARCH, json={"filterGroups": flt}).json()["total"] == 0
    emu.advance_time(3.5)
    assert c.post(SEARCH, json={"filterGroups": flt}).json()["total"] == 1


def test_filter_limits_and_bad_filters(client: Client) -> None:
    one = {"propertyName": "name", "operator": "HAS_PROPERTY"}
    r = client.post(SEARCH, json={"filterGroups": [{"filters": [one]}] * 6})
    assert r.status_code == 400
    r = client.post(SEARCH, json={"filterGroups": [{"filters": [one] * 11}]})
    assert r.status_code == 400
    r = client.post(SEARCH, json={"filterGroups": [{"filters": [{"propertyName": "name", "operator": "LIKE",
                                                                  "value": "x"}]}]})
    assert r.status_code == 400
    r = client.post(SEARCH, json={"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ",
                                                                  "value": "x"}]}]})
    assert r.status_code == 400


def test_closed_won_search_on_deals(client: Client) -> None:
    flt = [{"filters": [{"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"}]}]
    r = client.post("/crm/v3/objects/deals/search", json={"filterGroups": flt, "properties": ["dealstage"],
                                                         "limit": 100})
    stages = {o["properties"]["dealstage"] for o in r.json()["results"]}
    assert stages and stages <= {"closedwon", "148302003"}


def test_query_free_text(emu: HubSpotEmulator, client: Client) -> None:
    _plant(emu)
    r = client.post(SEARCH, json={"query": "robotics", "properties": ["name"], "limit": 100})
    assert {"Alpha Robotics", "Gamma Robotics"} <= set(_names(r.json()))


def test_search_per_second_limit_and_no_ratelimit_headers(make_emulator) -> None:
    emu = make_emulator(search_per_second=5)
    emu.clock.freeze()  # hold the clock still so the window cannot roll over mid-test
    c = Client(emu.url or "", emu.token)
    statuses = [c.post(SEARCH, json={"limit": 1}) for _ in range(6)]
    assert [r.status_code for r in statuses] == [200] * 5 + [429]
    assert not any(k.startswith("x-hubspot-ratelimit") for k in statuses[0].headers)
    body = statuses[-1].json()
    assert body["policyName"] == "SECONDLY" and body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your secondly limit."
    emu.advance_time(1.01)
    assert c.post(SEARCH, json={"limit": 1}).status_code == 200
    assert emu.stats.snapshot()["rate_limited"] == 1
