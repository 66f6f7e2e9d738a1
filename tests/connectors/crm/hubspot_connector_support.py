"""Helpers shared by the HubSpot connector tests (a uniquely named module: `conftest` names clash)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.crm.emulator import HubSpotEmulator
from connectors.crm.plugin import HUBSPOT_SPEC


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


def endpoint_counts(emu: HubSpotEmulator) -> dict[str, int]:
    return dict(emu.stats.snapshot()["by_endpoint"])
