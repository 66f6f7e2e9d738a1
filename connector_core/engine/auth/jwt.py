"""JWT client assertions (RFC 7523): supported algorithms, private-key checks and signing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field, field_validator, model_validator

from connector_core.engine.auth.base import AuthContext, _required
from connector_core.engine.auth.tokens import _duration
from connector_core.engine.spec import SpecModel
from connector_core.errors import ConfigError

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
    lifetime: float = Field(300, gt=0, le=3600, description="Seconds until the assertion expires (or a duration such as '5m').")
    allowed_algorithms: list[str] | None = Field(
        None,
        description="Algorithms the API accepts; any other is refused when the connector opens, before any request.",
    )

    _parse_lifetime = field_validator("lifetime", mode="before")(lambda cls, v: _duration(v))

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

    def signer(self, ctx: AuthContext, client_id: str, audience: str) -> Callable[..., str]:
        """Check the algorithm and the key now; return a function that signs a fresh assertion.

        The function takes optional ``extra`` claims (e.g. a grant's ``sub``), put before the spec's own.
        """
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
        # The isinstance repeats what `fits` says, so that the type checker sees the key kind too.
        if not fits or not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ConfigError(
                f"JWT algorithm {algorithm} (auth.assertion.algorithm) needs {expected}, but auth.assertion.private_key is a {type(key).__name__.lstrip('_')}"
            )
        headers = {"typ": "JWT"}
        if self.key_id:
            headers["kid"] = str(ctx.render(self.key_id))

        def sign(extra: dict[str, Any] | None = None) -> str:
            now = int(ctx.now())
            claims: dict[str, Any] = {
                "iss": client_id,
                "aud": audience,
                "iat": now,
                "exp": now + int(self.lifetime),
                **(extra or {}),
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


__all__ = ["JWS_ALGORITHMS", "JwtAssertion"]
