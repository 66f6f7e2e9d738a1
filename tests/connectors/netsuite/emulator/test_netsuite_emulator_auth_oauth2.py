"""OAuth 2.0: client credentials with JWT assertions, authorization code + PKCE, refresh."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from netsuite_emulator_support import RECORD, TOKEN, assertion, error_code, m2m_token

from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator
from connectors.netsuite.emulator.keys import KeyPair

REDIRECT = "https://oauth2.integrations.acme.com/callback"


def _bearer_get(url: str, token: str) -> requests.Response:
    return requests.get(url + RECORD + "/customer/1", headers={"Authorization": f"Bearer {token}"})


class TestClientCredentials:
    def test_es256_assertion_yields_working_token(self, emulator: NetSuiteEmulator, ec_keys: KeyPair) -> None:
        aud = emulator.url + TOKEN
        r = m2m_token(emulator.url, assertion(ec_keys.private_pem, emulator.settings, aud))
        assert r.status_code == 200
        body = r.json()
        assert set(body) == {"access_token", "expires_in", "token_type"}
        assert body["expires_in"] == "3600" and body["token_type"] == "bearer"
        assert _bearer_get(emulator.url, body["access_token"]).status_code == 200

    def test_scope_as_json_array_is_accepted(self, emulator: NetSuiteEmulator, ec_keys: KeyPair) -> None:
        token = assertion(ec_keys.private_pem, emulator.settings, emulator.url + TOKEN,
                          scope=["restlets", "rest_webservices"])
        assert m2m_token(emulator.url, token).status_code == 200

    def test_canonical_netsuite_token_url_is_accepted_as_audience(
        self, emulator: NetSuiteEmulator, ec_keys: KeyPair
    ) -> None:
        aud = "https://1234567-sb1.suitetalk.api.netsuite.com" + TOKEN
        assert m2m_token(emulator.url, assertion(ec_keys.private_pem, emulator.settings, aud)).status_code == 200

    def test_ps256_with_rsa_certificate(self, rsa_keys: KeyPair) -> None:
        settings = EmulatorSettings(customers=5, m2m_public_key_pem=rsa_keys.certificate_pem)
        with NetSuiteEmulator(settings) as emu:
            token = assertion(rsa_keys.private_pem, settings, emu.url + TOKEN, alg="PS256")
            assert m2m_token(emu.url, token).status_code == 200

    def test_rs256_is_rejected(self, rsa_keys: KeyPair) -> None:
        settings = EmulatorSettings(customers=5, m2m_public_key_pem=rsa_keys.public_pem)
        with NetSuiteEmulator(settings) as emu:
            token = assertion(rsa_keys.private_pem, settings, emu.url + TOKEN, alg="RS256")
            r = m2m_token(emu.url, token)
            assert r.status_code == 400
            assert r.json()["error"] == "invalid_request"

    @pytest.mark.parametrize(
        ("change", "error"),
        [
            ({"kid": "custcertificate_other"}, "invalid_client"),
            ({"iss": "someone-else"}, "invalid_client"),
            ({"aud": "https://example.com/token"}, "invalid_request"),
            ({"scope": "everything"}, "invalid_scope"),
            ({"exp_offset": 3600}, "invalid_grant"),
            ({"iat_offset": -7200, "exp_offset": -3600}, "invalid_grant"),
        ],
    )
    def test_bad_assertions_are_refused(
        self, emulator: NetSuiteEmulator, ec_keys: KeyPair, change: dict, error: str
    ) -> None:
        now = int(time.time())
        iat = now + change.pop("iat_offset", 0)
        exp = iat + change.pop("exp_offset", 1800)
        aud = change.pop("aud", emulator.url + TOKEN)
        token = assertion(ec_keys.private_pem, emulator.settings, aud, iat=iat, exp=exp, **change)
        r = m2m_token(emulator.url, token)
        assert r.status_code in (400, 401)
        assert r.json()["error"] == error

    def test_assertion_signed_by_another_key_is_refused(self, emulator: NetSuiteEmulator) -> None:
        from connectors.netsuite.emulator.keys import generate_keypair

        other = generate_keypair("ec")
        r = m2m_token(emulator.url, assertion(other.private_pem, emulator.settings, emulator.url + TOKEN))
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"

    def test_expired_access_token_gives_invalid_login(self, fresh: NetSuiteEmulator, ec_keys: KeyPair) -> None:
        r = m2m_token(fresh.url, assertion(ec_keys.private_pem, fresh.settings, fresh.url + TOKEN))
        token = r.json()["access_token"]
        assert _bearer_get(fresh.url, token).status_code == 200
        fresh.advance_time(3601)
        r = _bearer_get(fresh.url, token)
        assert r.status_code == 401 and error_code(r) == "INVALID_LOGIN"

    def test_unknown_bearer_token_gives_invalid_login(self, emulator: NetSuiteEmulator) -> None:
        r = _bearer_get(emulator.url, "not-a-token")
        assert r.status_code == 401 and error_code(r) == "INVALID_LOGIN"

    def test_token_without_rest_scope_is_refused(self, emulator: NetSuiteEmulator) -> None:
        token = emulator.issue_access_token(frozenset({"restlets"}))
        assert _bearer_get(emulator.url, token).status_code == 401

    def test_unsupported_grant_type(self, emulator: NetSuiteEmulator) -> None:
        r = requests.post(emulator.url + TOKEN, data={"grant_type": "password"})
        assert r.status_code == 400 and r.json() == {"error": "unsupported_grant_type"}


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize(emu: NetSuiteEmulator, challenge: str, method: str = "S256", state: str | None = None) -> dict:
    state = state or secrets.token_urlsafe(24)
    r = requests.get(emu.url + "/app/login/oauth2/authorize.nl", allow_redirects=False, params={
        "response_type": "code", "client_id": emu.settings.oauth2_client_id, "redirect_uri": REDIRECT,
        "scope": "rest_webservices", "state": state, "code_challenge": challenge,
        "code_challenge_method": method,
    })
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _basic(settings: EmulatorSettings, secret: str | None = None) -> tuple[str, str]:
    return settings.oauth2_client_id, secret or settings.oauth2_client_secret


class TestAuthorizationCode:
    def test_full_flow_and_refresh(self, fresh: NetSuiteEmulator) -> None:
        verifier, challenge = _pkce()
        params = _authorize(fresh, challenge)
        assert params["company"] == fresh.settings.account_id
        r = requests.post(fresh.url + TOKEN, auth=_basic(fresh.settings), data={
            "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        })
        assert r.status_code == 200, r.text
        tokens = r.json()
        assert _bearer_get(fresh.url, tokens["access_token"]).status_code == 200
        claims = jwt.decode(tokens["refresh_token"], options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 7 * 24 * 3600
        # the code is single use
        again = requests.post(fresh.url + TOKEN, auth=_basic(fresh.settings), data={
            "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        })
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        # refresh after the access token expired
        fresh.advance_time(3700)
        assert _bearer_get(fresh.url, tokens["access_token"]).status_code == 401
        r = requests.post(fresh.url + TOKEN, auth=_basic(fresh.settings), data={
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
        assert r.status_code == 200
        assert "refresh_token" not in r.json()
        assert _bearer_get(fresh.url, r.json()["access_token"]).status_code == 200

    def test_expired_refresh_token_is_invalid_grant(self, fresh: NetSuiteEmulator) -> None:
        verifier, challenge = _pkce()
        params = _authorize(fresh, challenge)
        tokens = requests.post(fresh.url + TOKEN, auth=_basic(fresh.settings), data={
            "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        }).json()
        fresh.advance_time(7 * 24 * 3600 + 1)
        r = requests.post(fresh.url + TOKEN, auth=_basic(fresh.settings), data={
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
        assert r.status_code == 400
        assert r.json() == {"error": "invalid_grant"}

    def test_wrong_code_verifier_is_refused(self, fresh: NetSuiteEmulator) -> None:
        _, challenge = _pkce()
        params = _authorize(fresh, challenge)
        r = requests.post(fresh.url + TOKEN, auth=_basic(fresh.settings), data={
            "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT,
            "code_verifier": "x" * 50,
        })
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"

    def test_wrong_client_secret_is_invalid_client(self, fresh: NetSuiteEmulator) -> None:
        verifier, challenge = _pkce()
        params = _authorize(fresh, challenge)
        r = requests.post(fresh.url + TOKEN, auth=_basic(fresh.settings, "wrong"), data={
            "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        })
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"

    def test_plain_pkce_is_refused(self, fresh: NetSuiteEmulator) -> None:
        verifier, _ = _pkce()
        params = _authorize(fresh, verifier, method="plain")
        assert params["error"] == "invalid_request" and "code" not in params

    def test_short_state_is_refused(self, fresh: NetSuiteEmulator) -> None:
        _, challenge = _pkce()
        params = _authorize(fresh, challenge, state="short")
        assert params["error"] == "invalid_request"
