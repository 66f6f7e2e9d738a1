"""The Strava port (connectors/examples/strava) against a local Strava."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_strava import ATHLETE_ID, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, STATS, FakeStrava

from connector_core.engine.connector import Connector
from connector_core.testing import read_stream

SPEC = Path(__file__).parents[3] / "connectors" / "examples" / "strava" / "strava.yaml"


def config(api: FakeStrava, start: str = "2024-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        "athlete_id": ATHLETE_ID,
        "start_date": start,
        "base_url": f"{api.url}/api/v3",
        "token_url": f"{api.url}/oauth/token",
    }


@pytest.fixture
def strava() -> Iterator[FakeStrava]:
    with FakeStrava() as api:
        yield api


def test_athlete_stats_is_the_body_itself(strava: FakeStrava) -> None:
    with Connector.open(SPEC, config(strava)) as connector:
        assert read_stream(connector, "athlete_stats").records == [STATS]
    assert strava.tokens_issued == 1


def test_activities_are_paged_by_page_number_and_filtered_by_after(strava: FakeStrava) -> None:
    with Connector.open(SPEC, config(strava, start="2024-01-05T00:00:00Z")) as connector:
        first = read_stream(connector, "activities")
    assert [r["id"] for r in first.records] == [10_000_000 + i for i in range(4, 70)]
    pages = strava.requests_to("/api/v3/athlete/activities")
    assert [(p.query["page"], p.query["per_page"]) for p in pages] == [("1", "30"), ("2", "30"), ("3", "30")]
    assert {p.query["after"] for p in pages} == {"1704412800"}  # 2024-01-05T00:00:00Z as epoch seconds
    assert first.state["cursor"] == "2024-03-10T07:00:00Z"

    strava.activities.append(
        {**strava.activities[-1], "id": 20_000_000, "start_date": "2024-03-11T07:00:00Z"}
    )
    with Connector.open(SPEC, config(strava)) as connector:
        second = read_stream(connector, "activities", first.state)
    assert [r["id"] for r in second.records] == [20_000_000]


def test_check_reads_the_stats(strava: FakeStrava) -> None:
    with Connector.open(SPEC, config(strava)) as connector:
        assert connector.check().ok
