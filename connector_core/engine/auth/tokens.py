"""OAuth 2.0 token machinery shared by the flows: the cached, self-renewing ``TokenAuth``, the token
endpoint POST, client authentication (Basic header or form body), scopes and duration settings.

Some APIs name the host to call in the token reply (Salesforce's ``instance_url``): with
``base_url_from`` the auth reads that field, and :meth:`TokenAuth.base_url` gives the spec's base URL
moved onto that origin.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import requests
from pydantic import BeforeValidator, Field
from requests.auth import AuthBase, HTTPBasicAuth

from connector_core.engine.auth.base import AuthContext
from connector_core.engine.timeparse import parse_duration
from connector_core.engine.urls import check_transport
from connector_core.errors import AuthError, ConfigError

BASE_URL_FROM_DESCRIPTION = (
    "Field of the token reply holding the origin (scheme://host[:port]) to send requests to, e.g. Salesforce's "
    "instance_url; it replaces the origin of base_url, whose path is kept. A reply without it is an error."
)


def _duration(value: Any) -> Any:
    return None if value is None else parse_duration(value).total_seconds()


# The settings the OAuth 2.0 models share; each model gives ``renew_before`` its default and description.
RENEW_BEFORE_DESCRIPTION = "Renew the token this many seconds (or '2m') before it expires."
Scopes = Annotated[list[str] | str | None, Field(description="Scopes requested.")]
RenewBefore = Annotated[float, Field(ge=0), BeforeValidator(_duration)]
BaseUrlFrom = Annotated[str | None, Field(description=BASE_URL_FROM_DESCRIPTION)]


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
        base_url_from: str | None = None,
    ) -> None:
        self._fetch = fetch
        self._base_url_from = base_url_from
        self._origin: str | None = None
        self._ctx = ctx
        self._renew_before = renew_before
        self._lock = threading.Lock()
        self._on_token = on_token
        self._token: str | None = None
        self._expires_at: float = 0.0
        self._renew_at: float = 0.0
        self.renewals = 0
        # A kept token without the field naming the API's address is renewed on first use instead.
        if initial and initial.get("access_token") and not (base_url_from and not initial.get(base_url_from)):
            self._accept(initial)

    def _accept(self, token: dict[str, Any]) -> None:
        access = token.get("access_token")
        if not access:
            raise AuthError("the token endpoint answered without an access_token")
        if self._base_url_from:
            self._origin = self._origin_of(token)
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

    def _origin_of(self, token: dict[str, Any]) -> str:
        field = self._base_url_from
        value = token.get(field) if field else None
        if not isinstance(value, str) or not value.strip():
            raise AuthError(
                f"the token reply has no {field!r}, which the spec takes the API's address from (auth.base_url_from)",
                hint="check the token URL and the grant: this API names the host to call in its token reply",
            )
        value = value.strip().rstrip("/")
        try:
            check_transport(value, f"the token reply's {field}")
        except ConfigError as exc:
            raise AuthError(exc.message, hint=exc.hint) from None
        return value

    def base_url(self, configured: str) -> str:
        """``configured`` on the origin the token reply named (``base_url_from``); as is without one.

        Gets a token first when none is held, since only its reply tells where the API is.
        """
        if not self._base_url_from:
            return configured
        if self._origin is None:
            self.valid_token()
        assert self._origin is not None
        scheme, netloc = urlsplit(self._origin)[:2]
        parts = urlsplit(configured)
        return urlunsplit((scheme, netloc, parts.path, parts.query, ""))

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


__all__ = [
    "BASE_URL_FROM_DESCRIPTION",
    "RENEW_BEFORE_DESCRIPTION",
    "BaseUrlFrom",
    "RenewBefore",
    "Scopes",
    "TokenAuth",
]
