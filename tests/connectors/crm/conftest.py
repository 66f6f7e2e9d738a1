"""Fixtures for the HubSpot connector tests: the emulator on loopback and the `hubspot` spec bound to it.

Everything goes over real HTTP to :class:`HubSpotEmulator`; nothing of connector-core is mocked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from emulator_fixtures import opened_connectors, started_emulators
from hubspot_connector_support import endpoint_counts, oauth_config, spec_with_search_cap, token_config  # noqa: F401

from connector_core.engine.connector import Connector
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings

SMALL = {"companies": 60, "contacts": 40, "deals": 50}
#: generous limits, so that tests about something else never meet them
FAST = {"rate_limit_per_10s": 100_000, "search_per_second": 10_000}


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., HubSpotEmulator]]:
    """Factory: ``make_emulator(**settings)`` → a started emulator, stopped after the test."""
    yield from started_emulators(
        lambda **overrides: HubSpotEmulator(HubSpotSettings(**{**SMALL, **FAST, **overrides}))
    )


@pytest.fixture
def emu(make_emulator: Callable[..., HubSpotEmulator]) -> HubSpotEmulator:
    return make_emulator()


@pytest.fixture
def open_hubspot() -> Iterator[Callable[..., Connector]]:
    """Factory: ``open_hubspot(config, spec='hubspot', **kwargs)`` → an open connector, closed after the test."""
    yield from opened_connectors("hubspot")


@pytest.fixture
def hubspot(emu: HubSpotEmulator, open_hubspot: Callable[..., Connector]) -> Connector:
    """The installed `hubspot` connector with a private-app token for ``emu``."""
    return open_hubspot(token_config(emu))
