"""Helpers shared by the Salesforce connector tests (a uniquely named module: `conftest` names clash)."""

from __future__ import annotations

from typing import Any

import requests

from connectors.crm.salesforce_emulator import SalesforceEmulator


def jwt_config(emu: SalesforceEmulator, **extra: Any) -> dict[str, Any]:
    """A JWT bearer config for ``emu``: its connected app's key (made at start), user and login URL."""
    creds = emu.credentials
    return {
        "auth_method": "jwt_bearer",
        "consumer_key": creds["consumer_key"],
        "username": creds["username"],
        "private_key": creds["private_key_pem"],
        "login_url": emu.url,
        **extra,
    }


def secret_config(emu: SalesforceEmulator, method: str, **extra: Any) -> dict[str, Any]:
    """A client_credentials or web_server config for ``emu``."""
    creds = emu.credentials
    return {
        "auth_method": method,
        "consumer_key": creds["consumer_key"],
        "consumer_secret": creds["consumer_secret"],
        "login_url": emu.url,
        **extra,
    }


def control(emu: SalesforceEmulator, method: str, path: str, body: Any = None) -> Any:
    """Call the emulator's control API (``/_emulator/...``) and return its JSON answer."""
    response = requests.request(method, f"{emu.url}/_emulator{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json() if response.content else None


def route_counts(emu: SalesforceEmulator) -> dict[str, int]:
    """Requests per endpoint name (e.g. ``query``, ``query.next``, ``oauth.token``)."""
    return dict(emu.stats.snapshot()["by_route"])


def grants(emu: SalesforceEmulator) -> dict[str, int]:
    """Token requests per grant type."""
    return dict(emu.stats.snapshot()["by_grant"])


def error_codes(emu: SalesforceEmulator) -> dict[str, int]:
    return dict(emu.stats.snapshot()["by_error_code"])
