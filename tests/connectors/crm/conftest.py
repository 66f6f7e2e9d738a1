"""Fixtures for the HubSpot connector tests: the emulator on loopback and the `hubspot` spec bound to it.

Everything goes over real HTTP to :class:`HubSpotEmulator`; nothing of connector-core is mocked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connector_core.connector import Connector
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.crm.plugin import HUBSPOT_SPEC

SMALL = {"companies": 60, "contacts": 40, "deals": 50}
#: generous limits, so that tests about something else never meet them
FAST = {"rate_limit_per_10s": 100_000, "search_per_second": 10_000}


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., HubSpotEmulator]]:
    """Factory: ``make_emulator(**settings)`` → a started emulator, stopped after the test."""
    started: list[HubSpotEmulator] = []

    def make(**overrides: Any) -> HubSpotEmulator:
        emu = HubSpotEmulator(HubSpotSettings(**{**SMALL, **FAST, **overrides}))
        emu.start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


@pytest.fixture
def emu(make_emulator: Callable[..., HubSpotEmulator]) -> HubSpotEmulator:
    return make_emulator()


def token_config(emu: HubSpotEmulator, **extra: Any) -> dict[str, Any]:
    """A private-app config for ``emu`` (search limit raised to the emulator's)."""
    return {"access_token": emu.token, "base_url": emu.url, "search_rate_limit": 1000, **extra}


def oauth_config(emu: HubSpotEmulator, **extra: Any) -> dict[str, Any]:
    creds = emu.credentials
    return {
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        "refresh_token": creds["refresh_token"],
        "base_url": emu.url,
        "search_rate_limit": 1000,
        **extra,
    }


def spec_with_search_cap(tmp_path: Path, cap: int) -> Path:
    """The shipped spec with the search cap lowered to ``cap`` (the emulator's ``search_result_cap``)."""
    text = HUBSPOT_SPEC.read_text(encoding="utf-8")
    assert "max_records: 10000" in text
    path = tmp_path / "hubspot.yaml"
    path.write_text(text.replace("max_records: 10000", f"max_records: {cap}"), encoding="utf-8")
    return path


@pytest.fixture
def open_hubspot() -> Iterator[Callable[..., Connector]]:
    """Factory: ``open_hubspot(config, spec='hubspot', **kwargs)`` → an open connector, closed after the test."""
    opened: list[Connector] = []

    def open_(config: dict[str, Any], spec: str | Path = "hubspot", **kwargs: Any) -> Connector:
        connector = Connector.open(spec, config, **kwargs)
        opened.append(connector)
        return connector

    yield open_
    for connector in opened:
        connector.close()


@pytest.fixture
def hubspot(emu: HubSpotEmulator, open_hubspot: Callable[..., Connector]) -> Connector:
    """The installed `hubspot` connector with a private-app token for ``emu``."""
    return open_hubspot(token_config(emu))


def endpoint_counts(emu: HubSpotEmulator) -> dict[str, int]:
    return dict(emu.stats.snapshot()["by_endpoint"])
