"""Token-based authentication (OAuth 1.0a HMAC-SHA256) as NetSuite enforces it."""

from __future__ import annotations

import time
import uuid

import requests
from netsuite_emulator_support import RECORD, SUITEQL, error_code, signed_headers, tba

from connectors.netsuite.emulator import NetSuiteEmulator

INVALID_LOGIN_BODY = {
    "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2",
    "title": "Unauthorized",
    "status": 401,
    "o:errorDetails": [
        {
            "detail": "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI "
            "at Setup > Users/Roles > User Management > View Login Audit Trail.",
            "o:errorCode": "INVALID_LOGIN",
        }
    ],
}


def _assert_invalid_login(response: requests.Response) -> None:
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/vnd.oracle.resource+json; type=error; charset=UTF-8"
    assert response.headers["Connection"] == "close"
    assert response.json() == INVALID_LOGIN_BODY


class TestTbaSuccess:
    def test_signed_get_with_query_params_succeeds(self, emulator: NetSuiteEmulator) -> None:
        r = requests.get(emulator.url + RECORD + "/customer", params={"limit": 5, "offset": 0},
                         auth=tba(emulator.settings))
        assert r.status_code == 200
        assert r.json()["count"] == 5

    def test_json_body_is_not_part_of_signature(self, emulator: NetSuiteEmulator) -> None:
        r = requests.post(emulator.url + SUITEQL, params={"limit": 1}, json={"q": "SELECT id FROM customer"},
                          auth=tba(emulator.settings), headers={"Prefer": "transient"})
        assert r.status_code == 200

    def test_options_probe_answers_204(self, emulator: NetSuiteEmulator) -> None:
        r = requests.options(emulator.url + "/services/rest/record/v1/customer", auth=tba(emulator.settings))
        assert r.status_code == 204

    def test_success_keeps_connection_alive(self, emulator: NetSuiteEmulator) -> None:
        r = requests.get(emulator.url + RECORD + "/customer/1", auth=tba(emulator.settings))
        assert r.status_code == 200
        assert r.headers["Connection"] == "keep-alive"


class TestTbaFailures:
    def test_missing_authorization(self, emulator: NetSuiteEmulator) -> None:
        _assert_invalid_login(requests.get(emulator.url + RECORD + "/customer/1"))

    def test_lowercase_realm_is_refused(self, emulator: NetSuiteEmulator) -> None:
        auth = tba(emulator.settings, realm=emulator.settings.account_id.lower())
        _assert_invalid_login(requests.get(emulator.url + RECORD + "/customer/1", auth=auth))

    def test_hyphenated_realm_is_refused(self, emulator: NetSuiteEmulator) -> None:
        auth = tba(emulator.settings, realm="1234567-SB1")
        _assert_invalid_login(requests.get(emulator.url + RECORD + "/customer/1", auth=auth))

    def test_wrong_consumer_secret(self, emulator: NetSuiteEmulator) -> None:
        auth = tba(emulator.settings, client_secret="not-the-secret")
        _assert_invalid_login(requests.get(emulator.url + RECORD + "/customer/1", auth=auth))

    def test_wrong_token_secret(self, emulator: NetSuiteEmulator) -> None:
        auth = tba(emulator.settings, resource_owner_secret="nope")
        _assert_invalid_login(requests.get(emulator.url + RECORD + "/customer/1", auth=auth))

    def test_unknown_token_id(self, emulator: NetSuiteEmulator) -> None:
        auth = tba(emulator.settings, resource_owner_key="unknown-token")
        _assert_invalid_login(requests.get(emulator.url + RECORD + "/customer/1", auth=auth))

    def test_hmac_sha1_is_refused(self, emulator: NetSuiteEmulator) -> None:
        auth = tba(emulator.settings, signature_method="HMAC-SHA1")
        _assert_invalid_login(requests.get(emulator.url + RECORD + "/customer/1", auth=auth))

    def test_query_params_must_be_signed(self, emulator: NetSuiteEmulator) -> None:
        url = emulator.url + RECORD + "/customer"
        headers = signed_headers(emulator.settings, "GET", url)  # signed without the query
        r = requests.get(url, params={"limit": 5}, headers=headers)
        _assert_invalid_login(r)

    def test_nonce_reuse_is_refused(self, emulator: NetSuiteEmulator) -> None:
        url = emulator.url + RECORD + "/customer/2"
        nonce, ts = uuid.uuid4().hex, int(time.time())
        headers = signed_headers(emulator.settings, "GET", url, nonce=nonce, timestamp=ts)
        assert requests.get(url, headers=headers).status_code == 200
        _assert_invalid_login(requests.get(url, headers=headers))

    def test_timestamp_outside_skew_is_refused(self, emulator: NetSuiteEmulator) -> None:
        url = emulator.url + RECORD + "/customer/2"
        for offset in (-301 - 5, 301 + 5):
            headers = signed_headers(emulator.settings, "GET", url, nonce=uuid.uuid4().hex,
                                     timestamp=int(time.time()) + offset)
            _assert_invalid_login(requests.get(url, headers=headers))

    def test_timestamp_inside_skew_is_accepted(self, emulator: NetSuiteEmulator) -> None:
        url = emulator.url + RECORD + "/customer/2"
        headers = signed_headers(emulator.settings, "GET", url, nonce=uuid.uuid4().hex,
                                 timestamp=int(time.time()) - 200)
        assert requests.get(url, headers=headers).status_code == 200

    def test_skew_follows_the_emulated_clock(self, fresh: NetSuiteEmulator) -> None:
        fresh.advance_time(3600)
        r = requests.get(fresh.url + RECORD + "/customer/1", auth=tba(fresh.settings))
        assert error_code(r) == "INVALID_LOGIN"

    def test_short_nonce_is_refused(self, emulator: NetSuiteEmulator) -> None:
        url = emulator.url + RECORD + "/customer/2"
        headers = signed_headers(emulator.settings, "GET", url, nonce="abc", timestamp=int(time.time()))
        _assert_invalid_login(requests.get(url, headers=headers))
