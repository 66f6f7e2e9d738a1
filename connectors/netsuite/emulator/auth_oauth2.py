"""OAuth 2.0: the token endpoint (client credentials with a JWT assertion, authorization code
with PKCE, refresh token), the authorize page, and bearer-token checks.

Token-endpoint failures answer ``{"error": …}``. HTTP statuses per error are UNCONFIRMED for
NetSuite; this emulator uses 401 for ``invalid_client`` and 400 for everything else.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .errors import OAuthError
from .settings import EmulatorSettings

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: NetSuite accepts PS* and ES*; RS256 has been refused since 1 March 2025.
ALLOWED_ASSERTION_ALGS = ("PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
KNOWN_SCOPES = frozenset({"restlets", "rest_webservices", "suite_analytics"})
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
AUTHORIZE_PATH = "/app/login/oauth2/authorize.nl"


@dataclass
class _Grant:
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: frozenset[str]
    expires_at: float


class OAuth2Server:
    """Issues and checks OAuth 2.0 tokens against the emulator clock."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self._signing_key = secrets.token_bytes(32)
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()
        self._public_key: Any = None

    def reset(self) -> None:
        with self._lock:
            self._access.clear()
            self._refresh.clear()
            self._codes.clear()

    # ------------------------------------------------------------------ tokens

    def _mint(self, kind: str, client_id: str, scopes: frozenset[str], ttl: int) -> tuple[str, _Grant]:
        now = self.settings.clock.now()
        claims = {
            "iss": "https://system.netsuite.com",
            "sub": "3;-5",
            "aud": [client_id, self.settings.account_id],
            "iat": int(now),
            "exp": int(now + ttl),
            "scope": sorted(scopes),
            "jti": secrets.token_hex(12),
            "tokentype": kind,
        }
        token = jwt.encode(claims, self._signing_key, algorithm="HS256", headers={"kid": "emulator"})
        return token, _Grant(client_id, scopes, now + ttl)

    def issue_access_token(self, client_id: str | None = None, scopes: frozenset[str] | None = None) -> str:
        """Mint a valid access token directly (test helper; skips the token endpoint)."""
        token, grant = self._mint(
            "access",
            client_id or self.settings.m2m_client_id,
            scopes or frozenset({"rest_webservices"}),
            self.settings.access_token_ttl,
        )
        with self._lock:
            self._access[token] = grant
        return token

    def _token_reply(self, client_id: str, scopes: frozenset[str], with_refresh: bool) -> dict[str, Any]:
        access = self.issue_access_token(client_id, scopes)
        ttl = self.settings.access_token_ttl
        reply: dict[str, Any] = {"access_token": access}
        if with_refresh:
            refresh, grant = self._mint("refresh", client_id, scopes, self.settings.refresh_token_ttl)
            with self._lock:
                self._refresh[refresh] = grant
            reply["refresh_token"] = refresh
        reply["expires_in"] = str(ttl) if self.settings.expires_in_as_string else ttl
        reply["token_type"] = "bearer"
        return reply

    def check_bearer(self, token: str) -> bool:
        """True for a live access token carrying the ``rest_webservices`` scope."""
        with self._lock:
            grant = self._access.get(token)
        if grant is None or grant.expires_at <= self.settings.clock.now():
            return False
        return "rest_webservices" in grant.scopes

    # ------------------------------------------------------------------ token endpoint

    def token(self, form: dict[str, str], authorization: str | None, token_urls: list[str]) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        if grant_type == "client_credentials":
            return self._client_credentials(form, token_urls)
        if grant_type == "authorization_code":
            return self._authorization_code(form, authorization)
        if grant_type == "refresh_token":
            return self._refresh_token(form, authorization)
        if not grant_type:
            raise OAuthError("invalid_request")
        raise OAuthError("unsupported_grant_type")

    def _verification_key(self) -> Any:
        if self._public_key is None:
            pem = self.settings.m2m_public_key_pem
            if not pem:
                raise OAuthError("invalid_client", 401)
            data = pem.encode()
            if b"BEGIN CERTIFICATE" in data:
                self._public_key = x509.load_pem_x509_certificate(data).public_key()
            else:
                self._public_key = load_pem_public_key(data)
        return self._public_key

    def _client_credentials(self, form: dict[str, str], token_urls: list[str]) -> dict[str, Any]:
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            raise OAuthError("invalid_request")
        assertion = form["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise OAuthError("invalid_request") from None
        alg = header.get("alg")
        if alg not in ALLOWED_ASSERTION_ALGS:
            raise OAuthError("invalid_request", description=f"Unsupported JWT signing algorithm {alg}.")
        if header.get("kid") != self.settings.certificate_id:
            raise OAuthError("invalid_client", 401)
        try:
            claims = jwt.decode(
                assertion,
                self._verification_key(),
                algorithms=[alg],
                audience=token_urls,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                         "require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.InvalidAudienceError:
            raise OAuthError("invalid_request", description="Invalid aud claim.") from None
        except jwt.PyJWTError:
            raise OAuthError("invalid_client", 401) from None
        if claims.get("iss") != self.settings.m2m_client_id:
            raise OAuthError("invalid_client", 401)
        now = self.settings.clock.now()
        iat, exp = claims["iat"], claims["exp"]
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            raise OAuthError("invalid_request")
        skew = self.settings.timestamp_skew_seconds
        if iat > now + skew or exp <= now or exp <= iat or exp >= iat + 3600:
            raise OAuthError("invalid_grant", description="The JWT assertion is expired or not yet valid.")
        scopes = _parse_scope(claims.get("scope"))
        return self._token_reply(self.settings.m2m_client_id, scopes, with_refresh=False)

    def _basic_client(self, authorization: str | None) -> str:
        if not authorization or not authorization.lower().startswith("basic "):
            raise OAuthError("invalid_client", 401)
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
            client_id, _, secret = decoded.partition(":")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", 401) from None
        if not (
            secrets.compare_digest(client_id, self.settings.oauth2_client_id)
            and secrets.compare_digest(secret, self.settings.oauth2_client_secret)
        ):
            raise OAuthError("invalid_client", 401)
        return client_id

    def _authorization_code(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        client_id = self._basic_client(authorization)
        code_value = form.get("code", "")
        with self._lock:
            code = self._codes.pop(code_value, None)  # single use
        if code is None or code.client_id != client_id or code.expires_at <= self.settings.clock.now():
            raise OAuthError("invalid_grant")
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("invalid_grant")
        verifier = form.get("code_verifier", "")
        if not verifier or _s256(verifier) != code.challenge:
            raise OAuthError("invalid_grant")
        return self._token_reply(client_id, code.scopes, with_refresh=True)

    def _refresh_token(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        client_id = self._basic_client(authorization)
        with self._lock:
            grant = self._refresh.get(form.get("refresh_token", ""))
        if grant is None or grant.client_id != client_id or grant.expires_at <= self.settings.clock.now():
            raise OAuthError("invalid_grant")
        # NetSuite returns a new access token only; the refresh token keeps its 7-day expiry.
        return self._token_reply(client_id, grant.scopes, with_refresh=False)

    # ------------------------------------------------------------------ authorize

    def authorize(self, args: dict[str, str]) -> tuple[int, str]:
        """Simulate consent: returns ``(302, redirect URL)`` or ``(400, message)``."""
        client_id = args.get("client_id", "")
        redirect_uri = args.get("redirect_uri", "")
        if client_id != self.settings.oauth2_client_id:
            return 400, "Invalid client_id."
        if not redirect_uri or (self.settings.redirect_uris and redirect_uri not in self.settings.redirect_uris):
            return 400, "Invalid redirect_uri."
        state = args.get("state", "")

        def back(params: dict[str, str]) -> tuple[int, str]:
            parts = urlsplit(redirect_uri)
            query = "&".join(p for p in (parts.query, urlencode(params)) if p)
            return 302, urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))

        if args.get("response_type") != "code":
            return back({"error": "unsupported_response_type", "state": state})
        if not 22 <= len(state) <= 1024:
            return back({"error": "invalid_request", "error_description": "state must be 22-1024 characters",
                         "state": state})
        challenge = args.get("code_challenge", "")
        if not challenge or args.get("code_challenge_method") != "S256":
            return back({"error": "invalid_request", "error_description": "PKCE S256 is required",
                         "state": state})
        try:
            scopes = _parse_scope(args.get("scope", "").replace(" ", ","))
        except OAuthError:
            return back({"error": "invalid_scope", "state": state})
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(
                client_id, redirect_uri, challenge, scopes,
                self.settings.clock.now() + self.settings.authorization_code_ttl,
            )
        return back({"state": state, "role": "3", "entity": "-5", "company": self.settings.account_id,
                     "code": code})


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _parse_scope(raw: Any) -> frozenset[str]:
    """Scopes as a comma/space separated string or a JSON array (Oracle's sample uses one)."""
    if isinstance(raw, list):
        items = [str(s).strip() for s in raw]
    elif isinstance(raw, str):
        items = [s.strip() for s in raw.replace(" ", ",").split(",")]
    else:
        raise OAuthError("invalid_scope")
    scopes = frozenset(s for s in items if s)
    if not scopes or not scopes <= KNOWN_SCOPES:
        raise OAuthError("invalid_scope")
    return scopes
