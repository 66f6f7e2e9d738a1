"""Concurrency governance (429) and every fault kind, via the Python and HTTP control APIs."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from netsuite_emulator_support import RECORD, error_code, error_detail, suiteql, tba_session

from connectors.netsuite.emulator import NetSuiteEmulator


def _burst(emu: NetSuiteEmulator, n: int) -> list[requests.Response]:
    def one(_: int) -> requests.Response:
        return suiteql(tba_session(emu.settings), emu.url, "SELECT id FROM customer ORDER BY id", limit=5)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


class TestConcurrency:
    def test_requests_beyond_limit_get_429(self, fresh: NetSuiteEmulator) -> None:
        fresh.faults.add("latency", seconds=0.6, path_prefix="/services/rest/query")
        responses = _burst(fresh, 8)
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(200) == 5 and statuses.count(429) == 3
        rejected = next(r for r in responses if r.status_code == 429)
        assert error_code(rejected) == "CONCURRENCY_LIMIT_EXCEEDED"
        assert error_detail(rejected) == "Concurrent request limit exceeded. Request blocked."
        assert "Retry-After" not in rejected.headers
        stats = fresh.stats()
        assert stats["max_in_flight"] == 5 and stats["rejected_concurrency"] == 3
        assert stats["peak_attempted"] >= 6

    def test_retry_after_is_configurable(self, fresh: NetSuiteEmulator) -> None:
        fresh.settings.concurrency_limit = 1
        fresh.settings.concurrency_retry_after = 2
        fresh.faults.add("latency", seconds=0.5, path_prefix="/services/rest/query")
        rejected = [r for r in _burst(fresh, 3) if r.status_code == 429]
        assert rejected and rejected[0].headers["Retry-After"] == "2"

    def test_within_limit_all_succeed(self, fresh: NetSuiteEmulator) -> None:
        assert all(r.status_code == 200 for r in _burst(fresh, 4))


class TestFaults:
    def test_status_fault_counts_down(self, fresh: NetSuiteEmulator) -> None:
        fresh.faults.add("status", status=503, count=2, path_prefix="/services/rest/query")
        session = tba_session(fresh.settings)
        codes = [suiteql(session, fresh.url, "SELECT id FROM customer").status_code for _ in range(3)]
        assert codes == [503, 503, 200]
        assert session.get(fresh.url + RECORD + "/customer/1").status_code == 200

    def test_429_fault_with_retry_after(self, fresh: NetSuiteEmulator) -> None:
        fresh.faults.add("status", status=429, count=1, retry_after=3)
        r = tba_session(fresh.settings).get(fresh.url + RECORD + "/customer/1")
        assert r.status_code == 429 and r.headers["Retry-After"] == "3"
        assert error_code(r) == "CONCURRENCY_LIMIT_EXCEEDED" and r.headers["Connection"] == "close"

    def test_latency_fault(self, fresh: NetSuiteEmulator) -> None:
        fault = fresh.faults.add("latency", seconds=0.3)
        start = time.monotonic()
        assert tba_session(fresh.settings).get(fresh.url + RECORD + "/customer/1").status_code == 200
        assert time.monotonic() - start >= 0.3
        fresh.faults.remove(fault.id)
        assert fresh.faults.list() == []

    def test_drop_fault_closes_connection(self, fresh: NetSuiteEmulator) -> None:
        fresh.faults.add("drop", count=1, method="GET")
        session = tba_session(fresh.settings)
        with pytest.raises(requests.ConnectionError):
            session.get(fresh.url + RECORD + "/customer/1")
        assert session.get(fresh.url + RECORD + "/customer/1").status_code == 200

    def test_latency_fault_triggers_client_read_timeout(self, fresh: NetSuiteEmulator) -> None:
        fresh.faults.add("latency", seconds=0.5, count=1)
        with pytest.raises(requests.exceptions.ReadTimeout):
            tba_session(fresh.settings).get(fresh.url + RECORD + "/customer/1", timeout=(2, 0.1))

    def test_slow_fault_trickles_body(self, fresh: NetSuiteEmulator) -> None:
        fresh.faults.add("slow", seconds=0.4, count=1)
        session = tba_session(fresh.settings)
        with session.get(fresh.url + RECORD + "/customer", params={"limit": 50}, stream=True) as r:
            headers_at = time.monotonic()  # the headers come at once; the body is spread over the 0.4 s after them
            body = r.content
        assert time.monotonic() - headers_at >= 0.3
        assert len(body) == int(r.headers["Content-Length"]) and b'"count":50' in body

    def test_faults_over_http_control_api(self, fresh: NetSuiteEmulator) -> None:
        r = requests.post(fresh.url + "/_emulator/faults", json={"kind": "status", "status": 500, "count": 1})
        assert r.status_code == 201 and r.json()["kind"] == "status"
        assert len(requests.get(fresh.url + "/_emulator/faults").json()) == 1
        resp = tba_session(fresh.settings).get(fresh.url + RECORD + "/customer/1")
        assert resp.status_code == 500 and error_code(resp) == "UNEXPECTED_ERROR"
        assert requests.post(fresh.url + "/_emulator/faults", json={"kind": "nope"}).status_code == 400
        requests.post(fresh.url + "/_emulator/faults", json={"kind": "latency", "seconds": 5})
        assert requests.delete(fresh.url + "/_emulator/faults").status_code == 200
        assert requests.get(fresh.url + "/_emulator/faults").json() == []

    def test_control_api_is_never_faulted(self, fresh: NetSuiteEmulator) -> None:
        fresh.faults.add("status", status=503, path_prefix="/")
        assert requests.get(fresh.url + "/_emulator/health").status_code == 200


class TestConnections:
    def test_session_reuses_one_keep_alive_connection(self, fresh: NetSuiteEmulator) -> None:
        session = tba_session(fresh.settings)
        for _ in range(10):
            assert session.get(fresh.url + RECORD + "/customer/1").status_code == 200
        assert len(fresh._server.open_connections) == 1  # type: ignore[union-attr]

    def test_chunked_request_body(self, fresh: NetSuiteEmulator) -> None:
        def body() -> object:
            yield b'{"q": "SELECT id FROM customer'
            yield b' ORDER BY id"}'

        r = tba_session(fresh.settings).post(fresh.url + "/services/rest/query/v1/suiteql?limit=2", data=body(),
                                             headers={"Content-Type": "application/json"})
        assert r.status_code == 200 and r.json()["count"] == 2
