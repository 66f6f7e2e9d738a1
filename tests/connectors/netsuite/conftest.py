"""Fixtures for the NetSuite connector tests: emulators on loopback ports, configs, opened connectors.

Every test talks real HTTP to a :class:`NetSuiteEmulator` started on port 0. Key pairs for OAuth 2.0
M2M are generated here at test time with ``cryptography``; none is ever written to the repository.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connector_core.engine.connector import Connector
from connector_core.engine.loader import LoadedSpec, load_spec
from connector_core.plugins import Registry, build_registry, make_plugin_manager
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

SPEC = Path(__file__).resolve().parents[3] / "connectors" / "netsuite" / "netsuite.yaml"


@dataclass(frozen=True)
class Keys:
    private_pem: str
    public_pem: str


def _pems(key: Any) -> Keys:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return Keys(private, public)


@pytest.fixture(scope="session")
def rsa_key() -> Keys:
    return _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def ec_key() -> Keys:
    return _pems(ec.generate_private_key(ec.SECP256R1()))


class TestClock:
    """The connector's clock: real time plus an offset that tests move with the emulator's clock."""

    __test__ = False

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class Env:
    """One emulator and the clocks of everything talking to it."""

    def __init__(self, emulator: NetSuiteEmulator) -> None:
        self.emulator = emulator
        self.clock = TestClock()
        self.opened: list[Connector] = []

    @property
    def url(self) -> str:
        assert self.emulator.url
        return self.emulator.url

    @property
    def settings(self) -> EmulatorSettings:
        return self.emulator.settings

    def advance(self, seconds: float) -> None:
        """Move time for the emulator and the connectors opened here alike."""
        self.emulator.advance_time(seconds)
        self.clock.offset += seconds

    def tba(self, **extra: Any) -> dict[str, Any]:
        tba = self.emulator.credentials()["tba"]
        return {"account_id": self.settings.account_id, "base_url": self.url, **tba, **extra}

    def m2m(self, private_pem: str, **extra: Any) -> dict[str, Any]:
        s = self.settings
        return {
            "account_id": s.account_id,
            "base_url": self.url,
            "consumer_key": s.m2m_client_id,
            "certificate_id": s.certificate_id,
            "private_key": private_pem,
            **extra,
        }

    def auth_code(self, **extra: Any) -> dict[str, Any]:
        s = self.settings
        return {
            "account_id": s.account_id,
            "base_url": self.url,
            "auth_method": "authorization_code",
            "consumer_key": s.oauth2_client_id,
            "consumer_secret": s.oauth2_client_secret,
            **extra,
        }

    def open(self, config: dict[str, Any] | None = None, spec: str | Path = "netsuite", **kwargs: Any) -> Connector:
        kwargs.setdefault("clock", self.clock)
        registry, loaded = _loaded(str(spec))
        connector = Connector(loaded, config if config is not None else self.tba(), registry, **kwargs)
        self.opened.append(connector)
        return connector

    def stats(self) -> dict[str, Any]:
        return self.emulator.stats(recent=2000)

    def sql_count(self, query: str) -> int:
        """``SELECT COUNT(*) AS n …`` run straight on the emulator (no auth, no governance)."""
        return int(self.emulator.suiteql(query)[0]["n"])

    def close(self) -> None:
        for connector in self.opened:
            connector.close()
        self.emulator.stop()


_REGISTRY: list[Registry] = []
_LOADED: dict[str, LoadedSpec] = {}


def _loaded(spec: str) -> tuple[Registry, LoadedSpec]:
    """Load each spec once per session: compiling the NetSuite spec's templates takes most of a second."""
    if not _REGISTRY:
        _REGISTRY.append(build_registry(make_plugin_manager()))
    if spec not in _LOADED:
        _LOADED[spec] = load_spec(spec, _REGISTRY[0])
    return _REGISTRY[0], _LOADED[spec]


def _start(settings: EmulatorSettings) -> Env:
    emulator = NetSuiteEmulator(settings)
    emulator.start("127.0.0.1", 0)
    return Env(emulator)


@pytest.fixture(scope="module")
def shared() -> Iterator[Env]:
    """One seeded emulator per module, for tests that only read or that write their own records."""
    env = _start(EmulatorSettings(customers=150, items=10, sales_orders=12, invoices=40))
    yield env
    env.close()


@pytest.fixture
def make_env() -> Iterator[Callable[..., Env]]:
    """Start a private emulator with the given settings (stopped when the test ends)."""
    started: list[Env] = []

    def make(**settings: Any) -> Env:
        settings.setdefault("customers", 40)
        settings.setdefault("items", 6)
        settings.setdefault("sales_orders", 6)
        settings.setdefault("invoices", 12)
        env = _start(EmulatorSettings(**settings))
        started.append(env)
        return env

    yield make
    for env in started:
        env.close()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    """A private, small emulator."""
    return make_env()


@pytest.fixture
def spec_variant(tmp_path: Path) -> Callable[..., Path]:
    """Write a copy of netsuite.yaml with top-level keys replaced, e.g. ``paginate=...``."""

    def write(**changes: Any) -> Path:
        spec = yaml.safe_load(SPEC.read_text())
        spec.update(changes)
        path = tmp_path / "netsuite_variant.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        return path

    return write
