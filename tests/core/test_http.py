"""The HTTP client and governor over real HTTP on 127.0.0.1: retries, Retry-After, idempotency,
transport and origin rules, redirects, concurrency and rate limits.

Waits are measured through an injected sleep (FakeTime) or, where threads must really wait, through
the arrival times the fake server recorded, with generous bounds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, FakeTime, http_date, open_connector, records

from connector_core.engine.connector import Connector
from connector_core.engine.governance import Governor
from connector_core.engine.http import HttpClient, parse_retry_after
from connector_core.engine.redaction import Redactor
from connector_core.engine.spec import RetryPolicy
from connector_core.engine.urls import check_transport
from connector_core.errors import ConfigError, FatalHTTPError, RetriableHTTPError

API_KEY = "k3y-Very-Secret"


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


@pytest.fixture
def other() -> Iterator[FakeAPI]:
    """A second server: another origin (same host, other port) that must never see our requests."""
    with FakeAPI() as server:
        yield server


def client(api: FakeAPI, fake: FakeTime, *, attempts: int = 4, concurrency: int = 4, redactor: Redactor | None = None, **policy: Any) -> HttpClient:
    governor = Governor(concurrency, clock=fake.clock, sleep=fake.sleep)
    return HttpClient(
        base_url=api.url,
        auth=None,
        redactor=redactor or Redactor(),
        governor=governor,
        retry=RetryPolicy(attempts=attempts, backoff=0.5, max_backoff=4, **policy),
        timeout=5,
        sleep=fake.sleep,
    )


def shop_spec(base_url: str, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "shop",
        "config": {"type": "object", "properties": {"api_key": {"type": "string", "secret": True}}},
        "base_url": base_url,
        "auth": {"type": "api_key", "name": "X-API-Key", "value": "{{ config.api_key }}"},
        "defaults": {"retries": {"attempts": 3, "backoff": 0}},
    }
    spec.update(extra)
    return spec


def shop(tmp_path: Path, base_url: str, **extra: Any) -> Connector:
    return open_connector(tmp_path, shop_spec(base_url, **extra), {"api_key": API_KEY})


CREATE = {
    "kind": "create",
    "input": {"type": "object", "properties": {"name": {"type": "string"}}},
    "request": {"method": "POST", "path": "/items", "json": "{{ input }}"},
    "id": {"header": "Location"},
}


class TestRetries:
    def test_503_is_retried_then_succeeds(self, api: FakeAPI) -> None:
        api.json("/items", {"ok": True})
        api.fail("/items", 503, times=2)
        fake = FakeTime()
        response = client(api, fake).send("GET", "/items")
        assert response.json() == {"ok": True}
        assert len(api.received("/items")) == 3
        assert len(fake.sleeps) == 2 and all(0 <= s <= 4 for s in fake.sleeps)

    def test_backoff_doubles_while_the_api_keeps_failing(self, api: FakeAPI) -> None:
        api.json("/items", {"ok": True})
        api.fail("/items", 503, times=3)
        fake = FakeTime()
        client(api, fake).send("GET", "/items")
        assert [(round(s, 3) >= low, round(s, 3) <= high) for s, (low, high) in zip(fake.sleeps, [(0.25, 0.5), (0.5, 1), (1, 2)], strict=True)] == [(True, True)] * 3

    def test_a_request_failing_while_the_api_answers_others_backs_off_as_after_one_failure(self, api: FakeAPI) -> None:
        api.json("/items", {"ok": True})
        api.json("/other", {"ok": True})
        api.fail("/items", 503, times=3)
        fake = FakeTime()
        http = client(api, fake)

        def sleep_while_other_requests_succeed(seconds: float) -> None:
            fake.sleep(seconds)
            http.send("GET", "/other")  # the API is healthy: the failures are this request's bad luck

        http.sleep = sleep_while_other_requests_succeed
        assert http.send("GET", "/items").status_code == 200
        assert len(fake.sleeps) == 3 and all(0.25 <= s <= 0.5 for s in fake.sleeps), fake.sleeps

    def test_a_request_failing_after_many_answered_ones_backs_off_as_after_one_failure(self, api: FakeAPI) -> None:
        api.json("/items", {"ok": True})
        api.json("/other", {"ok": True})
        fake = FakeTime()
        http = client(api, fake)
        for _ in range(10):
            http.send("GET", "/other")
        api.fail("/items", 503, times=3)  # most of the latest requests were answered: bad luck, not an API in trouble
        assert http.send("GET", "/items").status_code == 200
        assert len(fake.sleeps) == 3 and all(0.25 <= s <= 0.5 for s in fake.sleeps), fake.sleeps

    def test_429_retry_after_seconds_is_waited(self, api: FakeAPI) -> None:
        api.json("/items", {"ok": True})
        api.fail("/items", 429, headers={"Retry-After": "7"})
        fake = FakeTime()
        http = client(api, fake)
        assert http.send("GET", "/items").status_code == 200
        assert fake.sleeps == [7.0]
        assert http.governor.paused_for() == 0  # the pause ended while the throttled request waited

    def test_429_retry_after_http_date_is_waited(self, api: FakeAPI) -> None:
        api.json("/items", {"ok": True})
        api.fail("/items", 429, headers={"Retry-After": http_date(30)})
        fake = FakeTime()
        client(api, fake).send("GET", "/items")
        assert len(fake.sleeps) == 1 and 27.5 <= fake.sleeps[0] <= 30.5

    def test_429_without_retry_after_backs_off(self, api: FakeAPI) -> None:
        api.json("/items", {"ok": True})
        api.fail("/items", 429, times=2)
        fake = FakeTime()
        client(api, fake).send("GET", "/items")
        assert len(fake.sleeps) == 2 and all(0 < s <= 4 for s in fake.sleeps)

    def test_429s_in_a_row_double_the_wait(self, api: FakeAPI) -> None:
        api.json("/items", {"ok": True})
        api.fail("/items", 429, times=3)
        fake = FakeTime()
        client(api, fake, attempts=5).send("GET", "/items")
        assert [low <= s <= high for s, (low, high) in zip(fake.sleeps, [(0.25, 0.5), (0.5, 1), (1, 2)], strict=True)] == [True] * 3, fake.sleeps

    def test_a_429_after_5xxs_on_an_answering_api_waits_as_a_first_429(self, api: FakeAPI) -> None:
        api.json("/items", {"ok": True})
        api.json("/other", {"ok": True})
        api.fail("/items", 503, times=2)
        api.fail("/items", 429)  # the 5xxs before it say nothing of the rate window
        api.fail("/items", 429)
        fake = FakeTime()
        http = client(api, fake, attempts=5)

        def sleep_while_other_requests_succeed(seconds: float) -> None:
            fake.sleep(seconds)
            http.send("GET", "/other")

        http.sleep = sleep_while_other_requests_succeed
        assert http.send("GET", "/items").status_code == 200
        bounds = [(0.25, 0.5), (0.25, 0.5), (0.25, 0.5), (0.5, 1)]  # 503, 503, first 429, second 429 in a row
        assert [low <= s <= high for s, (low, high) in zip(fake.sleeps, bounds, strict=True)] == [True] * 4, fake.sleeps

    def test_retry_after_is_capped_by_max_wait(self, api: FakeAPI) -> None:
        api.json("/items", {"ok": True})
        api.fail("/items", 429, headers={"Retry-After": "3600"})
        fake = FakeTime()
        client(api, fake, max_wait=20).send("GET", "/items")
        assert fake.sleeps == [20.0]

    def test_exhausted_attempts_raise_with_method_redacted_url_attempts_and_status(self, api: FakeAPI) -> None:
        api.fail("/items", 503, times=10, body={"message": f"down, key was {API_KEY}"})
        fake = FakeTime()
        redactor = Redactor([API_KEY])
        with pytest.raises(RetriableHTTPError) as caught:
            client(api, fake, attempts=3, redactor=redactor).send("GET", "/items", params={"api_key": API_KEY, "q": "x"})
        error = caught.value
        text = str(error)
        assert text.startswith(f"GET {api.url}/items?api_key=***&q=x failed after 3 attempts")
        assert "HTTP 503" in text and API_KEY not in text
        assert error.attempts == 3 and error.status == 503 and error.method == "GET"
        assert API_KEY not in error.url and API_KEY not in str(error.body)
        assert len(api.received("/items")) == 3

    @pytest.mark.parametrize("status", [400, 404, 409, 422])
    def test_4xx_is_not_retried(self, api: FakeAPI, status: int) -> None:
        api.json("/items", {"error": "bad field 'name'"}, status=status)
        fake = FakeTime()
        with pytest.raises(FatalHTTPError) as caught:
            client(api, fake).send("GET", "/items")
        assert len(api.received("/items")) == 1 and fake.sleeps == []
        assert caught.value.status == status
        assert f"HTTP {status}" in str(caught.value) and "bad field 'name'" in str(caught.value)

    def test_dropped_connection_is_retried(self, api: FakeAPI) -> None:
        api.json("/items", {"ok": True})
        api.drop("/items", times=2)
        fake = FakeTime()
        assert client(api, fake).send("GET", "/items").json() == {"ok": True}
        assert len(api.received("/items")) == 3

    def test_dropped_connections_exhaust_into_a_retriable_error(self, api: FakeAPI) -> None:
        api.drop("/items", times=5)
        with pytest.raises(RetriableHTTPError, match=r"nothing answered at http://127\.0\.0\.1:\d+ after 2 attempts .*closed connection without response") as caught:
            client(api, FakeTime(), attempts=2).send("GET", "/items")
        assert caught.value.status is None

    def test_parse_retry_after(self) -> None:
        assert parse_retry_after("12") == 12.0
        assert parse_retry_after("-3") == 0.0
        assert parse_retry_after("soon") is None
        assert parse_retry_after(None) is None
        assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


class TestIdempotency:
    def test_create_without_idempotency_key_is_not_retried_on_503(self, api: FakeAPI, tmp_path: Path) -> None:
        api.fail("/items", 503, times=5)
        connector = shop(tmp_path, api.url, operations={"create_item": CREATE})
        with pytest.raises(RetriableHTTPError) as caught:
            connector.call("create_item", {"name": "a"})
        assert len(api.received("/items")) == 1
        assert "not retried" in caught.value.message
        assert "may or may not have been applied" in (caught.value.hint or "")

    def test_create_without_idempotency_key_is_not_retried_after_a_drop(self, api: FakeAPI, tmp_path: Path) -> None:
        api.drop("/items", times=5)
        connector = shop(tmp_path, api.url, operations={"create_item": CREATE})
        with pytest.raises(RetriableHTTPError) as caught:
            connector.call("create_item", {"name": "a"})
        assert len(api.received("/items")) == 1
        assert "may or may not have been applied" in (caught.value.hint or "")

    def test_create_is_retried_after_429_because_the_api_refused_it(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/items", {"id": 7}, status=201, headers={"Location": "/items/7"})
        api.fail("/items", 429, headers={"Retry-After": "0"})
        connector = shop(tmp_path, api.url, operations={"create_item": CREATE})
        assert connector.call("create_item", {"name": "a"})["id"] == "7"
        assert len(api.received("/items")) == 2

    def test_idempotency_key_makes_a_create_retried_with_the_same_key(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/items", {"id": 1}, status=201, headers={"Location": "/items/1"})
        api.fail("/items", 503, times=2)
        operation = {**CREATE, "idempotency_key": {"header": "Idempotency-Key"}}
        connector = shop(tmp_path, api.url, operations={"create_item": operation})
        connector.call("create_item", {"name": "a"})
        keys = [r.header("Idempotency-Key") for r in api.received("/items")]
        assert len(keys) == 3 and keys[0] and len(set(keys)) == 1
        connector.call("create_item", {"name": "b"})
        assert api.received("/items")[-1].header("Idempotency-Key") != keys[0]  # a new call, a new key

    def test_every_attempt_is_authenticated_again(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/items", [])
        api.fail("/items", 502)
        connector = shop(tmp_path, api.url, streams={"items": {"request": {"path": "/items"}}})
        assert list(connector.read("items")) == []
        assert [r.header("X-API-Key") for r in api.received("/items")] == [API_KEY, API_KEY]


class TestTransportAndOrigin:
    def test_plain_http_to_a_remote_host_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="plain http to a non-loopback host"):
            shop(tmp_path, "http://api.example.com/v1")

    @pytest.mark.parametrize("url", ["http://localhost.evil.test", "http://127.0.0.1.nip.io", "ftp://127.0.0.1"])
    def test_lookalike_loopback_hosts_are_not_loopback(self, url: str) -> None:
        with pytest.raises(ConfigError):
            check_transport(url)

    def test_https_to_a_remote_host_is_accepted(self, tmp_path: Path) -> None:
        with shop(tmp_path, "https://api.example.com/v1") as connector:
            assert connector.base_url == "https://api.example.com/v1"

    def test_a_full_url_to_another_host_is_refused_before_sending(self, api: FakeAPI, other: FakeAPI) -> None:
        with pytest.raises(FatalHTTPError, match="not on"):
            client(api, FakeTime()).send("GET", f"{other.url}/steal")
        assert other.received() == []

    def test_a_next_url_to_another_host_is_refused_and_the_key_stays_home(self, api: FakeAPI, other: FakeAPI, tmp_path: Path) -> None:
        api.json("/items", {"items": records(2), "next_url": f"{other.url}/items?after=2"})
        stream = {"request": {"path": "/items"}, "records": "items", "paginate": {"type": "next_url", "path": "next_url"}}
        connector = shop(tmp_path, api.url, streams={"items": stream})
        with pytest.raises(FatalHTTPError, match="credentials never go to another host"):
            list(connector.read("items"))
        assert other.received() == []

    def test_a_relative_next_url_is_followed_on_the_same_host(self, api: FakeAPI, tmp_path: Path) -> None:
        api.next_url_pages("/v1/items", records(25), size=10, absolute=False)
        stream = {"request": {"path": "/items"}, "records": "items", "paginate": {"type": "next_url", "path": "next_url"}}
        connector = shop(tmp_path, f"{api.url}/v1", streams={"items": stream})
        assert [r["id"] for r in connector.read("items")] == list(range(1, 26))

    def test_a_redirect_to_another_host_is_not_followed(self, api: FakeAPI, other: FakeAPI, tmp_path: Path) -> None:
        api.redirect("/items", f"{other.url}/items")
        connector = shop(tmp_path, api.url, streams={"items": {"request": {"path": "/items"}}})
        with pytest.raises(FatalHTTPError, match="not on"):
            list(connector.read("items"))
        assert other.received() == []

    def test_a_same_host_redirect_is_followed_and_signed_again(self, api: FakeAPI, tmp_path: Path) -> None:
        api.redirect("/old", "/new", status=307)
        api.json("/new", [{"id": 1}])
        connector = shop(tmp_path, api.url, streams={"items": {"request": {"path": "/old"}}})
        assert list(connector.read("items")) == [{"id": 1}]
        assert api.received("/new")[0].header("X-API-Key") == API_KEY

    def test_dot_dot_escaping_the_base_path_is_refused(self, api: FakeAPI, tmp_path: Path) -> None:
        operation = {"kind": "action", "request": {"method": "GET", "path": "/../admin"}}
        connector = shop(tmp_path, f"{api.url}/api", operations={"peek": operation})
        with pytest.raises(FatalHTTPError, match=r"'\.\.'"):
            connector.call("peek", {})
        assert api.received() == []

    def test_dot_dot_from_input_cannot_change_the_resource(self, api: FakeAPI, tmp_path: Path) -> None:
        operation = {
            "kind": "delete",
            "input": {"type": "object", "properties": {"id": {"type": "string"}}},
            "request": {"method": "DELETE", "path": "/customers/{{ input.id }}"},
        }
        connector = shop(tmp_path, f"{api.url}/api", operations={"delete_customer": operation})
        with pytest.raises(FatalHTTPError):
            connector.call("delete_customer", {"id": ".."})
        api.json("/api/customers/a/b", None, status=204)  # werkzeug decodes %2F in `path`
        connector.call("delete_customer", {"id": "a/b"})
        assert [r.raw_path for r in api.received()] == ["/api/customers/a%2Fb"]  # one segment, as sent

    def test_debug_log_redacts_the_key(self, api: FakeAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        api.json("/items", {"echo": API_KEY})
        connector = shop(tmp_path, api.url, streams={"items": {"request": {"path": "/items"}}})
        with caplog.at_level(logging.DEBUG, logger="connector_core.engine.http"):
            list(connector.read("items"))
        assert "request GET" in caplog.text and API_KEY not in caplog.text


class TestGovernor:
    def test_never_more_requests_in_flight_than_the_concurrency(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/slow", {"ok": True})
        api.delay("/slow", 0.15)
        http = client(api, FakeTime(), concurrency=3)
        threads = [threading.Thread(target=http.send, args=("GET", "/slow")) for _ in range(9)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(api.received("/slow")) == 9
        assert api.max_in_flight == 3  # reached, never passed

    def test_rate_limit_per_window_is_respected(self, api: FakeAPI) -> None:
        api.json("/r", {"ok": True})
        governor = Governor(8, rate_requests=4, rate_per=0.5)
        http = HttpClient(base_url=api.url, auth=None, redactor=Redactor(), governor=governor, retry=RetryPolicy(), timeout=5)
        threads = [threading.Thread(target=http.send, args=("GET", "/r")) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        arrivals = sorted(r.arrived for r in api.received("/r"))
        assert len(arrivals) == 12
        # Any 5 consecutive arrivals span at least one window, less a generous allowance for delivery
        # jitter (unthrottled, all 12 would arrive within a few milliseconds).
        assert min(arrivals[i + 4] - arrivals[i] for i in range(len(arrivals) - 4)) >= 0.5 - 0.25

    def test_a_429_with_retry_after_pauses_the_other_threads(self, api: FakeAPI) -> None:
        api.json("/a", {"ok": True})
        api.json("/b", {"ok": True})
        api.fail("/a", 429, headers={"Retry-After": "1"})
        governor = Governor(4)
        http = HttpClient(base_url=api.url, auth=None, redactor=Redactor(), governor=governor, retry=RetryPolicy(), timeout=5)
        first = threading.Thread(target=http.send, args=("GET", "/a"))
        first.start()
        deadline = time.monotonic() + 5
        while governor.paused_for() == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert governor.paused_for() > 0
        others = [threading.Thread(target=http.send, args=("GET", "/b")) for _ in range(3)]
        for t in others:
            t.start()
        for t in [first, *others]:
            t.join()
        throttled = api.received("/a")[0].arrived
        assert len(api.received("/a")) == 2
        assert all(r.arrived - throttled >= 0.8 for r in api.received("/b") + api.received("/a")[1:])
