"""Test helpers for the HubSpot emulator suite (a uniquely named module, importable from tests)."""

from __future__ import annotations

from typing import Any

import requests

from connectors.crm.emulator import HubSpotEmulator


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


def client_for(emu: HubSpotEmulator, token: str | None = None) -> Client:
    return Client(emu.url or "", emu.token if token is None else token)
