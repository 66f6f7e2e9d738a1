"""OAuth 1.0a request signing (``oauth1``), e.g. NetSuite token-based auth, via requests-oauthlib."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import Field
from requests.auth import AuthBase

from connector_core.engine.auth.base import AuthContext, AuthModel, _required

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


__all__ = ["OAuth1Auth"]
