"""Built-in auth types. Each is a spec model (discriminated on ``type``) that builds a requests auth.

A built auth is a ``requests.auth.AuthBase``: it runs on the final prepared request, after the URL and
body are complete, so signatures cover exactly what is sent. Auths that hold tokens cache them with
their expiry, renew them ahead of time, and register every token with the redactor.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import requests
from pydantic import Field, field_validator, model_validator
from requests.auth import AuthBase, HTTPBasicAuth

from connector_core.engine.redaction import Redactor
from connector_core.engine.spec import SpecModel
from connector_core.engine.timeparse import parse_duration
from connector_core.errors import AuthError, ConfigError


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
        raise ConfigError(
            f"auth setting '{name}' is empty", hint="check the config values the spec's auth refers to"
        )
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


# Both libraries log the Authorization header and the signature base string (consumer key, token
# id) at DEBUG; `connector-core --debug` must not print them.
_CREDENTIAL_LOGGERS = ("oauthlib", "requests_oauthlib")


def _quiet_credential_loggers() -> None:
    for name in _CREDENTIAL_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


class OAuth1Auth(AuthModel):
    """OAuth 1.0a request signing (HMAC-SHA256 by default), e.g. NetSuite token-based auth.

    Every attempt is signed anew (fresh nonce and timestamp). Query parameters and form bodies are
    covered by the signature; JSON bodies are not (RFC 5849 §3.4.1.3).
    """

    type: Literal["oauth1"] = "oauth1"
    consumer_key: str = Field(..., description="Consumer (client) key.")
    consumer_secret: str = Field(..., description="Consumer (client) secret.")
    token: str = Field(..., description="Access token id.")
    token_secret: str = Field(..., description="Access token secret.")
    realm: str | None = Field(
        None,
        description="Realm sent in the Authorization header (NetSuite: the account id, e.g. 1234567_SB1).",
    )
    signature_method: Literal["HMAC-SHA256", "HMAC-SHA1", "HMAC-SHA512"] = Field(
        "HMAC-SHA256", description="Signature method."
    )

    def build(self, ctx: AuthContext) -> AuthBase:
        from requests_oauthlib import OAuth1

        _quiet_credential_loggers()
        realm = ctx.render(self.realm) if self.realm else None
        return OAuth1(
            client_key=_required(ctx, self.consumer_key, "consumer_key", secret=True),
            client_secret=_required(ctx, self.consumer_secret, "consumer_secret", secret=True),
            resource_owner_key=_required(ctx, self.token, "token", secret=True),
            resource_owner_secret=_required(ctx, self.token_secret, "token_secret", secret=True),
            signature_method=self.signature_method,
            realm=str(realm) if realm else None,
            signature_type="AUTH_HEADER",
        )


# --- OAuth 2.0 -----------------------------------------------------------------------------------


def _duration(value: Any) -> Any:
    return None if value is None else parse_duration(value).total_seconds()


class TokenAuth(AuthBase):
    """Holds an access token and its expiry; renews it through ``fetch`` shortly before it expires.

    The renewal margin is ``renew_before`` seconds, but at most half the token's lifetime, so that a
    short-lived token is still used for a while instead of being renewed on every request.
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
        self._renew_at: float = 0.0
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
        now = self._ctx.now()
        if token.get("expires_at") is not None:
            self._expires_at = float(token["expires_at"])
        elif token.get("expires_in") not in (None, ""):
            try:
                self._expires_at = now + float(token["expires_in"])
            except (TypeError, ValueError):
                raise AuthError(
                    f"the token endpoint sent expires_in={token['expires_in']!r}; expected a number of seconds"
                ) from None
        else:
            self._expires_at = float("inf")
        margin = min(self._renew_before, max(0.0, self._expires_at - now) / 2)
        self._renew_at = self._expires_at - margin

    @property
    def expires_at(self) -> float:
        """When the cached token expires (epoch seconds; 0 when there is none, inf when it does not)."""
        return self._expires_at if self._token else 0.0

    def valid_token(self) -> str:
        with self._lock:
            if self._token is None or self._ctx.now() >= self._renew_at:
                token = self._fetch()
                self.renewals += 1
                self._accept(token)
                if self._on_token:
                    self._on_token({**token, "expires_at": self._expires_at})
            assert self._token is not None
            return self._token

    def invalidate(self, request: requests.PreparedRequest | None = None) -> None:
        """Forget the cached token, e.g. after the API answered 401 to it.

        Given the refused ``request``, the token is forgotten only if that request carried it: when
        concurrent requests are refused together, the token is renewed once, not once per request.
        """
        with self._lock:
            if request is not None and self._token is not None:
                sent = request.headers.get("Authorization", "")
                if sent != "Bearer " + self._token:
                    return
            self._renew_at = 0.0

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = "Bearer " + self.valid_token()
        return r


