"""NetSuite M2M with an EC key and no `algorithm`: the algorithm follows the key (ES256 for P-256, ES384
for P-384), so the token request succeeds against the emulator without `algorithm: ES256` written by hand.
The emulator verifies the assertion with the public key under the algorithm its header names, and the
signer refuses an ES algorithm whose curve is not the key's, so a successful read proves the choice."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connectors.netsuite.auth import algorithm_for_key


def _pems(key: Any) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.mark.parametrize(("curve", "algorithm"), [(ec.SECP256R1(), "ES256"), (ec.SECP384R1(), "ES384")])
def test_an_ec_key_without_algorithm_signs_with_its_curve_and_reads(
    make_env: Any, curve: ec.EllipticCurve, algorithm: str
) -> None:
    private, public = _pems(ec.generate_private_key(curve))
    env = make_env(m2m_public_key_pem=public)
    config = env.m2m(private)
    assert "algorithm" not in config
    connector = env.open(config)
    assert connector.check().ok
    assert len(list(connector.read("subsidiaries"))) == 3
    assert algorithm_for_key(private) == algorithm


def test_the_key_kind_decides_only_when_no_algorithm_is_named() -> None:
    ec_private, _ = _pems(ec.generate_private_key(ec.SECP256R1()))
    rsa_private, _ = _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert algorithm_for_key(ec_private) == "ES256"
    assert algorithm_for_key(rsa_private) == "PS256"
    assert algorithm_for_key("not a key") == "PS256"  # signing then says what is wrong with the key
