"""Recorded Salesforce traffic: the test kit scrubs the JWT assertion, the session and the key from a
cassette, and the scrubbed cassette replays with the emulator stopped (the org's instance_url included)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from salesforce_connector_support import jwt_config

from connector_core.engine.connector import Connector
from connector_core.testing import CassetteScrubber, SerialSession, assert_cassette_has_no_secrets, make_vcr
from connectors.crm.salesforce_emulator import SalesforceEmulator, SalesforceSettings

SETTINGS = {"accounts": 25, "contacts": 10, "opportunities": 8, "users": 2, "max_page_size": 200, "seed": 7}


def _session(connector: Connector) -> dict[str, Any]:
    accounts = list(connector.read("accounts"))
    created = connector.call("create_record", {"type": "Account", "fields": {"Name": "Replayed", "CurrencyIsoCode": "USD"}})
    return {"accounts": accounts, "created": created["status"], "won": list(connector.read("won_opportunities"))}


def test_recorded_session_has_no_secrets_and_replays_offline(tmp_path: Path) -> None:
    scrubber = CassetteScrubber()
    cassette = tmp_path / "salesforce.yaml"
    # the queries' upper bound is "now" to the second: pinned, the replay asks what the recording asked
    now = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).replace(microsecond=0)
    with SalesforceEmulator(SalesforceSettings(**SETTINGS)) as emu:
        config = jwt_config(emu)
        with Connector.open("salesforce", config, session=SerialSession(), now=now) as connector:
            scrubber.watch(connector.redactor)
            with make_vcr(tmp_path, record_mode="all", scrubber=scrubber).use_cassette(str(cassette)):
                recorded = _session(connector)
            secrets = {config["private_key"], *connector.redactor.secrets} - {""}
    assert len(secrets) >= 3  # the key, the assertion, the session the org issued
    assert_cassette_has_no_secrets(cassette, secrets)
    text = cassette.read_text(encoding="utf-8")
    assert "/services/oauth2/token" in text and "grant-type%3Ajwt-bearer&assertion=***" in text
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    offline = {**config, "private_key": other_key, "login_url": "http://127.0.0.1:9"}  # the emulator is gone
    with Connector.open("salesforce", offline, now=now) as connector:
        with make_vcr(tmp_path, record_mode="none").use_cassette(str(cassette)):
            replayed = _session(connector)
    assert replayed == recorded
    assert len(recorded["accounts"]) == 25 and recorded["created"] == 201
