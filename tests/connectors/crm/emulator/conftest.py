"""Fixtures for the HubSpot emulator tests: a small seeded emulator on 127.0.0.1 and a client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from emulator_fixtures import started_emulators
from hubspot_emulator_support import Client

from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings

SMALL = {"companies": 30, "contacts": 40, "deals": 25}


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., HubSpotEmulator]]:
    """Factory: ``make_emulator(**settings)`` -> started emulator, stopped after the test."""
    fast = {"rate_limit_per_10s": 10_000, "search_per_second": 10_000}
    yield from started_emulators(
        lambda **overrides: HubSpotEmulator(HubSpotSettings(**{**SMALL, **fast, **overrides}))
    )


@pytest.fixture
def emu(make_emulator: Callable[..., HubSpotEmulator]) -> HubSpotEmulator:
    return make_emulator()


@pytest.fixture
def client(emu: HubSpotEmulator) -> Client:
    return Client(emu.url or "", emu.token)