def _post_token(
    ctx: AuthContext, url: str, data: dict[str, str], auth: AuthBase | None = None
) -> dict[str, Any]:
    """POST a token request; return the JSON body, every token in it registered as a secret."""
    ctx.check_url(url)
    try:
        response = ctx.session.post(
            url, data=data, auth=auth, headers={"Accept": "application/json"}, timeout=30
        )
    except requests.RequestException as exc:
        raise AuthError(f"could not reach the token endpoint {url}: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if isinstance(body, dict):
        for key in ("access_token", "refresh_token", "id_token"):
            ctx.redactor.add(body.get(key))
    if response.status_code >= 400 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        detail = ctx.redactor.text(
            " ".join(str(x) for x in (error, description) if x) or " ".join(response.text[:200].split())
        )
        raise AuthError(
            f"token endpoint {url} refused the request: HTTP {response.status_code} {detail}".rstrip(),
            method="POST",
            url=url,
            status=response.status_code,
            hint="check the client id, secret or key, and that the app is allowed this grant",
        )
    return body


def _scope(ctx: AuthContext, scopes: list[str] | str | None) -> str | None:
    rendered = ctx.render(scopes)
    if not rendered:
        return None
    return rendered if isinstance(rendered, str) else " ".join(str(s) for s in rendered)


def _client_auth(
    ctx: AuthContext, how: str, client_id: str, secret: str, data: dict[str, str]
) -> AuthBase | None:
    """Client credentials in a Basic header (returned) or in the form body (added to ``data``)."""
    if how == "basic":
        ctx.redactor.add(base64.b64encode(f"{client_id}:{secret}".encode()).decode())
        return HTTPBasicAuth(client_id, secret)
    data.update(client_id=client_id, client_secret=secret)
    return None


JWS_ALGORITHMS = ("PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}


def _known_algorithm(value: str, where: str) -> str:
    algorithm = value.strip().upper()
    if algorithm not in JWS_ALGORITHMS:
        raise ConfigError(
            f"JWT algorithm {value!r} at {where} is not supported; known: {', '.join(JWS_ALGORITHMS)}"
        )
    return algorithm


class JwtAssertion(SpecModel):
    """A JWT client assertion signed with a private key (RFC 7523), e.g. NetSuite OAuth 2.0 M2M."""

    private_key: str = Field(..., description="PEM private key (template, e.g. '{{ config.private_key }}').")
    key_id: str | None = Field(
        None, description="Key id put in the JWT header as `kid` (NetSuite: the certificate id)."
    )
    algorithm: str = Field(
        "RS256", description="Signing algorithm: PS256/384/512, RS256/384/512 or ES256/384/512 (template)."
    )
    claims: dict[str, Any] = Field(
        default_factory=dict, description="Claims added to iss, aud, iat, exp (templates allowed)."
    )
    lifetime: float = Field(300, gt=0, le=3600, description="Seconds until the assertion expires.")
    allowed_algorithms: list[str] | None = Field(
        None,
        description="Algorithms the API accepts; any other is refused when the connector opens, before any request.",
    )

    @field_validator("allowed_algorithms")
    @classmethod
    def _known_allowed(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        unknown = [a for a in value if a.strip().upper() not in JWS_ALGORITHMS]
        if unknown:
            raise ValueError(
                f"unknown JWT algorithm(s) {', '.join(unknown)}; known: {', '.join(JWS_ALGORITHMS)}"
            )
        return [a.strip().upper() for a in value]

    @model_validator(mode="after")
    def _allowed_literal(self) -> JwtAssertion:
        literal = self.algorithm.strip().upper()
        if "{" not in self.algorithm and literal not in JWS_ALGORITHMS:
            raise ValueError(
                f"algorithm {self.algorithm!r} is not supported; known: {', '.join(JWS_ALGORITHMS)}"
            )
        if "{" not in self.algorithm and self.allowed_algorithms and literal not in self.allowed_algorithms:
            raise ValueError(
                f"algorithm {literal} is not in allowed_algorithms ({', '.join(self.allowed_algorithms)})"
            )
        return self

    def signer(self, ctx: AuthContext, client_id: str, audience: str) -> Callable[[], str]:
        """Check the algorithm and the key now; return a function that signs a fresh assertion."""
        import jwt
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        algorithm = _known_algorithm(str(ctx.render(self.algorithm)), "auth.assertion.algorithm")
        allowed = self.allowed_algorithms or []
        if allowed and algorithm not in allowed:
            raise ConfigError(
                f"JWT algorithm {algorithm} at auth.assertion.algorithm is not accepted by this API; "
                f"allowed (auth.assertion.allowed_algorithms): {', '.join(allowed)}",
                hint="pick one of the allowed algorithms and a key of the matching kind (RSA for PS/RS, EC for ES)",
            )
        pem = _required(ctx, self.private_key, "assertion.private_key", secret=True)
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError) as exc:
            reason = (
                "it is encrypted"
                if "encrypted" in str(exc).lower()
                else "it is not a readable PEM private key"
            )
            raise ConfigError(
                f"auth.assertion.private_key cannot be used: {reason}",
                hint="give an unencrypted PEM private key: the whole file, from its BEGIN PRIVATE KEY line to its END line",
            ) from None
        if algorithm.startswith("ES"):
            fits = isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == _EC_CURVES[algorithm]
            expected = f"an EC key on {_EC_CURVES[algorithm]}"
        else:
            fits = isinstance(key, rsa.RSAPrivateKey)
            expected = "an RSA key"
        if not fits:
            raise ConfigError(
                f"JWT algorithm {algorithm} (auth.assertion.algorithm) needs {expected}, but auth.assertion.private_key is a {type(key).__name__.lstrip('_')}"
            )
        headers = {"typ": "JWT"}
        if self.key_id:
            headers["kid"] = str(ctx.render(self.key_id))

        def sign() -> str:
            now = int(ctx.now())
            claims: dict[str, Any] = {
                "iss": client_id,
                "aud": audience,
                "iat": now,
                "exp": now + int(self.lifetime),
            }
            claims.update(ctx.render(self.claims))
            try:
                assertion = jwt.encode(claims, key, algorithm=algorithm, headers=headers)
            except (ValueError, TypeError, jwt.PyJWTError) as exc:
                raise ConfigError(
                    f"could not sign the JWT assertion with {algorithm}: {type(exc).__name__}"
                ) from None
            ctx.redactor.add(assertion)
            return assertion

        return sign


class OAuth2ClientCredentials(AuthModel):
    """OAuth 2.0 client credentials, with a client secret or a signed JWT assertion."""

    type: Literal["oauth2_client_credentials"] = "oauth2_client_credentials"
    token_url: str = Field(..., description="Token endpoint URL (template).")
    client_id: str = Field(..., description="Client id (template).")
    client_secret: str | None = Field(
        None, description="Client secret (template); omit when using an assertion."
    )
    assertion: JwtAssertion | None = Field(
        None, description="Sign a JWT client assertion instead of sending a secret."
    )
    scopes: list[str] | str | None = Field(None, description="Scopes requested.")
    client_auth: Literal["body", "basic"] = Field("body", description="How the client secret is sent.")
    renew_before: float = Field(
        60, ge=0, description="Renew the token this many seconds (or '2m') before it expires."
    )

    _parse_renew = field_validator("renew_before", mode="before")(lambda cls, v: _duration(v))

    def build(self, ctx: AuthContext) -> TokenAuth:
        token_url = _required(ctx, self.token_url, "token_url")
        ctx.check_url(token_url)
        client_id = _required(ctx, self.client_id, "client_id")
        if self.assertion is None and not self.client_secret:
            raise ConfigError(
                "oauth2_client_credentials needs auth.client_secret or auth.assertion; neither is set"
            )
        sign = self.assertion.signer(ctx, client_id, token_url) if self.assertion is not None else None
        secret = _required(ctx, self.client_secret, "client_secret", secret=True) if sign is None else ""

        def fetch() -> dict[str, Any]:
            data = {"grant_type": "client_credentials"}
            scope = _scope(ctx, self.scopes)
            if scope:
                data["scope"] = scope
            auth: AuthBase | None = None
            if sign is not None:
                data["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                data["client_assertion"] = sign()
            else:
                auth = _client_auth(ctx, self.client_auth, client_id, secret, data)
            return _post_token(ctx, token_url, data, auth)

        return TokenAuth(fetch, ctx, self.renew_before)


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


class OAuth2RefreshToken(AuthModel):
    """OAuth 2.0 with a long-lived refresh token exchanged for short-lived access tokens.

    When the API rotates refresh tokens, the newest one is kept in the token store, so a later run
    does not present a refresh token that was already used; a new refresh token put in the config
    takes precedence over the stored one.
    """

    type: Literal["oauth2_refresh"] = "oauth2_refresh"
    token_url: str = Field(..., description="Token endpoint URL (template).")
    client_id: str = Field(..., description="Client id (template).")
    client_secret: str = Field(..., description="Client secret (template).")
    refresh_token: str = Field(..., description="Refresh token (template).")
    scopes: list[str] | str | None = Field(None, description="Scopes requested.")
    client_auth: Literal["body", "basic"] = Field("body", description="How the client credentials are sent.")
    renew_before: float = Field(
        60, ge=0, description="Renew the token this many seconds (or '2m') before it expires."
    )

    _parse_renew = field_validator("renew_before", mode="before")(lambda cls, v: _duration(v))

    def build(self, ctx: AuthContext) -> TokenAuth:
        token_url = _required(ctx, self.token_url, "token_url")
        ctx.check_url(token_url)
        client_id = _required(ctx, self.client_id, "client_id")
        secret = _required(ctx, self.client_secret, "client_secret", secret=True)
        configured = _required(ctx, self.refresh_token, "refresh_token", secret=True)
        key = f"{ctx.connector}:refresh:{client_id}"
        stored = ctx.tokens.load_token(key) or {}
        if stored.get("configured") != _fingerprint(configured):
            stored = {}  # the config holds a new refresh token: the stored chain is stale
        refresh = {"value": str(stored.get("refresh_token") or configured)}
        ctx.redactor.add(refresh["value"])

        def fetch() -> dict[str, Any]:
            data = {"grant_type": "refresh_token", "refresh_token": refresh["value"]}
            auth = _client_auth(ctx, self.client_auth, client_id, secret, data)
            scope = _scope(ctx, self.scopes)
            if scope:
                data["scope"] = scope
            try:
                token = _post_token(ctx, token_url, data, auth)
            except AuthError as exc:
                if exc.status == 400:
                    exc.hint = "the refresh token was refused (expired, revoked or already used); put a new one in the config"
                raise
            if token.get("refresh_token"):  # rotating refresh tokens
                refresh["value"] = str(token["refresh_token"])
            return token

        def remember(token: dict[str, Any]) -> None:
            kept = {k: token.get(k) for k in ("access_token", "expires_at", "token_type", "scope")}
            ctx.tokens.save_token(
                key, {**kept, "refresh_token": refresh["value"], "configured": _fingerprint(configured)}
            )

        return TokenAuth(fetch, ctx, self.renew_before, initial=stored or None, on_token=remember)


def authorization_code_key(connector: str, client_id: str) -> str:
    """The TokenStore key under which `connector-core authorize` saves a connector's tokens."""
    return f"{connector}:authcode:{client_id}"


class OAuth2AuthorizationCode(AuthModel):
    """Tokens obtained once through a browser consent (authorization code with PKCE).

    ``connector-core authorize`` runs the consent and saves the tokens in the token store; this auth
    then loads them. The access token is refreshed while the refresh token lives. When neither can be
    used, requests stop with an AuthError telling the user to authorize again, and how.
    """

    type: Literal["oauth2_authorization_code"] = "oauth2_authorization_code"
    token_url: str = Field(..., description="Token endpoint URL (template).")
    authorize_url: str | None = Field(
        None, description="Consent page URL, used by `connector-core authorize`."
    )
    redirect_uri: str | None = Field(
        None,
        description="Redirect URI registered for the app (template). A loopback http URI is listened on by "
        "`connector-core authorize`; any other is pasted back. Default: http://127.0.0.1:<port>/callback.",
    )
    client_id: str = Field(..., description="Client id (template).")
    client_secret: str | None = Field(None, description="Client secret (template).")
    access_token: str | None = Field(
        None, description="Access token obtained by the consent (template), when not in the token store."
    )
    refresh_token: str | None = Field(None, description="Refresh token obtained by the consent (template).")
    expires_at: str | None = Field(
        None, description="When the access token expires: epoch seconds or ISO date-time (template)."
    )
    refresh_expires_at: str | None = Field(None, description="When the refresh token expires (template).")
    refresh_token_lifetime: float | None = Field(
        None,
        gt=0,
        description="Refresh-token lifetime in seconds (or '7d'), counted from the consent, when the API fixes one.",
    )
    scopes: list[str] | str | None = Field(None, description="Scopes requested at consent.")
    client_auth: Literal["body", "basic"] = Field("basic", description="How the client credentials are sent.")
    renew_before: float = Field(60, ge=0, description="Renew this many seconds (or '2m') before expiry.")
    reauthorize_hint: str | None = Field(None, description="Extra words for the 're-authorize' message.")

    _parse_durations = field_validator("renew_before", "refresh_token_lifetime", mode="before")(
        lambda cls, v: _duration(v)
    )

    def reauthorize_error(self, ctx: AuthContext, why: str, *, first_time: bool = False) -> AuthError:
        hint = f"run `connector-core authorize {ctx.connector} --config <your config file>` and grant access in the browser"
        if self.reauthorize_hint:
            hint += f"; {self.reauthorize_hint}"
        if first_time:
            return AuthError(f"{ctx.connector} is not authorized yet: {why}", hint=hint)
        return AuthError(
            f"the authorization for {ctx.connector} has expired and cannot be renewed: {why}", hint=hint
        )

    def _configured_tokens(self, ctx: AuthContext) -> dict[str, Any]:
        from connector_core.engine.interpolation import parse_datetime

        def when(value: str | None, name: str) -> float | None:
            rendered = ctx.render(value) if value else None
            if rendered in (None, ""):
                return None
            try:
                return parse_datetime(rendered).timestamp()
            except (TypeError, ValueError):
                raise ConfigError(
                    f"auth.{name} is {rendered!r}; expected epoch seconds or an ISO 8601 date-time"
                ) from None

        return {
            "access_token": (ctx.render(self.access_token) or None) if self.access_token else None,
            "refresh_token": (ctx.render(self.refresh_token) or None) if self.refresh_token else None,
            "expires_at": when(self.expires_at, "expires_at"),
            "refresh_expires_at": when(self.refresh_expires_at, "refresh_expires_at"),
        }

    def build(self, ctx: AuthContext) -> TokenAuth:
        token_url = _required(ctx, self.token_url, "token_url")
        ctx.check_url(token_url)
        client_id = _required(ctx, self.client_id, "client_id")
        key = authorization_code_key(ctx.connector, client_id)
        stored = ctx.tokens.load_token(key) or self._configured_tokens(ctx)
        for secret_key in ("access_token", "refresh_token"):
            ctx.redactor.add(stored.get(secret_key))
        state = dict(stored)

        def fetch() -> dict[str, Any]:
            if not state.get("access_token") and not state.get("refresh_token"):
                raise self.reauthorize_error(ctx, "no tokens are stored for it", first_time=True)
            refresh = state.get("refresh_token")
            if not refresh:
                raise self.reauthorize_error(ctx, "the access token expired and there is no refresh token")
            refresh_expires_at = state.get("refresh_expires_at")
            if refresh_expires_at and ctx.now() >= float(refresh_expires_at):
                raise self.reauthorize_error(
                    ctx, f"the refresh token expired at {_iso(float(refresh_expires_at))}"
                )
            data = {"grant_type": "refresh_token", "refresh_token": str(refresh)}
            secret = str(ctx.render(self.client_secret) or "") if self.client_secret else ""
            ctx.redactor.add(secret)
            auth = _client_auth(ctx, self.client_auth, client_id, secret, data)
            try:
                token = _post_token(ctx, token_url, data, auth)
            except AuthError as exc:
                if exc.status == 400 or (exc.status == 401 and "invalid_grant" in exc.message):
                    raise self.reauthorize_error(
                        ctx, "the token endpoint refused the refresh token"
                    ) from None
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


def _iso(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    "JWS_ALGORITHMS",
    "JwtAssertion",
    "MemoryTokenStore",
    "NoAuth",
    "OAuth1Auth",
    "OAuth2AuthorizationCode",
    "OAuth2ClientCredentials",
    "OAuth2RefreshToken",
    "TokenAuth",
    "TokenStore",
    "authorization_code_key",
]
