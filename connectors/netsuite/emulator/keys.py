"""Throwaway key pairs for M2M tests, generated at runtime (never commit private keys)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class KeyPair:
    """PEM strings: the private key (client side) and the public key and certificate (emulator side)."""

    private_pem: str
    public_pem: str
    certificate_pem: str


def generate_keypair(kind: Literal["ec", "rsa"] = "ec", rsa_bits: int = 3072) -> KeyPair:
    """Generate an EC P-256 (fast) or RSA key pair with a self-signed certificate."""
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if kind == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "netsuite-emulator-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=730))
        .sign(key, hashes.SHA256())
    )
    return KeyPair(
        private_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        public_pem=key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
    )
