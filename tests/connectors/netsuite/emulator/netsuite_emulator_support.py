"""Client-side helpers for the emulator tests: TBA signing, JWT assertions, SuiteQL calls.

Signing uses requests-oauthlib/oauthlib client code and PyJWT, never the emulator's code.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import requests
from oauthlib.oauth1 import Client
from requests_oauthlib import OAuth1

from connectors.netsuite.emulator import EmulatorSettings

SUITEQL = "/services/rest/query/v1/suiteql"
RECORD = "/services/rest/record/v1"
TOKEN = "/services/rest/auth/oauth2/v1/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def tba(settings: EmulatorSettings, **overrides: Any) -> OAuth1:
    """requests auth signing with HMAC-SHA256 and the proper realm (overridable)."""
    args: dict[str, Any] = {
        "client_key": settings.consumer_key,
        "client_secret": settings.consumer_secret,
        "resource_owner_key": settings.token_id,
        "resource_owner_secret": settings.token_secret,
        "signature_method": "HMAC-SHA256",
        "realm": settings.realm,
    }
    args.update(overrides)
    return OAuth1(**args)


def tba_session(settings: EmulatorSettings) -> requests.Session:
    session = requests.Session()
    session.auth = tba(settings)
    return session


def signed_headers(
    settings: EmulatorSettings, method: str, url: str, *, nonce: str | None = None,
    timestamp: int | None = None, **overrides: Any,
) -> dict[str, str]:
    """Authorization header built with oauthlib's Client, with a chosen nonce/timestamp."""
    args: dict[str, Any] = {
        "client_key": settings.consumer_key,
        "client_secret": settings.consumer_secret,
        "resource_owner_key": settings.token_id,
        "resource_owner_secret": settings.token_secret,
        "signature_method": "HMAC-SHA256",
        "realm": settings.realm,
        "nonce": nonce,
        "timestamp": str(timestamp) if timestamp is not None else None,
    }
    args.update(overrides)
    _, headers, _ = Client(**args).sign(url, http_method=method)
    return dict(headers)


def assertion(
    private_pem: str, settings: EmulatorSettings, aud: str, *, alg: str = "ES256",
    kid: str | None = None, iss: str | None = None, scope: Any = "rest_webservices",
    iat: int | None = None, exp: int | None = None,
) -> str:
    now = int(time.time()) if iat is None else iat
    claims = {
        "iss": iss or settings.m2m_client_id,
        "scope": scope,
        "aud": aud,
        "iat": now,
        "exp": exp if exp is not None else now + 1800,
    }
    return jwt.encode(claims, private_pem, algorithm=alg,
                      headers={"kid": kid or settings.certificate_id, "typ": "JWT"})


def m2m_token(url: str, token_assertion: str) -> requests.Response:
    return requests.post(url + TOKEN, data={
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": token_assertion,
    })


def suiteql(
    session: requests.Session, url: str, q: str, *, limit: int | None = None, offset: int | None = None,
    prefer: bool = True,
) -> requests.Response:
    params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
    headers = {"Prefer": "transient"} if prefer else {}
    return session.post(url + SUITEQL, params=params, json={"q": q}, headers=headers)


def error_code(response: requests.Response) -> str:
    return response.json()["o:errorDetails"][0]["o:errorCode"]


def error_detail(response: requests.Response) -> str:
    return response.json()["o:errorDetails"][0]["detail"]
