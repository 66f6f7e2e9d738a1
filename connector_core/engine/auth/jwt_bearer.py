"""OAuth 2.0 JWT bearer grant (RFC 7523 §2.1): a signed assertion *is* the grant, no client secret.

Used by Salesforce's server-to-server flow and Google service accounts: the assertion names the
client (``iss``), the user the token acts for (``sub``) and the authorization server (``aud``), lives a
few minutes, and is exchanged at the token endpoint for an access token. Such replies usually carry no
refresh token and often no lifetime: a new assertion is signed whenever the token must be renewed,
including after the API refuses it (401).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connector_core.engine.auth.base import AuthContext, AuthModel, _required
from connector_core.engine.auth.jwt import JwtAssertion
from connector_core.engine.auth.token_grant import grant_token_auth, token_endpoint
from connector_core.engine.auth.tokens import BaseUrlFrom, RenewBefore, Scopes, TokenAuth

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class OAuth2JwtBearer(AuthModel):
    """OAuth 2.0 JWT bearer grant (RFC 7523): a signed assertion exchanged for an access token."""

    type: Literal["oauth2_jwt_bearer"] = "oauth2_jwt_bearer"
    token_url: str = Field(..., description="Token endpoint URL (template).")
    issuer: str = Field(
        ...,
        description="The assertion's `iss`: the client id (Salesforce: the connected app's consumer key).",
    )
    subject: str | None = Field(
        None, description="The assertion's `sub`: the user the token acts for (template)."
    )
    audience: str | None = Field(
        None,
        description="The assertion's `aud` (template). Default: the token URL (Salesforce wants the login URL).",
    )
    assertion: JwtAssertion = Field(
        ..., description="How the assertion is signed: key, algorithm, lifetime, extra claims."
    )
    scopes: Scopes = None
    renew_before: RenewBefore = Field(
        60, description="Renew the token this many seconds (or '2m') before it expires, when the reply says."
    )
    base_url_from: BaseUrlFrom = None

    def build(self, ctx: AuthContext) -> TokenAuth:
        token_url = token_endpoint(ctx, self.token_url)
        issuer = _required(ctx, self.issuer, "issuer")
        audience = _required(ctx, self.audience, "audience") if self.audience else token_url
        subject = _required(ctx, self.subject, "subject") if self.subject else None
        sign = self.assertion.signer(ctx, issuer, audience)

        def grant() -> dict[str, str]:
            return {
                "grant_type": JWT_BEARER_GRANT,
                "assertion": sign(extra={"sub": subject} if subject else None),
            }

        return grant_token_auth(ctx, self, token_url, grant)


__all__ = ["JWT_BEARER_GRANT", "OAuth2JwtBearer"]
