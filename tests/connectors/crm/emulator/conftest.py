"""Fixtures for the HubSpot emulator tests: a small seeded emulator on 127.0.0.1 and a client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings

SMALL = {"companies": 30, "contacts": 40, "deals": 25}


class Client:
    """Thin requests wrapper: base URL + bearer token, never raising on status."""

    def __init__(self, base: str, token: str | None) -> None:
        self.base = base
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.base + path, **kwargs)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., HubSpotEmulator]]:
    """Factory: ``make_emulator(**settings)`` -> started emulator, stopped after the test."""
    started: list[HubSpotEmulator] = []

    def make(**overrides: Any) -> HubSpotEmulator:
        params = {**SMALL, "rate_limit_per_10s": 10_000, "search_per_second": 10_000, **overrides}
        emu = HubSpotEmulator(HubSpotSettings(**params))
        emu.start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


@pytest.fixture
def emu(make_emulator: Callable[..., HubSpotEmulator]) -> HubSpotEmulator:
    return make_emulator()


@pytest.fixture
def client(emu: HubSpotEmulator) -> Client:
    return Client(emu.url or "", emu.token)


def client_for(emu: HubSpotEmulator, token: str | None = None) -> Client:
    return Client(emu.url or "", emu.token if token is None else token)
