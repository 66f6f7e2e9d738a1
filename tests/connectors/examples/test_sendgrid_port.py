"""The SendGrid port (connectors/examples/sendgrid) against a local SendGrid."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_sendgrid import API_KEY, T0, FakeSendGrid

from connector_core.engine.connector import Connector
from connector_core.errors import ConnectorError
from connector_core.testing import read_stream

SPEC = Path(__file__).parents[3] / "connectors" / "examples" / "sendgrid" / "sendgrid.yaml"


@pytest.fixture
def sendgrid() -> Iterator[FakeSendGrid]:
    with FakeSendGrid() as api:
        yield api


class WallClock:
    """The real time, advanced only by the waits it records (so no test sleeps)."""

    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def open_sendgrid(
    api: FakeSendGrid, wall: WallClock | None = None, start: str = "2024-01-01T02:30:00Z", **extra: str
) -> Connector:
    wall = wall or WallClock()
    config = {"api_key": API_KEY, "start_date": start, "base_url": api.url, **extra}
    return Connector.open(SPEC, config, sleep=wall.sleep, clock=wall.clock, now="2024-06-01T00:00:00Z")


def test_bounces_are_read_in_an_epoch_window_then_incrementally(sendgrid: FakeSendGrid) -> None:
    with open_sendgrid(sendgrid) as connector:
        first = read_stream(connector, "bounces")
    assert [r["email"] for r in first.records] == [f"b{i}@example.com" for i in range(3, 8)]
    query = sendgrid.requests_to("/v3/suppression/bounces")[0].query
    assert query == {"start_time": str(T0 + 9000), "end_time": "1717200000", "offset": "0", "limit": "500"}
    sendgrid.bounces.append(
        {"created": T0 + 3600 * 9, "email": "late@example.com", "reason": "", "status": "5.1.1"}
    )
    with open_sendgrid(sendgrid) as connector:
        second = read_stream(connector, "bounces", first.state)
    # start_time is inclusive and bounces have no primary key, so the last bounce is read again, as Airbyte does
    assert [r["email"] for r in second.records] == ["b7@example.com", "late@example.com"]


def test_marketing_lists_follow_metadata_next(sendgrid: FakeSendGrid) -> None:
    sendgrid.lists *= 500  # 2,500 lists: three pages of 1,000
    with open_sendgrid(sendgrid) as connector:
        assert len(read_stream(connector, "lists").records) == 2500
    tokens = [r.query.get("page_token") for r in sendgrid.requests_to("/v3/marketing/lists")]
    assert tokens == [None, "1000", "2000"]


def test_contacts_come_from_an_export_job_of_gzipped_csv_files(sendgrid: FakeSendGrid) -> None:
    wall = WallClock()
    with open_sendgrid(sendgrid, wall, files_host="localhost") as connector:
        contacts = read_stream(connector, "contacts").records
    assert contacts == [
        {
            "contact_id": "c1",
            "email": "ada@example.com",
            "first_name": "Ada",
            "created_at": "2024-01-02T00:00:00Z",
        },
        {
            "contact_id": "c2",
            "email": "bo@example.com",
            "first_name": None,
            "created_at": "2024-01-03T00:00:00Z",
        },
        {
            "contact_id": "c3",
            "email": "cy@example.com",
            "first_name": "Cy",
            "created_at": "2024-01-04T00:00:00Z",
        },
    ]
    assert sendgrid.polls == 2 and len(wall.sleeps) == 2  # a wait before each poll
    downloads = [s for s in sendgrid.seen if s.path.startswith("/downloads/")]
    assert [s.headers["Host"] for s in downloads] == [sendgrid.files_url.split("://", 1)[1]] * 2
    assert not any("Authorization" in s.headers or API_KEY in str(s) for s in downloads)  # pre-signed: no API key


def test_contacts_files_on_a_host_the_spec_does_not_list_are_refused(sendgrid: FakeSendGrid) -> None:
    with open_sendgrid(sendgrid) as connector, pytest.raises(ConnectorError) as refused:
        read_stream(connector, "contacts")
    assert "host 'localhost' is not on the connector's host (127.0.0.1)" in refused.value.message
    assert "streams.contacts.export.download.hosts" in refused.value.message
    assert not [s for s in sendgrid.seen if s.path.startswith("/downloads/")]


def test_a_throttled_request_waits_for_the_reset_header(sendgrid: FakeSendGrid) -> None:
    wall = WallClock()
    sendgrid.throttle_once = True
    with open_sendgrid(sendgrid, wall) as connector:
        assert read_stream(connector, "suppression_groups").records[0]["name"] == "Weekly"
    assert any(20 <= s <= 31 for s in wall.sleeps), wall.sleeps  # the reset is 30 s after the 429


def test_segments_and_check(sendgrid: FakeSendGrid) -> None:
    with open_sendgrid(sendgrid) as connector:
        assert read_stream(connector, "segments").records == [
            {"id": "s1", "name": "Openers", "contacts_count": 2}
        ]
        assert connector.check().ok


def test_templates_ask_for_both_generations_and_lists_do_not(sendgrid: FakeSendGrid) -> None:
    with open_sendgrid(sendgrid) as connector:
        assert read_stream(connector, "templates").records == [
            {"id": "t1", "name": "Welcome", "generation": "dynamic"}
        ]
        read_stream(connector, "lists")
    assert sendgrid.requests_to("/v3/templates")[0].query == {
        "page_size": "200",
        "generations": "legacy,dynamic",
    }
    assert "generations" not in sendgrid.requests_to("/v3/marketing/lists")[0].query
