"""Fixtures for the Salesforce connector tests: the emulator on loopback and the `salesforce` spec bound to it.

Everything goes over real HTTP to :class:`SalesforceEmulator` (which checks JWT assertions with joserfc,
not the PyJWT the connector signs with); nothing of connector-core is mocked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from salesforce_connector_support import jwt_config

from connector_core.engine.auth import MemoryTokenStore
from connector_core.engine.connector import Connector
from connectors.crm.salesforce_emulator import SalesforceEmulator, SalesforceSettings

SMALL = {"accounts": 40, "contacts": 30, "opportunities": 25, "users": 3}


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., SalesforceEmulator]]:
    """Factory: ``make_emulator(**settings)`` → a started emulator, stopped after the test."""
    started: list[SalesforceEmulator] = []

    def make(**overrides: Any) -> SalesforceEmulator:
        emu = SalesforceEmulator(SalesforceSettings(**{**SMALL, **overrides}))
        emu.start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


@pytest.fixture
def emu(make_emulator: Callable[..., SalesforceEmulator]) -> SalesforceEmulator:
    return make_emulator()


@pytest.fixture
def open_salesforce() -> Iterator[Callable[..., Connector]]:
    """Factory: ``open_salesforce(config, spec='salesforce', **kwargs)`` → an open connector, closed after the test."""
    opened: list[Connector] = []

    def open_(config: dict[str, Any], spec: str | Path = "salesforce", **kwargs: Any) -> Connector:
        kwargs.setdefault("tokens", MemoryTokenStore())
        kwargs.setdefault("sleep", lambda seconds: None)
        connector = Connector.open(spec, config, **kwargs)
        opened.append(connector)
        return connector

    yield open_
    for connector in opened:
        connector.close()


@pytest.fixture
def salesforce(emu: SalesforceEmulator, open_salesforce: Callable[..., Connector]) -> Connector:
    """The installed `salesforce` connector, JWT bearer flow, against ``emu``."""
    return open_salesforce(jwt_config(emu))
