"""Built-in auth types. Each is a spec model (discriminated on ``type``) that builds a requests auth.

A built auth is a ``requests.auth.AuthBase``: it runs on the final prepared request, after the URL and
body are complete, so signatures cover exactly what is sent. Auths that hold tokens cache them with
their expiry, renew them ahead of time, and register every token with the redactor.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import requests
from pydantic import Field
from requests.auth import AuthBase, HTTPBasicAuth

from connector_core.errors import AuthError, ConfigError
from connector_core.redaction import Redactor
from connector_core.spec import SpecModel


class TokenStore(Protocol):
    """Where tokens that must outlive a process (authorization-code tokens) are kept."""

    def load_token(self, key: str) -> dict[str, Any] | None: ...

    def save_token(self, key: str, token: dict[str, Any]) -> None: ...


class MemoryTokenStore:
    """A TokenStore that forgets everything when the process ends."""

    def __init__(self) -> None:
        self._tokens: dict[str, dict[str, Any]] = {}

    def load_token(self, key: str) -> dict[str, Any] | None:
        return self._tokens.get(key)

    def save_token(self, key: str, token: dict[str, Any]) -> None:
        self._tokens[key] = dict(token)


@dataclass
class AuthContext:
    """What an auth type needs to build itself.

    Attributes:
        render: renders a template (or nested value) over the connection's ``config``.
        redactor: register every secret the auth obtains here.
        session: a requests session for token endpoints (TLS verification on).
        check_url: raises ConfigError when a URL may not carry credentials (plain http off loopback).
        tokens: persistent token storage for flows that cannot mint new tokens unattended.
        connector: name of the connector, used to key stored tokens and in messages.
        now: clock, replaceable in tests.
    """

    render: Callable[[Any], Any]
    redactor: Redactor
    session: requests.Session
    check_url: Callable[[str], None]
    tokens: TokenStore = field(default_factory=MemoryTokenStore)
    connector: str = "connector"
    now: Callable[[], float] = time.time


class AuthModel(SpecModel):
    """Base of auth spec models: subclasses declare ``type: Literal[...]`` and implement build()."""

    def build(self, ctx: AuthContext) -> AuthBase | None:  # pragma: no cover - abstract
        raise NotImplementedError


def _required(ctx: AuthContext, value: Any, name: str, secret: bool = False) -> str:
    rendered = ctx.render(value)
    if rendered is None or rendered == "":
        raise ConfigError(f"auth setting '{name}' is empty", hint="check the config values the spec's auth refers to")
    text = str(rendered)
    if secret:
        ctx.redactor.add(text)
    return text


# --- static credentials ------------------------------------------------------------------------


class NoAuth(AuthModel):
    """No authentication."""

    type: Literal["none"] = "none"

    def build(self, ctx: AuthContext) -> AuthBase | None:
        return None


class _HeaderAuth(AuthBase):
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers[self.name] = self.value
        return r


class _QueryAuth(AuthBase):
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.prepare_url(r.url, {self.name: self.value})
        return r


class ApiKeyAuth(AuthModel):
    """An API key in a header or a query parameter."""

    type: Literal["api_key"] = "api_key"
    name: str = Field("X-API-Key", description="Header or query parameter name.")
    value: str = Field(..., description="The key (template, e.g. '{{ config.api_key }}').")
    location: Literal["header", "query"] = Field("header", alias="in", description="Where the key goes.")
    prefix: str = Field("", description="Text put before the key, e.g. 'Token '.")

    def build(self, ctx: AuthContext) -> AuthBase:
        key = _required(ctx, self.value, "value", secret=True)
        if self.location == "query":
            return _QueryAuth(self.name, self.prefix + key)
        return _HeaderAuth(self.name, self.prefix + key)


class BearerAuth(AuthModel):
    """A static bearer token."""

    type: Literal["bearer"] = "bearer"
    token: str = Field(..., description="The token (template, e.g. '{{ config.access_token }}').")

    def build(self, ctx: AuthContext) -> AuthBase:
        return _HeaderAuth("Authorization", "Bearer " + _required(ctx, self.token, "token", secret=True))


class BasicAuth(AuthModel):
    """HTTP Basic authentication."""

    type: Literal["basic"] = "basic"
    username: str = Field(..., description="User name (template).")
    password: str = Field("", description="Password (template).")

    def build(self, ctx: AuthContext) -> AuthBase:
        user = _required(ctx, self.username, "username")
        password = str(ctx.render(self.password) or "")
        ctx.redactor.add(password)
        ctx.redactor.add(base64.b64encode(f"{user}:{password}".encode()).decode())
        return HTTPBasicAuth(user, password)


class OAuth1Auth(AuthModel):
    """OAuth 1.0a request signing (HMAC-SHA256 by default), e.g. NetSuite token-based auth."""

    type: Literal["oauth1"] = "oauth1"
    consumer_key: str = Field(..., description="Consumer (client) key.")
    consumer_secret: str = Field(..., description="Consumer (client) secret.")
    token: str = Field(..., description="Access token id.")
    token_secret: str = Field(..., description="Access token secret.")
    realm: str | None = Field(None, description="Realm sent in the Authorization header.")
    signature_method: Literal["HMAC-SHA256", "HMAC-SHA1", "HMAC-SHA512"] = Field("HMAC-SHA256", description="Signature method.")

    def build(self, ctx: AuthContext) -> AuthBase:
        from requests_oauthlib import OAuth1

        return OAuth1(
            client_key=_required(ctx, self.consumer_key, "consumer_key", secret=True),
            client_secret=_required(ctx, self.consumer_secret, "consumer_secret", secret=True),
            resource_owner_key=_required(ctx, self.token, "token", secret=True),
            resource_owner_secret=_required(ctx, self.token_secret, "token_secret", secret=True),
            signature_method=self.signature_method,
            realm=ctx.render(self.realm) if self.realm else None,
            signature_type="AUTH_HEADER",
        )


# --- OAuth 2.0 -----------------------------------------------------------------------------------


class TokenAuth(AuthBase):
    """Holds an access token and its expiry; renews it through ``fetch`` shortly before it expires.

    Thread-safe: concurrent requests wait for one renewal instead of each fetching a token.
    """

    def __init__(
        self,
        fetch: Callable[[], dict[str, Any]],
        ctx: AuthContext,
        renew_before: float = 60.0,
        initial: dict[str, Any] | None = None,
        on_token: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._fetch = fetch
        self._ctx = ctx
        self._renew_before = renew_before
        self._lock = threading.Lock()
        self._on_token = on_token
        self._token: str | None = None
        self._expires_at: float = 0.0
        self.renewals = 0
        if initial and initial.get("access_token"):
            self._accept(initial)

    def _accept(self, token: dict[str, Any]) -> None:
        access = token.get("access_token")
        if not access:
            raise AuthError("the token endpoint answered without an access_token")
        self._token = str(access)
        self._ctx.redactor.add(self._token)
        self._ctx.redactor.add(token.get("refresh_token"))
        if token.get("expires_at") is not None:
            self._expires_at = float(token["expires_at"])
        elif token.get("expires_in") is not None:
            self._expires_at = self._ctx.now() + float(token["expires_in"])
        else:
            self._expires_at = float("inf")

    def valid_token(self) -> str:
        with self._lock:
            if self._token is None or self._ctx.now() >= self._expires_at - self._renew_before:
                token = self._fetch()
                self.renewals += 1
                self._accept(token)
                if self._on_token:
                    self._on_token({**token, "expires_at": self._expires_at})
            assert self._token is not None
            return self._token

    def invalidate(self) -> None:
        """Forget the cached token, e.g. after the API answered 401 to it."""
        with self._lock:
            self._expires_at = 0.0

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = "Bearer " + self.valid_token()
        return r


def _post_token(ctx: AuthContext, url: str, data: dict[str, str], auth: AuthBase | None = None) -> dict[str, Any]:
    ctx.check_url(url)
    try:
        response = ctx.session.post(url, data=data, auth=auth, headers={"Accept": "application/json"}, timeout=30)
    except requests.RequestException as exc:
        raise AuthError(f"could not reach the token endpoint {url}: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        detail = ctx.redactor.text(" ".join(str(x) for x in (error, description) if x) or response.text[:200])
        raise AuthError(
            f"token endpoint {url} refused the request: HTTP {response.status_code} {detail}".rstrip(),
            status=response.status_code,
            hint="check the client id, secret or key, and that the app is allowed this grant",
        )
    for key in ("access_token", "refresh_token", "id_token"):
        ctx.redactor.add(body.get(key))
    return body


class JwtAssertion(SpecModel):
    """A JWT client assertion signed with a private key (RFC 7523)."""

    private_key: str = Field(..., description="PEM private key (template, e.g. '{{ config.private_key }}').")
    key_id: str | None = Field(None, description="Key id put in the JWT header as `kid`.")
    algorithm: str = Field("RS256", description="Signing algorithm: PS256/384/512, RS256/384/512 or ES256/384/512.")
    claims: dict[str, Any] = Field(default_factory=dict, description="Claims added to iss, aud, iat, exp (templates allowed).")
    lifetime: float = Field(300, gt=0, le=3600, description="Seconds until the assertion expires.")
    allowed_algorithms: list[str] | None = Field(None, description="When set, other algorithms are refused before any request.")

    def sign(self, ctx: AuthContext, client_id: str, audience: str) -> str:
        import jwt

        algorithm = str(ctx.render(self.algorithm)).upper()
        allowed = [a.upper() for a in self.allowed_algorithms or []]
        if allowed and algorithm not in allowed:
            raise ConfigError(
                f"JWT algorithm {algorithm} is not accepted by this API; use one of {', '.join(allowed)}",
            )
        key = _required(ctx, self.private_key, "private_key", secret=True)
        now = int(ctx.now())
        claims = {"iss": client_id, "aud": audience, "iat": now, "exp": now + int(self.lifetime)}
        claims.update(ctx.render(self.claims))
        headers = {"typ": "JWT"}
        if self.key_id:
            headers["kid"] = str(ctx.render(self.key_id))
        try:
            assertion = jwt.encode(claims, key, algorithm=algorithm, headers=headers)
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise ConfigError(f"could not sign the JWT assertion with {algorithm}: {type(exc).__name__}: {exc}") from None
        ctx.redactor.add(assertion)
        return assertion


class OAuth2ClientCredentials(AuthModel):
    """OAuth 2.0 client credentials, with a client secret or a signed JWT assertion."""

    type: Literal["oauth2_client_credentials"] = "oauth2_client_credentials"
    token_url: str = Field(..., description="Token endpoint URL (template).")
    client_id: str = Field(..., description="Client id (template).")
    client_secret: str | None = Field(None, description="Client secret (template); omit when using an assertion.")
    assertion: JwtAssertion | None = Field(None, description="Sign a JWT client assertion instead of sending a secret.")
    scopes: list[str] | str | None = Field(None, description="Scopes requested.")
    client_auth: Literal["body", "basic"] = Field("body", description="How the client secret is sent.")
    renew_before: float = Field(60, ge=0, description="Renew the token this many seconds before it expires.")

    def build(self, ctx: AuthContext) -> TokenAuth:
        token_url = _required(ctx, self.token_url, "token_url")
        client_id = _required(ctx, self.client_id, "client_id")
        if self.assertion is None and not self.client_secret:
            raise ConfigError("oauth2_client_credentials needs a client_secret or an assertion")

        def fetch() -> dict[str, Any]:
            data = {"grant_type": "client_credentials"}
            scopes = ctx.render(self.scopes)
            if scopes:
                data["scope"] = scopes if isinstance(scopes, str) else " ".join(scopes)
            auth: AuthBase | None = None
            if self.assertion is not None:
                data["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                data["client_assertion"] = self.assertion.sign(ctx, client_id, token_url)
            else:
                secret = _required(ctx, self.client_secret, "client_secret", secret=True)
                if self.client_auth == "basic":
                    auth = HTTPBasicAuth(client_id, secret)
                else:
                    data.update(client_id=client_id, client_secret=secret)
            return _post_token(ctx, token_url, data, auth)

        return TokenAuth(fetch, ctx, self.renew_before)


class OAuth2RefreshToken(AuthModel):
    """OAuth 2.0 with a long-lived refresh token exchanged for short-lived access tokens."""

    type: Literal["oauth2_refresh"] = "oauth2_refresh"
    token_url: str = Field(..., description="Token endpoint URL (template).")
    client_id: str = Field(..., description="Client id (template).")
    client_secret: str = Field(..., description="Client secret (template).")
    refresh_token: str = Field(..., description="Refresh token (template).")
    scopes: list[str] | str | None = Field(None, description="Scopes requested.")
    client_auth: Literal["body", "basic"] = Field("body", description="How the client credentials are sent.")
    renew_before: float = Field(60, ge=0, description="Renew the token this many seconds before it expires.")

    def build(self, ctx: AuthContext) -> TokenAuth:
        token_url = _required(ctx, self.token_url, "token_url")
        client_id = _required(ctx, self.client_id, "client_id")
        secret = _required(ctx, self.client_secret, "client_secret", secret=True)
        key = f"{ctx.connector}:refresh:{client_id}"
        stored = ctx.tokens.load_token(key) or {}
        refresh = {"value": stored.get("refresh_token") or _required(ctx, self.refresh_token, "refresh_token", secret=True)}

        def fetch() -> dict[str, Any]:
            data = {"grant_type": "refresh_token", "refresh_token": refresh["value"]}
            auth: AuthBase | None = None
            if self.client_auth == "basic":
                auth = HTTPBasicAuth(client_id, secret)
            else:
                data.update(client_id=client_id, client_secret=secret)
            scopes = ctx.render(self.scopes)
            if scopes:
                data["scope"] = scopes if isinstance(scopes, str) else " ".join(scopes)
            token = _post_token(ctx, token_url, data, auth)
            if token.get("refresh_token"):  # rotating refresh tokens
                refresh["value"] = str(token["refresh_token"])
            return token

        def remember(token: dict[str, Any]) -> None:
            ctx.tokens.save_token(key, {**token, "refresh_token": refresh["value"]})

        return TokenAuth(fetch, ctx, self.renew_before, initial=stored or None, on_token=remember)


class OAuth2AuthorizationCode(AuthModel):
    """Tokens obtained once through a browser consent (authorization code with PKCE).

    The access token is refreshed while the refresh token lives. When neither can be used, the auth
    stops with a message telling the user to authorize again.
    """

    type: Literal["oauth2_authorization_code"] = "oauth2_authorization_code"
    token_url: str = Field(..., description="Token endpoint URL (template).")
    authorize_url: str | None = Field(None, description="Consent page URL, used by `connector-core authorize`.")
    client_id: str = Field(..., description="Client id (template).")
    client_secret: str | None = Field(None, description="Client secret (template).")
    access_token: str | None = Field(None, description="Access token obtained by the consent (template).")
    refresh_token: str | None = Field(None, description="Refresh token obtained by the consent (template).")
    expires_at: str | None = Field(None, description="When the access token expires: epoch seconds or ISO date-time (template).")
    refresh_expires_at: str | None = Field(None, description="When the refresh token expires (template).")
    refresh_token_lifetime: float | None = Field(None, gt=0, description="Refresh-token lifetime in seconds, when the API fixes one.")
    scopes: list[str] | str | None = Field(None, description="Scopes requested at consent.")
    client_auth: Literal["body", "basic"] = Field("basic", description="How the client credentials are sent.")
    renew_before: float = Field(60, ge=0, description="Renew this many seconds before expiry.")
    reauthorize_hint: str | None = Field(None, description="Extra words for the 're-authorize' message.")

    def _reauthorize(self, ctx: AuthContext, why: str) -> AuthError:
        hint = f"run `connector-core authorize {ctx.connector} --config <file>` to grant access again"
        if self.reauthorize_hint:
            hint += f"; {self.reauthorize_hint}"
        return AuthError(f"the authorization for {ctx.connector} has expired and cannot be renewed: {why}", hint=hint)

    def build(self, ctx: AuthContext) -> TokenAuth:
        from connector_core.interpolation import parse_datetime

        token_url = _required(ctx, self.token_url, "token_url")
        client_id = _required(ctx, self.client_id, "client_id")
        key = f"{ctx.connector}:authcode:{client_id}"
        stored = ctx.tokens.load_token(key)
        if stored is None:
            access = ctx.render(self.access_token) if self.access_token else None
            expires = ctx.render(self.expires_at) if self.expires_at else None
            refresh_expires = ctx.render(self.refresh_expires_at) if self.refresh_expires_at else None
            stored = {
                "access_token": access,
                "refresh_token": ctx.render(self.refresh_token) if self.refresh_token else None,
                "expires_at": parse_datetime(expires).timestamp() if expires else None,
                "refresh_expires_at": parse_datetime(refresh_expires).timestamp() if refresh_expires else None,
            }
        for secret_key in ("access_token", "refresh_token"):
            ctx.redactor.add(stored.get(secret_key))
        if not stored.get("access_token") and not stored.get("refresh_token"):
            raise self._reauthorize(ctx, "no tokens are stored yet")
        state = dict(stored)

        def fetch() -> dict[str, Any]:
            refresh = state.get("refresh_token")
            if not refresh:
                raise self._reauthorize(ctx, "the access token expired and there is no refresh token")
            refresh_expires_at = state.get("refresh_expires_at")
            if refresh_expires_at and ctx.now() >= float(refresh_expires_at):
                raise self._reauthorize(ctx, "the refresh token expired")
            data = {"grant_type": "refresh_token", "refresh_token": str(refresh)}
            auth: AuthBase | None = None
            secret = str(ctx.render(self.client_secret) or "") if self.client_secret else ""
            ctx.redactor.add(secret)
            if self.client_auth == "basic":
                auth = HTTPBasicAuth(client_id, secret)
            else:
                data.update(client_id=client_id, client_secret=secret)
            try:
                token = _post_token(ctx, token_url, data, auth)
            except AuthError as exc:
                if exc.status in (400, 401):
                    raise self._reauthorize(ctx, "the token endpoint refused the refresh token") from None
                raise
            if token.get("refresh_token") and token["refresh_token"] != refresh:
                state["refresh_token"] = token["refresh_token"]
                if self.refresh_token_lifetime:
                    state["refresh_expires_at"] = ctx.now() + self.refresh_token_lifetime
            return {**token, "refresh_token": state["refresh_token"]}

        def remember(token: dict[str, Any]) -> None:
            state.update(access_token=token["access_token"], expires_at=token.get("expires_at"))
            ctx.tokens.save_token(key, state)

        initial = stored if stored.get("access_token") else None
        if initial is not None and initial.get("expires_at") is None:
            initial = {**initial, "expires_at": float("inf")}
        return TokenAuth(fetch, ctx, self.renew_before, initial=initial, on_token=remember)


BUILTIN_AUTH_TYPES: list[type[AuthModel]] = [
    NoAuth,
    ApiKeyAuth,
    BearerAuth,
    BasicAuth,
    OAuth1Auth,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
    OAuth2AuthorizationCode,
]

__all__ = [
    "BUILTIN_AUTH_TYPES",
    "ApiKeyAuth",
    "AuthContext",
    "AuthModel",
    "BasicAuth",
    "BearerAuth",
    "JwtAssertion",
    "MemoryTokenStore",
    "NoAuth",
    "OAuth1Auth",
    "OAuth2AuthorizationCode",
    "OAuth2ClientCredentials",
    "OAuth2RefreshToken",
    "TokenAuth",
    "TokenStore",
]
