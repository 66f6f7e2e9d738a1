"""The ``netsuite`` auth type: token-based auth (OAuth 1.0a), OAuth 2.0 M2M, or authorization code.

The method is named by ``auth_method`` or inferred from which credentials are present. Each builds the
matching core auth with NetSuite's rules: the realm is the account ID in upper case with an
underscore; M2M assertions are signed PS256, or ES256/384/512 with an EC key, with ``kid`` = certificate ID, since
NetSuite rejects RS256; authorization-code refresh tokens live 7 days and then need a new consent.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from requests.auth import AuthBase

from connector_core.engine.auth import (
    AuthContext,
    AuthModel,
    JwtAssertion,
    OAuth1Auth,
    OAuth2AuthorizationCode,
    OAuth2ClientCredentials,
)
from connector_core.errors import ConfigError
from connectors.netsuite.account import authorize_url, normalize_account_id, token_url

METHODS = ("tba", "client_credentials", "authorization_code")
ACCEPTED_JWT_ALGORITHMS = ["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
REFRESH_TOKEN_LIFETIME = 7 * 24 * 3600
_ALIASES = {"m2m": "client_credentials", "oauth2_client_credentials": "client_credentials", "token_based": "tba",
            "oauth1": "tba", "auth_code": "authorization_code", "oauth2_authorization_code": "authorization_code"}

_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def algorithm_for_key(private_pem: str) -> str:
    """The M2M algorithm a key signs with when none is named: ES256/384/512 for an EC key (by its curve),
    PS256 for an RSA key. A key that cannot be read gets PS256; signing then reports what is wrong with it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_private_key(str(private_pem).encode(), password=None)
    except (ValueError, TypeError):
        return "PS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return _EC_ALGORITHMS.get(key.curve.name, "PS256")
    return "PS256"


_NEEDS = {
    "tba": ("consumer_key", "consumer_secret", "token_id", "token_secret"),
    "client_credentials": ("consumer_key", "certificate_id", "private_key"),
    "authorization_code": ("consumer_key", "consumer_secret"),
}


class NetSuiteAuth(AuthModel):
    """NetSuite authentication; every field is a template over the config (see docs/connectors/netsuite.md)."""

    type: Literal["netsuite"] = "netsuite"
    account_id: str = Field(..., description="Account ID, e.g. 1234567 or 1234567_SB1 (1234567-sb1 accepted).")
    auth_method: str | None = Field(None, description="tba, client_credentials or authorization_code; inferred when empty.")
    base_url: str | None = Field(None, description="Replaces https://<account>.suitetalk.api.netsuite.com (proxies, emulator).")
    consumer_key: str | None = Field(None, description="Integration record's consumer key (the OAuth 2.0 client id).")
    consumer_secret: str | None = Field(None, description="Integration record's consumer secret.")
    token_id: str | None = Field(None, description="TBA access token ID.")
    token_secret: str | None = Field(None, description="TBA access token secret.")
    certificate_id: str | None = Field(None, description="M2M certificate ID (the JWT kid).")
    private_key: str | None = Field(None, description="M2M private key, PEM.")
    algorithm: str | None = Field(
        None,
        description="M2M signing algorithm (default: ES256/384/512 for an EC key, by its curve, else PS256; RS256 is refused by NetSuite).",
    )
    scopes: str | None = Field(None, description="OAuth 2.0 scopes (default rest_webservices).")
    token_url: str | None = Field(None, description="OAuth 2.0 token URL (default from the account ID or base_url).")
    access_token: str | None = Field(None, description="Authorization code: access token from the consent.")
    refresh_token: str | None = Field(None, description="Authorization code: refresh token from the consent.")
    expires_at: str | None = Field(None, description="Authorization code: when the access token expires.")
    refresh_expires_at: str | None = Field(None, description="Authorization code: when the refresh token expires.")

    def _values(self, ctx: AuthContext) -> dict[str, Any]:
        values = {}
        for name in type(self).model_fields:
            if name == "type":
                continue
            raw = getattr(self, name)
            rendered = ctx.render(raw) if raw is not None else None
            values[name] = None if rendered in (None, "") else str(rendered)
        return values

    def method(self, values: dict[str, Any]) -> str:
        chosen = values.get("auth_method")
        if chosen:
            chosen = _ALIASES.get(chosen.lower(), chosen.lower())
            if chosen not in METHODS:
                raise ConfigError(f"auth_method {values['auth_method']!r} is not one of {', '.join(METHODS)}")
        elif values.get("token_id") or values.get("token_secret"):
            chosen = "tba"
        elif values.get("certificate_id") or values.get("private_key"):
            chosen = "client_credentials"
        elif values.get("access_token") or values.get("refresh_token") or values.get("consumer_secret"):
            chosen = "authorization_code"
        else:
            raise ConfigError(
                "cannot tell which NetSuite auth method to use from the config",
                hint="set auth_method, and: for tba consumer_key, consumer_secret, token_id, token_secret; for "
                "client_credentials consumer_key, certificate_id, private_key; for authorization_code "
                "consumer_key, consumer_secret (then run `connector-core authorize netsuite`)",
            )
        missing = [key for key in _NEEDS[chosen] if not values.get(key)]
        if missing:
            raise ConfigError(f"NetSuite auth method '{chosen}' needs {', '.join(missing)} in the config")
        return chosen

    def delegate(self, ctx: AuthContext) -> AuthModel:
        """The core auth this configuration stands for."""
        values = self._values(ctx)
        account = normalize_account_id(values["account_id"])
        chosen = self.method(values)
        url = values.get("token_url") or token_url(account, values.get("base_url"))
        if chosen == "tba":
            return OAuth1Auth(
                consumer_key=values["consumer_key"],
                consumer_secret=values["consumer_secret"],
                token=values["token_id"],
                token_secret=values["token_secret"],
                realm=account,
                signature_method="HMAC-SHA256",
            )
        if chosen == "client_credentials":
            algorithm = (values.get("algorithm") or algorithm_for_key(values["private_key"])).upper()
            if algorithm.startswith("RS"):
                raise ConfigError(
                    f"NetSuite refuses JWT assertions signed {algorithm} (since March 2025)",
                    hint="set algorithm to PS256 (an RSA key works with PS256) or use an EC key with ES256",
                )
            return OAuth2ClientCredentials(
                token_url=url,
                client_id=values["consumer_key"],
                assertion=JwtAssertion(
                    private_key=values["private_key"],
                    key_id=values["certificate_id"],
                    algorithm=algorithm,
                    allowed_algorithms=ACCEPTED_JWT_ALGORITHMS,
                    claims={"scope": (values.get("scopes") or "rest_webservices").replace(" ", ",").split(",")},
                    lifetime=300,
                ),
            )
        return OAuth2AuthorizationCode(
            token_url=url,
            authorize_url=authorize_url(account, values.get("base_url")),
            client_id=values["consumer_key"],
            client_secret=values["consumer_secret"],
            access_token=values.get("access_token"),
            refresh_token=values.get("refresh_token"),
            expires_at=values.get("expires_at"),
            refresh_expires_at=values.get("refresh_expires_at"),
            refresh_token_lifetime=REFRESH_TOKEN_LIFETIME,
            scopes=values.get("scopes") or "rest_webservices",
            client_auth="basic",
            reauthorize_hint="NetSuite refresh tokens last 7 days; for unattended syncs prefer client_credentials (M2M)",
        )

    def build(self, ctx: AuthContext) -> AuthBase | None:
        return self.delegate(ctx).build(ctx)


__all__ = ["ACCEPTED_JWT_ALGORITHMS", "METHODS", "NetSuiteAuth"]
