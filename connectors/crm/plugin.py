"""CRM connectors plugin: hook implementations only.

The HubSpot connector is entirely a spec (``hubspot.yaml`` beside this module); what it needed beyond
the spec format's earlier reach was added to the engine as general mechanisms (see the spec's header).
"""

from __future__ import annotations

from pathlib import Path

from connector_core.hookspecs import hookimpl

HUBSPOT_SPEC = Path(__file__).with_name("hubspot.yaml")


@hookimpl
def connector_register_connectors() -> list[Path]:
    return [HUBSPOT_SPEC]
