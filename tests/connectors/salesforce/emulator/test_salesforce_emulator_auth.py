"""OAuth against the emulator: JWT bearer (checked with joserfc), client credentials, web-server flow, sessions.

The assertions here are signed by hand with ``cryptography`` (RSASSA-PKCS1-v1_5 over SHA-256, RFC 7515),
so the emulator's verification is proven against a signer that is neither its own library nor the
connector's PyJWT.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from salesforce_emulator_support import Org

from connectors.crm.salesforce_emulator.auth import JWT_BEARER


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_rs256(claims: dict[str, Any], private_pem: str, header: dict[str, Any] | None = None) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signing_input = ".".join(_b64(json.dumps(part).encode()) for part in (header or {"alg": "RS256"}, claims))
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def claims(org: Org, **overrides: Any) -> dict[str, Any]:
    creds = org.emulator.credentials
    base = {"iss": creds["consumer_key"], "sub": creds["username"], "aud": "https://login.salesforce.com",
            "exp": int(time.time()) + 180}
    return {**base, **overrides}


def token(org: Org, data: dict[str, str], **kwargs: Any) -> requests.Response:
    return requests.post(f"{org.url}/services/oauth2/token", data=data, **kwargs)


def jwt_grant(org: Org, assertion: str) -> requests.Response:
    return token(org, {"grant_type": JWT_BEARER, "assertion": assertion})


def test_a_signed_assertion_gets_a_session_on_the_instance(org: Org) -> None:
    reply = jwt_grant(org, sign_rs256(claims(org), org.emulator.credentials["private_key_pem"]))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["instance_url"] == org.url and body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    assert body["id"].startswith(f"{org.url}/id/00D")
    api = requests.get(f"{org.url}/services/data/v59.0/limits",
                       headers={"Authorization": f"Bearer {body['access_token']}"})
    assert api.status_code == 200


def test_the_audience_may_be_the_emulator_url_and_exp_a_numeric_string(org: Org) -> None:
    pem = org.emulator.credentials["private_key_pem"]
    assert jwt_grant(org, sign_rs256(claims(org, aud=org.url), pem)).status_code == 200
    assert jwt_grant(org, sign_rs256(claims(org, exp=str(int(time.time()) + 120)), pem)).status_code == 200


def _other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.parametrize(
    ("change", "error", "description"),
    [
        ({"iss": "someone-else"}, "invalid_client_id", "client identifier invalid"),
        ({"sub": "nobody@example.com"}, "invalid_grant", "user hasn't approved this consumer"),
        ({"aud": "https://evil.example.com"}, "invalid_grant", "audience is invalid"),
        ({"exp": 1_000_000_000}, "invalid_grant", "expired authorization code"),
        ({"exp": 4_000_000_000}, "invalid_grant", "invalid assertion"),
    ],
)
def test_bad_claims_are_refused(org: Org, change: dict[str, Any], error: str, description: str) -> None:
    reply = jwt_grant(org, sign_rs256(claims(org, **change), org.emulator.credentials["private_key_pem"]))
    assert reply.status_code == 400
    assert reply.json() == {"error": error, "error_description": description}


def test_a_wrong_key_a_tampered_payload_and_alg_none_are_refused(org: Org) -> None:
    good = sign_rs256(claims(org), org.emulator.credentials["private_key_pem"])
    header, payload, signature = good.split(".")
    forged = _b64(json.dumps(claims(org, sub="admin@example.com")).encode())
    unsigned = f"{_b64(json.dumps({'alg': 'none'}).encode())}.{payload}."
    for assertion in (sign_rs256(claims(org), _other_key()), f"{header}.{forged}.{signature}", unsigned, "junk"):
        reply = jwt_grant(org, assertion)
        assert reply.status_code == 400
        assert reply.json()["error_description"] == "invalid assertion"


def test_client_credentials_by_basic_auth(org: Org) -> None:
    creds = org.emulator.credentials
    ok = token(org, {"grant_type": "client_credentials"}, auth=(creds["consumer_key"], creds["consumer_secret"]))
    assert ok.status_code == 200 and ok.json()["instance_url"] == org.url
    bad = token(org, {"grant_type": "client_credentials"}, auth=(creds["consumer_key"], "wrong"))
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"


def test_web_server_flow_with_pkce_and_refresh(org: Org) -> None:
    creds = org.emulator.credentials
    verifier = secrets.token_urlsafe(48)
    challenge = _b64(hashlib.sha256(verifier.encode()).digest())
    redirect = "http://127.0.0.1:8765/callback"
    consent = requests.get(f"{org.url}/services/oauth2/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": creds["consumer_key"], "redirect_uri": redirect, "state": "xyz",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert consent.status_code == 302
    location = urlsplit(consent.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    exchange = {"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": redirect,
                "client_id": creds["consumer_key"], "client_secret": creds["consumer_secret"]}
    assert token(org, {**exchange, "code_verifier": "wrong"}).json()["error_description"] == "invalid code verifier"

    consent = requests.get(consent.url, allow_redirects=False)
    exchange["code"] = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
    granted = token(org, {**exchange, "code_verifier": verifier})
    assert granted.status_code == 200, granted.text
    refresh = granted.json()["refresh_token"]
    again = token(org, {**exchange, "code_verifier": verifier})
    assert again.json() == {"error": "invalid_grant", "error_description": "invalid authorization code"}

    renewed = token(org, {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": creds["consumer_key"],
                          "client_secret": creds["consumer_secret"]})
    assert renewed.status_code == 200 and "refresh_token" not in renewed.json()
    stale = token(org, {"grant_type": "refresh_token", "refresh_token": "nope", "client_id": creds["consumer_key"]})
    assert stale.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}


def test_a_foreign_redirect_uri_is_refused(org: Org) -> None:
    reply = requests.get(f"{org.url}/services/oauth2/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": org.emulator.credentials["consumer_key"],
        "redirect_uri": "https://evil.example.com/cb"})
    assert reply.status_code == 400 and "redirect_uri_mismatch" in reply.text


def test_an_expired_or_unknown_session_is_invalid_session_id(org: Org) -> None:
    assert org.get("/limits").status_code == 200
    org.emulator.advance_time(org.emulator.settings.session_ttl + 1)
    reply = org.get("/limits")
    assert reply.status_code == 401
    assert reply.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert "Sforce-Limit-Info" not in reply.headers
    missing = requests.get(f"{org.data}/limits")
    assert missing.status_code == 401


def test_expiring_every_session_through_the_control_api(org: Org) -> None:
    assert org.control("POST", "/sessions/expire")["expired"] >= 1
    assert org.get("/limits").status_code == 401


def test_a_revoked_session_is_invalid(org: Org) -> None:
    session = org.http.headers["Authorization"].split(" ", 1)[1]
    reply = requests.post(f"{org.url}/services/oauth2/revoke", data={"token": session})
    assert reply.status_code == 200 and reply.content == b""
    assert org.get("/limits").status_code == 401
