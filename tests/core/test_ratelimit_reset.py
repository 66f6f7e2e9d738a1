"""Backing off until a rate-limit reset header's time (seconds or a Unix time), bounded by max_wait with a
clear error; and retry durations written like every other duration of the format."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, FakeTime, open_connector, records, reply
from requests.structures import CaseInsensitiveDict

from connector_core.engine.connector import Connector
from connector_core.engine.ratelimits import reset_wait
from connector_core.engine.schema import json_schema
from connector_core.engine.spec import RateLimitReset, RetryPolicy
from connector_core.errors import RetriableHTTPError, SpecError
from connector_core.plugins import build_registry, make_plugin_manager

NOW = 1_717_000_000.0


def headers(value: str | None) -> CaseInsensitiveDict[str]:
    return CaseInsensitiveDict({"x-ratelimit-reset": value} if value is not None else {})


class TestResetWait:
    @pytest.mark.parametrize(
        "unit, value, expected",
        [
            ("seconds", "30", 30.0),
            ("epoch", str(int(NOW) + 45), 45.0),
            ("epoch_ms", str(int(NOW * 1000) + 1500), 1.5),
            ("auto", "12", 12.0),
            ("auto", str(int(NOW) + 60), 60.0),
            ("auto", str(int(NOW * 1000) + 2000), 2.0),
            ("epoch", str(int(NOW) - 5), 0.0),  # already past: retry now
        ],
    )
    def test_units(self, unit: str, value: str, expected: float) -> None:
        assert reset_wait(headers(value), RateLimitReset(header="X-RateLimit-Reset", unit=unit), NOW) == pytest.approx(expected)

    @pytest.mark.parametrize("value", [None, "", "soon"])
    def test_absent_or_unreadable_is_no_wait(self, value: str | None) -> None:
        assert reset_wait(headers(value), RateLimitReset(header="X-RateLimit-Reset"), NOW) is None


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


def connector(tmp_path: Path, api: FakeAPI, clock: FakeTime, **retries: Any) -> Connector:
    spec = {
        "name": "reset",
        "base_url": api.url,
        "defaults": {"retries": {"attempts": 3, "backoff": "100ms", **retries}},
        "streams": {"items": {"request": {"path": "/items"}, "records": "data"}},
    }
    return open_connector(tmp_path, spec, {}, sleep=clock.sleep, clock=clock.clock)


class TestOverHttp:
    def test_a_429_waits_the_seconds_the_reset_header_names(self, tmp_path: Path, api: FakeAPI) -> None:
        api.json("/items", {"data": records(2)})
        api.fail("/items", 429, headers={"X-RateLimit-Reset": "7"})
        clock = FakeTime()
        with connector(tmp_path, api, clock, reset={"header": "X-RateLimit-Reset", "unit": "seconds"}) as c:
            assert len(list(c.read("items"))) == 2
        assert 7 in clock.sleeps and len(api.received("/items")) == 2

    def test_an_epoch_reset_waits_until_that_time(self, tmp_path: Path, api: FakeAPI) -> None:
        api.json("/items", {"data": records(1)})
        api.fail("/items", 429, headers={"X-RateLimit-Reset": str(int(time.time()) + 40)})
        clock = FakeTime()
        with connector(tmp_path, api, clock, reset={"header": "X-RateLimit-Reset", "unit": "epoch"}) as c:
            assert len(list(c.read("items"))) == 1
        assert any(30 <= s <= 40 for s in clock.sleeps), clock.sleeps

    def test_retry_after_wins_over_the_reset_header(self, tmp_path: Path, api: FakeAPI) -> None:
        api.json("/items", {"data": records(1)})
        api.fail("/items", 429, headers={"Retry-After": "3", "X-RateLimit-Reset": "50"})
        clock = FakeTime()
        with connector(tmp_path, api, clock, reset={"header": "X-RateLimit-Reset", "unit": "seconds"}) as c:
            list(c.read("items"))
        assert 3 in clock.sleeps and 50 not in clock.sleeps

    def test_a_reset_beyond_max_wait_stops_at_once_saying_when(self, tmp_path: Path, api: FakeAPI) -> None:
        api.json("/items", {"data": records(1)})
        api.fail("/items", 429, headers={"X-RateLimit-Reset": str(int(time.time()) + 3600)})
        clock = FakeTime()
        with connector(tmp_path, api, clock, max_wait="5m", reset={"header": "X-RateLimit-Reset"}) as c, pytest.raises(RetriableHTTPError) as caught:
            list(c.read("items"))
        message = str(caught.value)
        assert "throttled (HTTP 429) until the rate limit resets in" in message and "longer than retries.max_wait (300 s)" in message
        assert "max_wait" in (caught.value.hint or "")
        assert len(api.received("/items")) == 1 and not clock.sleeps


class TestDurations:
    def test_retry_times_take_durations_like_the_rest_of_the_format(self) -> None:
        policy = RetryPolicy.model_validate({"backoff": "1s", "max_backoff": "2m", "max_wait": "PT1H"})
        assert (policy.backoff, policy.max_backoff, policy.max_wait) == (1.0, 120.0, 3600.0)

    def test_a_bad_duration_says_which_forms_work(self) -> None:
        with pytest.raises(ValueError, match="is not a duration; use seconds"):
            RetryPolicy.model_validate({"backoff": "soon"})

    def test_an_operations_retry_delay_is_a_duration_too(self, tmp_path: Path, api: FakeAPI) -> None:
        api.json("/customers", {"id": 1}, method="PUT")
        api.fail("/customers", 503, times=2)
        spec = {
            "name": "writer",
            "base_url": api.url,
            "operations": {"upsert": {"kind": "upsert", "request": {"method": "PUT", "path": "/customers"}, "retries": {"attempts": 3, "delay": "250ms"}}},
        }
        clock = FakeTime()
        with open_connector(tmp_path, spec, {}, sleep=clock.sleep, clock=clock.clock) as c:
            c.call("upsert", {})
        assert clock.sleeps == [0.25, 0.25]

    def test_a_bad_duration_in_a_spec_is_located(self, tmp_path: Path, api: FakeAPI) -> None:
        with pytest.raises(SpecError) as caught:
            connector(tmp_path, api, FakeTime(), max_wait="a while")
        [problem] = caught.value.problems
        assert problem.startswith(f"{tmp_path / 'reset.json'}:1:")
        assert "defaults.retries.max_wait: 'a while' is not a duration; use seconds (30), '90s'" in problem

    def test_the_published_schema_takes_a_duration_as_text_too(self) -> None:
        schema = json_schema(build_registry(make_plugin_manager()).spec_model)
        backoff = schema["$defs"]["RetryPolicy"]["properties"]["backoff"]
        assert {"type": "number", "minimum": 0} in backoff["anyOf"] and any(o.get("type") == "string" for o in backoff["anyOf"])


class TestBudgetHeaders:
    """With `rate_limit_headers.reset`, a spent budget holds requests until the reset, not a window's length."""

    def open(self, tmp_path: Path, api: FakeAPI, clock: FakeTime, reset_in: str) -> Connector:
        budget = {"remaining": "X-RateLimit-Remaining", "reserve": 0, "reset": {"header": "X-RateLimit-Reset", "unit": "seconds"}}
        spec = {
            "name": "budget",
            "base_url": api.url,
            "defaults": {"concurrency": 1, "rate_limit_headers": budget, "retries": {"max_wait": "1m"}},
            "streams": {"items": {"request": {"path": "/items"}, "records": "data", "paginate": {"type": "page", "size": 1, "total_pages": "pages"}}},
        }
        api.route("/items", lambda r: reply({"data": records(1), "pages": 2}, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset_in}))
        return open_connector(tmp_path, spec, {}, sleep=clock.sleep, clock=clock.clock)

    def test_the_second_request_waits_until_the_reset(self, tmp_path: Path, api: FakeAPI) -> None:
        clock = FakeTime()
        with self.open(tmp_path, api, clock, "12") as c:
            assert len(list(c.read("items"))) == 2
        assert sum(clock.sleeps) == pytest.approx(12)

    def test_a_far_reset_holds_at_most_max_wait(self, tmp_path: Path, api: FakeAPI) -> None:
        clock = FakeTime()
        with self.open(tmp_path, api, clock, "86400") as c:
            assert len(list(c.read("items"))) == 2
        assert sum(clock.sleeps) == pytest.approx(60)
