"""OAuth 2.0 flows: client credentials (secret or JWT assertion), refresh token, and authorization code
(tokens from a one-time browser consent, see ``authorize``).
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import Field, field_validator
from requests.auth import AuthBase

from connector_core.engine.auth.base import AuthContext, AuthModel, _required
from connector_core.engine.auth.jwt import JwtAssertion
from connector_core.engine.auth.token_grant import ClientAuthentication, grant_token_auth, token_endpoint
from connector_core.engine.auth.tokens import (
    RENEW_BEFORE_DESCRIPTION,
    BaseUrlFrom,
    RenewBefore,
    Scopes,
    TokenAuth,
    _client_auth,
    _duration,
    _post_token,
    _scope,
)
from connector_core.errors import AuthError, ConfigError

#: RFC 7523 §2.2: the client proves who it is with a signed JWT instead of a secret.
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


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
    scopes: Scopes = None
    client_auth: Literal["body", "basic"] = Field("body", description="How the client secret is sent.")
    renew_before: RenewBefore = Field(60, description=RENEW_BEFORE_DESCRIPTION)
    base_url_from: BaseUrlFrom = None

    def build(self, ctx: AuthContext) -> TokenAuth:
        token_url = token_endpoint(ctx, self.token_url)
        client_id = _required(ctx, self.client_id, "client_id")
        if self.assertion is None and not self.client_secret:
            raise ConfigError(
                "oauth2_client_credentials needs auth.client_secret or auth.assertion; neither is set"
            )
        authenticate: ClientAuthentication
        if self.assertion is not None:
            sign = self.assertion.signer(ctx, client_id, token_url)

            def authenticate(data: dict[str, str]) -> AuthBase | None:
                data["client_assertion_type"] = CLIENT_ASSERTION_TYPE
                data["client_assertion"] = sign()
                return None
        else:
            secret = _required(ctx, self.client_secret, "client_secret", secret=True)

            def authenticate(data: dict[str, str]) -> AuthBase | None:
                return _client_auth(ctx, self.client_auth, client_id, secret, data)

        return grant_token_auth(
            ctx, self, token_url, lambda: {"grant_type": "client_credentials"}, authenticate
        )


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
    scopes: Scopes = None
    client_auth: Literal["body", "basic"] = Field("body", description="How the client credentials are sent.")
    renew_before: RenewBefore = Field(60, description=RENEW_BEFORE_DESCRIPTION)
    base_url_from: BaseUrlFrom = None

    def build(self, ctx: AuthContext) -> TokenAuth:
        token_url = token_endpoint(ctx, self.token_url)
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
            names = (
                "access_token",
                "expires_at",
                "token_type",
                "scope",
                *([self.base_url_from] if self.base_url_from else []),
            )
            kept = {k: token.get(k) for k in names}
            ctx.tokens.save_token(
                key, {**kept, "refresh_token": refresh["value"], "configured": _fingerprint(configured)}
            )

        return TokenAuth(
            fetch,
            ctx,
            self.renew_before,
            initial=stored or None,
            on_token=remember,
            base_url_from=self.base_url_from,
        )


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
    renew_before: RenewBefore = Field(60, description="Renew this many seconds (or '2m') before expiry.")
    reauthorize_hint: str | None = Field(None, description="Extra words for the 're-authorize' message.")
    base_url_from: BaseUrlFrom = None

    _parse_lifetime = field_validator("refresh_token_lifetime", mode="before")(lambda cls, v: _duration(v))

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
        token_url = token_endpoint(ctx, self.token_url)
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
            if self.base_url_from and token.get(self.base_url_from):
                state[self.base_url_from] = token[self.base_url_from]
            ctx.tokens.save_token(key, state)

        initial = stored if stored.get("access_token") else None
        if initial is not None and initial.get("expires_at") is None:
            initial = {**initial, "expires_at": float("inf")}
        return TokenAuth(
            fetch,
            ctx,
            self.renew_before,
            initial=initial,
            on_token=remember,
            base_url_from=self.base_url_from,
        )


def _iso(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = [
    "OAuth2AuthorizationCode",
    "OAuth2ClientCredentials",
    "OAuth2RefreshToken",
    "authorization_code_key",
]
