"""Recorded NetSuite traffic under both machine auths: token-based (OAuth 1.0a) and OAuth 2.0 M2M.

Each ``test_*_recording`` records a read and a write against the emulator into a temporary cassette,
checks it holds no credential, stops the emulator and replays the same calls offline.
``test_committed_tba_cassette_replays`` replays the TBA cassette committed under ``cassettes/``
(re-record it with ``pytest --record-cassettes``). TBA is the case that needed the kit's care:
requests-oauthlib hands the signed headers back as bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector_core.engine.connector import Connector
from connector_core.testing import CassetteScrubber, SerialSession, assert_cassette_has_no_secrets, make_vcr
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator
from connectors.netsuite.emulator.settings import DEFAULT_TBA

OFFLINE = "http://127.0.0.1:9"  # replays never reach it: scheme, host and port are not matched
SEED = {"customers": 12, "items": 2, "sales_orders": 1, "invoices": 2}
NEW_CUSTOMER = {"entityId": "CASSETTE-1", "companyName": "Recorded Ltd", "subsidiary": {"id": "1"}}


def _session(connector: Connector) -> dict[str, Any]:
    customers = list(connector.read("customers"))
    created = connector.call("create_record", {"record_type": "customer", "payload": NEW_CUSTOMER})
    fetched = connector.call("get_record", {"record_type": "customer", "record_id": str(created["id"])})
    return {"customers": customers, "created": created["status"], "fetched": fetched["body"]["companyName"]}


def _record_then_replay(tmp_path: Path, env: Any, config: dict[str, Any], secrets: set[str]) -> str:
    """Record ``_session`` with ``config``, check the cassette, replay offline; return the cassette text."""
    scrubber = CassetteScrubber()
    cassette = tmp_path / "netsuite.yaml"
    with env.open(config, session=SerialSession()) as connector:
        scrubber.watch(connector.redactor)
        with make_vcr(tmp_path, record_mode="all", scrubber=scrubber).use_cassette(str(cassette)):
            recorded = _session(connector)
        secrets = secrets | set(connector.redactor.secrets)
    env.emulator.stop()
    assert_cassette_has_no_secrets(cassette, secrets)
    with env.open({**config, "base_url": OFFLINE}) as offline:
        with make_vcr(tmp_path, record_mode="none").use_cassette(str(cassette)):
            replayed = _session(offline)
    assert replayed == recorded
    assert len(recorded["customers"]) == SEED["customers"] and recorded["fetched"] == "Recorded Ltd"
    return cassette.read_text(encoding="utf-8")


def test_tba_recording_is_scrubbed_and_replays_offline(tmp_path: Path, make_env: Callable[..., Any]) -> None:
    env = make_env(**SEED)
    config = env.tba()
    text = _record_then_replay(tmp_path, env, config, {config[k] for k in DEFAULT_TBA})
    assert 'OAuth realm="1234567_SB1"' in text and 'oauth_signature="***"' in text


def test_m2m_recording_is_scrubbed_and_replays_offline(
    tmp_path: Path, make_env: Callable[..., Any], rsa_key: Any
) -> None:
    env = make_env(m2m_public_key_pem=rsa_key.public_pem, **SEED)
    config = env.m2m(rsa_key.private_pem)
    private_body = "".join(rsa_key.private_pem.strip().splitlines()[1:-1])
    text = _record_then_replay(tmp_path, env, config, {rsa_key.private_pem, private_body[:64], config["consumer_key"]})
    assert "client_assertion=***" in text and "Bearer ***" in text


@pytest.fixture
def recording_emulator(connector_vcr: Any) -> Iterator[NetSuiteEmulator | None]:
    if connector_vcr.record_mode == "none":
        yield None
        return
    with NetSuiteEmulator(EmulatorSettings(**SEED)) as emulator:
        yield emulator


def test_committed_tba_cassette_replays(
    recording_emulator: NetSuiteEmulator | None,
    connector_cassette: Any,
    cassette_path: Path,
    load_connector: Callable[..., Connector],
) -> None:
    # the emulator's well-known test credentials: a replay needs the same account, not the same secrets
    config = {
        "account_id": EmulatorSettings().account_id,
        "base_url": recording_emulator.url if recording_emulator else OFFLINE,
        **DEFAULT_TBA,
    }
    connector = load_connector("netsuite", config)
    result = _session(connector)
    assert len(result["customers"]) == SEED["customers"] and result["created"] == 204
    if recording_emulator is not None:
        return  # the cassette is written when the test ends; replay runs check it
    assert_cassette_has_no_secrets(cassette_path, {*DEFAULT_TBA.values(), *connector.redactor.secrets})
    interactions = yaml.safe_load(cassette_path.read_text(encoding="utf-8"))["interactions"]
    assert all("oauth_signature=\"***\"" in i["request"]["headers"]["Authorization"][0] for i in interactions)
