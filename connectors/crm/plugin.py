"""CRM connectors plugin: hook implementations only.

The HubSpot connector is entirely a spec (``hubspot.yaml`` beside this module); what it needed beyond
the spec format's earlier reach was added to the engine as general mechanisms (see the spec's header).
The Salesforce connector is a spec too (``salesforce.yaml``); its plugin share is template filters that
write SOQL literals and names safely (``salesforce_soql``) and the transform turning a describe reply
into a JSON Schema (``salesforce_describe``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from connector_core.hookspecs import hookimpl

HUBSPOT_SPEC = Path(__file__).with_name("hubspot.yaml")
SALESFORCE_SPEC = Path(__file__).with_name("salesforce.yaml")


@hookimpl
def connector_register_connectors() -> list[Path]:
    return [HUBSPOT_SPEC, SALESFORCE_SPEC]


@hookimpl
def connector_register_jinja_filters() -> dict[str, Callable[..., Any]]:
    from connectors.crm.salesforce_soql import FILTERS

    return dict(FILTERS)


@hookimpl
def connector_register_transforms() -> dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]]:
    from connectors.crm.salesforce_describe import TRANSFORMS

    return dict(TRANSFORMS)


@hookimpl
def connector_register_emulators() -> dict[str, Callable[[int | None], Any]]:
    return {"hubspot": start_emulator, "salesforce": start_salesforce_emulator}


def start_salesforce_emulator(port: int | None) -> Any:
    """The Salesforce emulator (``salesforce_emulator/sandbox.py``), imported only when it starts: every
    command calls this hook, and the emulator's imports (its SOQL parser, JOSE library, WSGI server)
    would otherwise cost every `read` a quarter of a second and 20 MB."""
    from connectors.crm.salesforce_emulator.sandbox import start_emulator as start

    return start(port)


def start_emulator(port: int | None) -> Any:
    """The HubSpot emulator on 127.0.0.1 (port 8500 unless told otherwise), its private-app token in the config."""
    from connector_core.engine.emulators import RunningEmulator
    from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings

    emulator = HubSpotEmulator(HubSpotSettings(companies=1000, contacts=1000, deals=500))
    url = emulator.start(port=8500 if port is None else port)
    config = {"access_token": emulator.token, "base_url": url}
    return RunningEmulator("hubspot", "hubspot", url, config, emulator.stop)
