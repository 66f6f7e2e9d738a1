"""Fixtures for the NetSuite emulator tests: key pairs made at test time, running emulators."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from netsuite_emulator_support import tba_session

from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator
from connectors.netsuite.emulator.keys import KeyPair, generate_keypair


@pytest.fixture(scope="session")
def ec_keys() -> KeyPair:
    return generate_keypair("ec")


@pytest.fixture(scope="session")
def rsa_keys() -> KeyPair:
    return generate_keypair("rsa", rsa_bits=2048)


@pytest.fixture(scope="module")
def emulator(ec_keys: KeyPair) -> Iterator[NetSuiteEmulator]:
    """A small emulator shared by a test module (tests must not depend on exact counts)."""
    settings = EmulatorSettings(
        customers=300, items=12, sales_orders=20, invoices=40, m2m_public_key_pem=ec_keys.public_pem
    )
    with NetSuiteEmulator(settings) as emu:
        yield emu


@pytest.fixture
def fresh(ec_keys: KeyPair) -> Iterator[NetSuiteEmulator]:
    """A private emulator for tests that change settings or time."""
    settings = EmulatorSettings(
        customers=60, items=6, sales_orders=6, invoices=10, m2m_public_key_pem=ec_keys.certificate_pem
    )
    with NetSuiteEmulator(settings) as emu:
        yield emu


@pytest.fixture
def session(emulator: NetSuiteEmulator) -> requests.Session:
    return tba_session(emulator.settings)
