"""What the HTTP client says while it works (issue 11, "failures speak"): one log line per retry as it
happens, a dead host in words, the retry policy from ``CONNECTOR_CORE_RETRIES``, and debug headers as text.

Over real HTTP on 127.0.0.1 (the fake API); waits go through an injected sleep.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fakeapi import FakeAPI, FakeTime
from requests_oauthlib import OAuth1

from connector_core.engine.governance import Governor
from connector_core.engine.http import RETRIES_ENV, HttpClient, effective_policy, network_reason
from connector_core.engine.redaction import Redactor
from connector_core.engine.spec import RetryPolicy
from connector_core.errors import ConfigError, RetriableHTTPError

LOGGER = "connector_core.engine.http"


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


def client(base_url: str, fake: FakeTime, *, attempts: int = 4, auth: Any = None) -> HttpClient:
    return HttpClient(
        base_url=base_url, auth=auth, redactor=Redactor(), governor=Governor(4, clock=fake.clock, sleep=fake.sleep),
        retry=RetryPolicy(attempts=attempts, backoff=0.5, max_backoff=4), timeout=5, sleep=fake.sleep,
    )


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class TestRetryLines:
    def test_each_retry_is_a_warning_with_what_failed_attempt_n_of_m_and_the_wait(self, api: FakeAPI, caplog: pytest.LogCaptureFixture) -> None:
        api.json("/items", {"ok": True})
        api.fail("/items", 503, times=2)
        fake = FakeTime()
        with caplog.at_level(logging.INFO, logger=LOGGER):
            client(api.url, fake).send("GET", "/items", params={"q": "x"})
        lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]
        assert [level for level, _ in lines] == [logging.WARNING, logging.WARNING]
        for number, (_, text) in enumerate(lines, 1):
            wait = f"{fake.sleeps[number - 1]:.1f}"
            assert text == f"GET {api.url}/items: HTTP 503 SERVICE UNAVAILABLE; attempt {number} of 4 failed, next in {wait}s"

    def test_a_first_429_is_routine_a_second_is_a_warning(self, api: FakeAPI, caplog: pytest.LogCaptureFixture) -> None:
        api.json("/items", {"ok": True})
        api.fail("/items", 429, times=2, headers={"Retry-After": "1"})
        with caplog.at_level(logging.INFO, logger=LOGGER):
            client(api.url, FakeTime()).send("GET", "/items")
        assert [r.levelno for r in caplog.records if r.name == LOGGER] == [logging.INFO, logging.WARNING]
        assert "HTTP 429 TOO MANY REQUESTS; attempt 2 of 4 failed, next in 1.0s" in caplog.records[-1].getMessage()

    def test_a_dead_host_is_named_in_words_retry_by_retry_and_in_the_error(self, caplog: pytest.LogCaptureFixture) -> None:
        base = dead_url()
        with caplog.at_level(logging.WARNING, logger=LOGGER), pytest.raises(RetriableHTTPError) as caught:
            client(base, FakeTime(), attempts=3).send("GET", "/items")
        assert [r.getMessage().split("; ")[1].split(",")[0] for r in caplog.records] == ["attempt 1 of 3 failed", "attempt 2 of 3 failed"]
        assert all(f"GET {base}/items: connection refused (ConnectionError)" in r.getMessage() for r in caplog.records)
        message = caught.value.message
        assert re.fullmatch(
            rf"GET {base}/items: nothing answered at {base} after 3 attempts over \d+\.\d s; last: connection refused \(ConnectionError\)\. "
            r"Is the API up, and is the base_url right\?",
            message,
        ), message
        assert caught.value.status is None and caught.value.attempts == 3

    def test_network_reason_reads_through_the_wrappers(self) -> None:
        with pytest.raises(requests.ConnectionError) as caught:
            requests.get(f"{dead_url()}/x", timeout=5)
        assert network_reason(caught.value) == "connection refused (ConnectionError)"
        assert network_reason(requests.ReadTimeout("pool says so"), 7) == "no answer within 7s (ReadTimeout)"


class TestRetriesFromTheEnvironment:
    def test_the_variable_replaces_the_policy_of_every_request(self, api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
        api.fail("/items", 503, times=10)
        monkeypatch.setenv(RETRIES_ENV, "attempts=2, backoff=0")
        fake = FakeTime()
        with pytest.raises(RetriableHTTPError, match="failed after 2 attempts"):
            client(api.url, fake, attempts=8).send("GET", "/items")
        assert len(api.received("/items")) == 2 and fake.sleeps == [0.0]
        assert effective_policy(RetryPolicy(attempts=8, max_backoff=60)).model_dump()["max_backoff"] == 60

    @pytest.mark.parametrize("value", ["attempts=lots", "tries=2", "attempts=0"])
    def test_a_bad_value_names_the_variable(self, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(RETRIES_ENV, value)
        with pytest.raises(ConfigError, match=rf"^\${RETRIES_ENV}: "):
            effective_policy(RetryPolicy())


class TestDebugHeaders:
    def test_signed_headers_are_logged_as_text_with_secrets_masked_by_name(self, api: FakeAPI, caplog: pytest.LogCaptureFixture) -> None:
        api.json("/items", {"ok": True})

        def signer(request: requests.PreparedRequest) -> requests.PreparedRequest:
            request.headers[b"Authorization"] = b"Signature not-registered-anywhere"  # type: ignore[index,assignment]  # as some signers do
            return request

        with caplog.at_level(logging.DEBUG, logger=LOGGER):
            client(api.url, FakeTime(), auth=signer).send("GET", "/items")
            client(api.url, FakeTime(), auth=OAuth1("ck-0000", "cs-0000", "tk-0000", "ts-0000", signature_method="HMAC-SHA256")).send("GET", "/items")
        requests_logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("request GET")]
        assert len(requests_logged) == 2
        for line in requests_logged:
            assert "b'" not in line and "'User-Agent': 'python-requests/" in line and "'Authorization': '***'" in line, line
        assert "not-registered-anywhere" not in caplog.text and "oauth_signature" not in caplog.text
