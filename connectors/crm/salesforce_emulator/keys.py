"""A throwaway RSA key pair and a self-signed certificate, as a user makes for a connected app (and TLS)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str
    certificate_pem: str


def generate_keypair(common_name: str = "salesforce-emulator", hosts: tuple[str, ...] = ("localhost",),
                     ips: tuple[str, ...] = ("127.0.0.1",)) -> KeyPair:
    """A 2048-bit RSA key with a one-year self-signed certificate naming ``hosts`` and ``ips``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(h) for h in hosts]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return KeyPair(private_pem, public_pem, cert.public_bytes(serialization.Encoding.PEM).decode())


def public_key_pem(pem: str) -> str:
    """The public key of a PEM certificate or public key (a connected app stores a certificate)."""
    if "BEGIN CERTIFICATE" in pem:
        cert = x509.load_pem_x509_certificate(pem.encode())
        return cert.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return pem
