"""Fixtures for the Salesforce connector tests: the emulator on loopback and the `salesforce` spec bound to it.

Everything goes over real HTTP to :class:`SalesforceEmulator` (which checks JWT assertions with joserfc,
not the PyJWT the connector signs with); nothing of connector-core is mocked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from emulator_fixtures import opened_connectors, started_emulators
from salesforce_connector_support import jwt_config

from connector_core.engine.auth import MemoryTokenStore
from connector_core.engine.connector import Connector
from connectors.crm.salesforce_emulator import SalesforceEmulator, SalesforceSettings

SMALL = {"accounts": 40, "contacts": 30, "opportunities": 25, "users": 3}


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., SalesforceEmulator]]:
    """Factory: ``make_emulator(**settings)`` → a started emulator, stopped after the test."""
    yield from started_emulators(
        lambda **overrides: SalesforceEmulator(SalesforceSettings(**{**SMALL, **overrides}))
    )


@pytest.fixture
def emu(make_emulator: Callable[..., SalesforceEmulator]) -> SalesforceEmulator:
    return make_emulator()


def _quiet_options() -> dict[str, Any]:
    """A token store of the test's own, and no real sleeping between retries."""
    return {"tokens": MemoryTokenStore(), "sleep": lambda seconds: None}


@pytest.fixture
def open_salesforce() -> Iterator[Callable[..., Connector]]:
    """Factory: ``open_salesforce(config, spec='salesforce', **kwargs)`` → an open connector, closed after the test."""
    yield from opened_connectors("salesforce", _quiet_options)


@pytest.fixture
def salesforce(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> Connector:
    """The installed `salesforce` connector, JWT bearer flow, against ``emu``."""
    return open_salesforce(jwt_config(emu))
