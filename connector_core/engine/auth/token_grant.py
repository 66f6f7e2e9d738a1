"""The token request a grant makes when it needs no stored state: client credentials and the JWT bearer.

Each grant names its own form fields (``grant_type`` and what goes with it) and, when the client must
prove who it is, how; this module renders the token URL, adds the scope, POSTs the request through
``tokens`` (reply checked, tokens registered as secrets, errors naming the likely cause) and wraps it in
the self-renewing :class:`~connector_core.engine.auth.tokens.TokenAuth`, which asks for a new token
shortly before the old one expires or after the API refuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from requests.auth import AuthBase

from connector_core.engine.auth.base import AuthContext, _required
from connector_core.engine.auth.tokens import TokenAuth, _post_token, _scope

#: Puts the client's credentials in the form (returning None) or returns the auth that carries them.
ClientAuthentication = Callable[[dict[str, str]], AuthBase | None]


class GrantSettings(Protocol):
    """What the token request reads from a grant's spec model."""

    @property
    def scopes(self) -> list[str] | str | None: ...

    @property
    def renew_before(self) -> float: ...

    @property
    def base_url_from(self) -> str | None: ...


def token_endpoint(ctx: AuthContext, template: str) -> str:
    """The rendered ``token_url``, refused unless it may carry credentials (TLS off loopback)."""
    url = _required(ctx, template, "token_url")
    ctx.check_url(url)
    return url


def grant_token_auth(
    ctx: AuthContext,
    settings: GrantSettings,
    token_url: str,
    grant: Callable[[], dict[str, str]],
    client_authentication: ClientAuthentication | None = None,
) -> TokenAuth:
    """A token from POSTing ``grant()``'s fields, the scope, then the client's credentials to ``token_url``.

    ``grant`` is called for every token, so a signed assertion in it is fresh each time.
    """

    def fetch() -> dict[str, Any]:
        data = grant()
        scope = _scope(ctx, settings.scopes)
        if scope:
            data["scope"] = scope
        auth = client_authentication(data) if client_authentication is not None else None
        return _post_token(ctx, token_url, data, auth)

    return TokenAuth(fetch, ctx, settings.renew_before, base_url_from=settings.base_url_from)


__all__ = ["ClientAuthentication", "GrantSettings", "grant_token_auth", "token_endpoint"]
