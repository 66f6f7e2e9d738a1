"""Recorded HubSpot traffic: the test kit scrubs secrets from cassettes, and a scrubbed cassette replays.

``test_recorded_read_replays_without_the_api`` records against the emulator into a temporary cassette,
checks it holds no secret, stops the emulator and replays. ``test_committed_cassette_replays`` replays
the cassette committed under ``cassettes/`` (re-record it with ``pytest --record-cassettes``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hubspot_connector_support import oauth_config

from connector_core.engine.connector import Connector
from connector_core.testing import (
    CassetteScrubber,
    SerialSession,
    StreamRead,
    assert_cassette_has_no_secrets,
    make_vcr,
)
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings

SETTINGS = {"companies": 30, "contacts": 10, "deals": 20, "seed": 7}
OFFLINE = "http://127.0.0.1:9"  # replays never reach it: scheme, host and port are not matched


def _session(connector: Connector, emu: HubSpotEmulator) -> dict[str, Any]:
    companies = StreamRead(records=list(connector.read("companies_full")), state={})
    deals = list(connector.read("deals_full"))
    written = connector.call(
        "ensure_properties",
        {"object_type": "companies", "records": [{"name": "netsuite_customer_id", "hasUniqueValue": True}]},
    )
    return {
        "companies": companies.records,
        "deals": deals,
        "written": [o["status"] for o in written["records"]],
    }


def _secrets(emu: HubSpotEmulator, connector: Connector) -> set[str]:
    creds = emu.credentials
    return {
        creds["client_secret"],
        creds["refresh_token"],
        creds["private_app_token"],
        *connector.redactor.secrets,
    } - {""}


def test_recorded_read_replays_without_the_api(tmp_path: Path) -> None:
    scrubber = CassetteScrubber()
    cassette = tmp_path / "hubspot.yaml"
    with HubSpotEmulator(HubSpotSettings(**SETTINGS)) as emu:
        with Connector.open("hubspot", oauth_config(emu), session=SerialSession()) as connector:
            scrubber.watch(connector.redactor)
            with make_vcr(tmp_path, record_mode="all", scrubber=scrubber).use_cassette(str(cassette)):
                recorded = _session(connector, emu)
            secrets = _secrets(emu, connector)
        config = oauth_config(emu, base_url=OFFLINE)
    assert len(secrets) >= 4  # client secret, refresh token, token, the access token the emulator issued
    assert_cassette_has_no_secrets(cassette, secrets)
    text = cassette.read_text(encoding="utf-8")
    assert "/oauth/v1/token" in text and "batch/read" not in text
    with Connector.open("hubspot", config) as connector:
        with make_vcr(tmp_path, record_mode="none").use_cassette(str(cassette)):
            replayed = _session(connector, emu)
    assert replayed == recorded
    assert recorded["written"] == [201]


@pytest.fixture
def recording_emulator(connector_vcr: Any) -> Iterator[HubSpotEmulator | None]:
    if connector_vcr.record_mode == "none":
        yield None
        return
    with HubSpotEmulator(HubSpotSettings(**SETTINGS)) as emu:
        yield emu


def test_committed_cassette_replays(
    recording_emulator: HubSpotEmulator | None,
    connector_cassette: Any,
    cassette_path: Path,
    load_connector: Callable[..., Connector],
) -> None:
    defaults = HubSpotEmulator(
        HubSpotSettings(**SETTINGS)
    ).credentials  # the emulator's well-known test credentials
    config = {
        "client_id": defaults["client_id"],
        "client_secret": defaults["client_secret"],
        "refresh_token": defaults["refresh_token"],
        "base_url": recording_emulator.url if recording_emulator else OFFLINE,
    }
    connector = load_connector("hubspot", config)
    companies = list(connector.read("companies_full"))
    deals = list(connector.read("deals_full"))
    assert len(companies) == 30 and len(deals) == 20
    assert all(isinstance(d["company_ids"], list) for d in deals)
    if recording_emulator is not None:
        return  # the cassette is written when the test ends; replay runs check it
    assert_cassette_has_no_secrets(
        cassette_path, {defaults["client_secret"], defaults["refresh_token"], *connector.redactor.secrets}
    )
    interactions = yaml.safe_load(cassette_path.read_text(encoding="utf-8"))["interactions"]
    assert interactions[0]["request"]["uri"].endswith("/oauth/v1/token")
