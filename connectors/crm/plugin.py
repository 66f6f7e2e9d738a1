"""CRM connectors plugin: hook implementations only.

The HubSpot connector is entirely a spec (``hubspot.yaml`` beside this module); what it needed beyond
the spec format's earlier reach was added to the engine as general mechanisms (see the spec's header).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from connector_core.hookspecs import hookimpl

HUBSPOT_SPEC = Path(__file__).with_name("hubspot.yaml")


@hookimpl
def connector_register_connectors() -> list[Path]:
    return [HUBSPOT_SPEC]


@hookimpl
def connector_register_emulators() -> dict[str, Callable[[int | None], Any]]:
    return {"hubspot": start_emulator}


def start_emulator(port: int | None) -> Any:
    """The HubSpot emulator on 127.0.0.1 (port 8500 unless told otherwise), its private-app token in the config."""
    from connector_core.engine.emulators import RunningEmulator
    from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings

    emulator = HubSpotEmulator(HubSpotSettings(companies=1000, contacts=1000, deals=500))
    url = emulator.start(port=8500 if port is None else port)
    config = {"access_token": emulator.token, "base_url": url}
    return RunningEmulator("hubspot", "hubspot", url, config, emulator.stop)
