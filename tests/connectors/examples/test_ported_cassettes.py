"""Each port's traffic recorded with the test kit: the cassette holds no secret and replays with the API gone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fake_mailchimp
import fake_pipedrive
import fake_sendgrid
import fake_strava
import pytest
from ported_api_server import PortedAPI

from connector_core.engine.connector import Connector
from connector_core.plugins import build_registry, make_plugin_manager
from connector_core.testing import CassetteScrubber, SerialSession, assert_cassette_has_no_secrets, make_vcr

EXAMPLES = Path(__file__).parents[3] / "connectors" / "examples"
OFFLINE = "http://127.0.0.1:9"  # replays never reach it: scheme, host and port are not matched


@dataclass(frozen=True)
class Port:
    name: str
    fake: Callable[[], PortedAPI]
    config: Callable[[str], dict[str, Any]]
    streams: tuple[str, ...]
    secrets: frozenset[str]


PORTS = [
    Port(
        "strava",
        fake_strava.FakeStrava,
        lambda url: {
            "client_id": fake_strava.CLIENT_ID,
            "client_secret": fake_strava.CLIENT_SECRET,
            "refresh_token": fake_strava.REFRESH_TOKEN,
            "athlete_id": fake_strava.ATHLETE_ID,
            "start_date": "2024-02-01T00:00:00Z",
            "base_url": f"{url}/api/v3",
            "token_url": f"{url}/oauth/token",
        },
        ("athlete_stats", "activities"),
        frozenset({fake_strava.CLIENT_SECRET, fake_strava.REFRESH_TOKEN, fake_strava.ACCESS_TOKEN}),
    ),
    Port(
        "pipedrive",
        fake_pipedrive.FakePipedrive,
        lambda url: {
            "api_token": fake_pipedrive.API_TOKEN,
            "replication_start_date": "2024-01-01T00:00:00Z",
            "base_url": f"{url}/v1",
        },
        ("deals", "mail", "deal_products"),
        frozenset({fake_pipedrive.API_TOKEN}),
    ),
    Port(
        "mailchimp",
        fake_mailchimp.FakeMailchimp,
        lambda url: {
            "credentials": {"auth_type": "apikey", "apikey": fake_mailchimp.API_KEY},
            "base_url": f"{url}/3.0",
        },
        ("campaigns", "interests", "email_activity"),
        frozenset({fake_mailchimp.API_KEY}),
    ),
    Port(
        "sendgrid",
        fake_sendgrid.FakeSendGrid,
        lambda url: {"api_key": fake_sendgrid.API_KEY, "start_date": "2024-01-01T00:00:00Z", "base_url": url},
        ("bounces", "lists", "segments"),
        frozenset({fake_sendgrid.API_KEY}),
    ),
]


def _read(
    port: Port, config: dict[str, Any], scrubber: CassetteScrubber | None = None, **kwargs: Any
) -> dict[str, list[dict[str, Any]]]:
    registry = build_registry(make_plugin_manager(entry_points=False))
    spec = EXAMPLES / port.name / f"{port.name}.yaml"
    with Connector.open(spec, config, registry=registry, now="2024-06-01T00:00:00Z", **kwargs) as connector:
        if scrubber is not None:
            scrubber.watch(
                connector.redactor
            )  # the connector's secrets (an API key in the query too) are scrubbed
        return {stream: list(connector.read(stream)) for stream in port.streams}


@pytest.mark.parametrize("port", PORTS, ids=[p.name for p in PORTS])
def test_recorded_read_has_no_secret_and_replays_without_the_api(port: Port, tmp_path: Path) -> None:
    cassette = tmp_path / f"{port.name}.yaml"
    scrubber = CassetteScrubber()
    with port.fake() as api:
        recorder = make_vcr(tmp_path, record_mode="all", scrubber=scrubber)
        with recorder.use_cassette(str(cassette)):
            recorded = _read(port, port.config(api.url), scrubber, session=SerialSession())
    assert all(recorded.values()), {s: len(r) for s, r in recorded.items()}
    assert_cassette_has_no_secrets(cassette, set(port.secrets))
    replay_scrubber = (
        CassetteScrubber()
    )  # scrubs each request as it was recorded, so a key in the query matches
    with make_vcr(tmp_path, record_mode="none", scrubber=replay_scrubber).use_cassette(str(cassette)):
        replayed = _read(port, port.config(OFFLINE), replay_scrubber)
    assert replayed == recorded
