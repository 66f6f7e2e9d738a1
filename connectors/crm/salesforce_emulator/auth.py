"""OAuth 2.0 for the emulated org: the token endpoint's grants, the consent redirect, and sessions.

Grants (``POST /services/oauth2/token``):

* ``urn:ietf:params:oauth:grant-type:jwt-bearer``: an RS256 assertion verified with joserfc against
  the connected app's certificate (deliberately not PyJWT, which the connector signs with): ``iss`` the
  consumer key, ``sub`` the username, ``aud`` a login URL or the emulator's own, ``exp`` in the future
  and at most ``jwt_max_lifetime`` ahead. No refresh token, as with Salesforce.
* ``client_credentials``: consumer key and secret by HTTP Basic (or in the form); runs as the org's
  integration user.
* ``authorization_code`` (with PKCE when the consent carried a ``code_challenge``) and
  ``refresh_token``: the web-server flow. ``GET /services/oauth2/authorize`` consents at once (there
  is no person to ask) and redirects back with a one-time code.

Failures answer ``{"error", "error_description"}``; an unknown or expired session on the API is a 401
``INVALID_SESSION_ID``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from connector_core.testing.emulator import Clock

from .errors import OAuthError, invalid_session
from .keys import generate_keypair, public_key_pem
from .settings import SalesforceSettings

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Session:
    """An issued access token: whose it is, by which grant, until when (epoch seconds)."""

    user_id: str
    grant: str
    expires_at: float


@dataclass
class _Consent:
    redirect_uri: str
    challenge: str | None
    method: str


class TokenRegistry:
    """Sessions, refresh tokens and authorization codes of one org."""

    def __init__(self, settings: SalesforceSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self.refresh_tokens: set[str] = set(settings.refresh_tokens)
        self._codes: dict[str, _Consent] = {}
        self.private_key_pem: str | None = None
        pem = settings.jwt_public_key_pem
        if pem is None:
            pair = generate_keypair("emulator-connected-app")
            self.private_key_pem, pem = pair.private_pem, pair.certificate_pem
        self.certificate_pem = pem
        self._jwt_key = RSAKey.import_key(public_key_pem(pem))
        self.user_id = ""  # the integration user's id, set once the org is seeded

    # -- sessions ----------------------------------------------------------------------------------
    def issue(self, grant: str) -> str:
        org15 = self.settings.org_id[:15]
        token = f"{org15}!{secrets.token_urlsafe(72)}"
        with self._lock:
            self.sessions[token] = Session(self.user_id, grant, self.clock.now() + self.settings.session_ttl)
        return token

    def authenticate(self, header: str | None) -> Session:
        """The session a request's ``Authorization: Bearer`` (or ``OAuth``) header names; 401 otherwise."""
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token.strip():
            raise invalid_session()
        with self._lock:
            session = self.sessions.get(token.strip())
        if session is None or session.expires_at <= self.clock.now():
            raise invalid_session()
        return session

    def expire_all(self) -> int:
        """End every session (what an admin's "expire all passwords"/timeout does); returns how many."""
        with self._lock:
            count = len(self.sessions)
            self.sessions.clear()
        return count

    def revoke(self, token: str) -> None:
        with self._lock:
            self.sessions.pop(token, None)
            self.refresh_tokens.discard(token)

    # -- consent -----------------------------------------------------------------------------------
    def consent(self, args: Mapping[str, str]) -> str:
        """The redirect URL answering an authorize request: the redirect URI with ``code`` and ``state``."""
        if args.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "response type not supported")
        if args.get("client_id") != self.settings.consumer_key:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        redirect = args.get("redirect_uri", "")
        self._check_redirect(redirect)
        method = args.get("code_challenge_method", "S256" if args.get("code_challenge") else "")
        if args.get("code_challenge") and method != "S256":
            raise OAuthError("invalid_request", "unsupported code challenge method")
        code = "aPrx" + secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = _Consent(redirect, args.get("code_challenge"), method)
        query = {"code": code}
        if "state" in args:
            query["state"] = args["state"]
        return f"{redirect}{'&' if '?' in redirect else '?'}{urlencode(query)}"

    def _check_redirect(self, redirect: str) -> None:
        allowed = self.settings.redirect_uris
        host = urlsplit(redirect).hostname or ""
        if (allowed and redirect not in allowed) or (not allowed and host not in ("127.0.0.1", "localhost", "::1")):
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")

    # -- grants ------------------------------------------------------------------------------------
    def grant(self, form: Mapping[str, str], authorization: str | None, base_url: str) -> dict[str, Any]:
        kind = form.get("grant_type", "")
        if kind == JWT_BEARER:
            self._verify_assertion(form.get("assertion", ""), base_url)
            return self._reply(base_url, kind)
        if kind == "client_credentials":
            self._check_client(form, authorization)
            return self._reply(base_url, kind)
        if kind == "authorization_code":
            self._check_client(form, authorization)
            self._redeem_code(form)
            refresh = "5Aep861" + secrets.token_urlsafe(40)
            with self._lock:
                self.refresh_tokens.add(refresh)
            return {**self._reply(base_url, kind), "refresh_token": refresh}
        if kind == "refresh_token":
            self._check_client(form, authorization, secret_required=False)
            with self._lock:
                known = form.get("refresh_token", "") in self.refresh_tokens
            if not known:
                raise OAuthError("invalid_grant", "expired access/refresh token")
            return self._reply(base_url, kind)
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    def _reply(self, base_url: str, grant: str) -> dict[str, Any]:
        token = self.issue(grant)
        issued = str(int(self.clock.now() * 1000))
        signature = base64.b64encode(hashlib.sha256(f"{token}{issued}".encode()).digest()).decode()
        return {
            "access_token": token, "signature": signature, "scope": "api refresh_token",
            "instance_url": base_url, "id": f"{base_url}/id/{self.settings.org_id}/{self.user_id}",
            "token_type": "Bearer", "issued_at": issued,
        }

    def _check_client(self, form: Mapping[str, str], authorization: str | None, *,
                      secret_required: bool = True) -> None:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_client", "invalid client credentials") from None
        if client_id != self.settings.consumer_key:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if (secret_required or secret is not None) and secret != self.settings.consumer_secret:
            raise OAuthError("invalid_client", "invalid client credentials")

    def _redeem_code(self, form: Mapping[str, str]) -> None:
        with self._lock:
            consent = self._codes.pop(form.get("code", ""), None)
        if consent is None:
            raise OAuthError("invalid_grant", "invalid authorization code")
        if form.get("redirect_uri", consent.redirect_uri) != consent.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        if consent.challenge:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != consent.challenge:
                raise OAuthError("invalid_grant", "invalid code verifier")

    def _verify_assertion(self, assertion: str, base_url: str) -> None:
        if not assertion:
            raise OAuthError("invalid_grant", "invalid assertion")
        try:
            token = jwt.decode(assertion, self._jwt_key, algorithms=["RS256"])
        except (JoseError, ValueError):
            raise OAuthError("invalid_grant", "invalid assertion") from None
        claims = token.claims
        if claims.get("iss") != self.settings.consumer_key:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if claims.get("sub") != self.settings.username:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        audiences = claims.get("aud")
        accepted = {base_url.rstrip("/"), *(a.rstrip("/") for a in self.settings.jwt_audiences)}
        given = audiences if isinstance(audiences, list) else [audiences]
        if not any(isinstance(a, str) and a.rstrip("/") in accepted for a in given):
            raise OAuthError("invalid_grant", "audience is invalid")
        try:
            # Salesforce takes exp as a number or a numeric string (simple-salesforce sends a string).
            expires = float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            raise OAuthError("invalid_grant", "invalid assertion") from None
        now = self.clock.now()
        if expires <= now:
            raise OAuthError("invalid_grant", "expired authorization code")
        if expires > now + self.settings.jwt_max_lifetime:
            raise OAuthError("invalid_grant", "invalid assertion")
