"""Rate-limit headers and the ten-second rolling budget."""

from __future__ import annotations

from hubspot_emulator_support import Client

from connectors.crm.emulator import HubSpotSettings

HEADERS = ("x-hubspot-ratelimit-daily", "x-hubspot-ratelimit-daily-remaining",
           "x-hubspot-ratelimit-interval-milliseconds", "x-hubspot-ratelimit-max",
           "x-hubspot-ratelimit-remaining", "x-hubspot-ratelimit-secondly",
           "x-hubspot-ratelimit-secondly-remaining", "x-hubspot-correlation-id")


def test_headers_lowercase_and_counting_down(make_emulator) -> None:
    emu = make_emulator(rate_limit_per_10s=100)
    emu.clock.freeze()
    c = Client(emu.url or "", emu.token)
    first = c.get("/crm/v3/objects/companies?limit=1")
    raw_names = list(first.raw.headers.keys())
    for name in HEADERS:
        assert name in raw_names, name
    assert first.headers["x-hubspot-ratelimit-interval-milliseconds"] == "10000"
    assert first.headers["x-hubspot-ratelimit-max"] == "100"
    assert first.headers["x-hubspot-ratelimit-remaining"] == "99"
    assert first.headers["x-hubspot-ratelimit-secondly"] == "10"
    assert first.headers["x-hubspot-ratelimit-daily"] == "250000"
    second = c.post("/crm/v3/objects/companies/batch/read", json={"inputs": [{"id": "1"}] * 101})
    assert second.status_code == 400
    assert second.headers["x-hubspot-ratelimit-remaining"] == "98"
    assert second.headers["content-type"] == "application/json;charset=utf-8"


def test_ten_second_budget_exhaustion_and_recovery(make_emulator) -> None:
    emu = make_emulator(rate_limit_per_10s=5)
    emu.clock.freeze()
    c = Client(emu.url or "", emu.token)
    codes = [c.get("/crm/v3/objects/contacts?limit=1").status_code for _ in range(7)]
    assert codes == [200] * 5 + [429, 429]
    r = c.get("/crm/v3/objects/contacts?limit=1")
    body = r.json()
    assert body["status"] == "error"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["correlationId"] and body["groupName"]
    assert "Retry-After" not in r.headers
    assert r.headers["x-hubspot-ratelimit-remaining"] == "0"
    emu.advance_time(9)
    assert c.get("/crm/v3/objects/contacts?limit=1").status_code == 429
    emu.advance_time(1.01)
    assert c.get("/crm/v3/objects/contacts?limit=1").status_code == 200
    stats = emu.stats.snapshot()
    assert stats["rate_limited"] == 4
    assert stats["rate_limited_by_policy"] == {"TEN_SECONDLY_ROLLING": 4}
    control = c.session.get(f"{emu.url}/_emulator/stats").json()
    assert control["rate_limited"] == 4


def test_retry_after_is_configurable(make_emulator) -> None:
    emu = make_emulator(rate_limit_per_10s=1, retry_after_seconds=2)
    emu.clock.freeze()
    c = Client(emu.url or "", emu.token)
    c.get("/crm/v3/objects/contacts")
    r = c.get("/crm/v3/objects/contacts")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"


def test_daily_budget(make_emulator) -> None:
    emu = make_emulator(daily_limit=3)
    c = Client(emu.url or "", emu.token)
    codes = [c.get("/crm/v3/objects/contacts").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = c.get("/crm/v3/objects/contacts")
    assert r.json()["policyName"] == "DAILY"
    emu.advance_time(86_400)
    assert c.get("/crm/v3/objects/contacts").status_code == 200


def test_tiers() -> None:
    pro = HubSpotSettings.for_tier("professional")
    assert (pro.ten_second_limit, pro.day_limit) == (190, 625_000)
    assert HubSpotSettings().ten_second_limit == 100
    assert HubSpotSettings(rate_limit_per_10s=7).ten_second_limit == 7
