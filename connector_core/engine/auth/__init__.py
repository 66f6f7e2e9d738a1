"""Built-in auth types. Each is a spec model (discriminated on ``type``) that builds a requests auth.

A built auth is a ``requests.auth.AuthBase``: it runs on the final prepared request, after the URL and
body are complete, so signatures cover exactly what is sent. Auths that hold tokens cache them with
their expiry, renew them ahead of time, and register every token with the redactor.

One module per method: ``base`` (context, model base, token stores), ``static`` (none, api_key,
bearer, basic), ``oauth1``, ``tokens`` (OAuth 2.0 token cache and endpoint), ``jwt`` (JWT assertions),
``oauth2`` (client credentials, refresh token, authorization code) and ``jwt_bearer`` (the RFC 7523
JWT bearer grant); ``tokenstore`` keeps tokens in a JSON file and ``authorize`` runs the browser consent.
"""

from __future__ import annotations

from connector_core.engine.auth.base import AuthContext, AuthModel, MemoryTokenStore, TokenStore
from connector_core.engine.auth.jwt import JWS_ALGORITHMS, JwtAssertion
from connector_core.engine.auth.jwt_bearer import OAuth2JwtBearer
from connector_core.engine.auth.oauth1 import OAuth1Auth
from connector_core.engine.auth.oauth2 import (
    OAuth2AuthorizationCode,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
    authorization_code_key,
)
from connector_core.engine.auth.static import ApiKeyAuth, BasicAuth, BearerAuth, NoAuth
from connector_core.engine.auth.tokens import TokenAuth

BUILTIN_AUTH_TYPES: list[type[AuthModel]] = [
    NoAuth,
    ApiKeyAuth,
    BearerAuth,
    BasicAuth,
    OAuth1Auth,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
    OAuth2AuthorizationCode,
    OAuth2JwtBearer,
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
    "OAuth2JwtBearer",
    "OAuth2RefreshToken",
    "TokenAuth",
    "TokenStore",
    "authorization_code_key",
]
