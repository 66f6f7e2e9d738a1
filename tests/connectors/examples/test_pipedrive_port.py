"""The Pipedrive port (connectors/examples/pipedrive, with the extractor its spec loads from plugin.py) against a
local Pipedrive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_pipedrive import API_TOKEN, FakePipedrive

from connector_core.engine.connector import Connector
from connector_core.errors import ConnectorError
from connector_core.testing import read_stream

SPEC = Path(__file__).parents[3] / "connectors" / "examples" / "pipedrive" / "pipedrive.yaml"


@pytest.fixture
def pipedrive() -> Iterator[FakePipedrive]:
    with FakePipedrive() as api:
        yield api


def open_pipedrive(api: FakePipedrive, start: str = "2024-02-02T00:00:00Z", **extra: Any) -> Connector:
    config = {"api_token": API_TOKEN, "replication_start_date": start, "base_url": f"{api.url}/v1", **extra}
    return Connector.open(SPEC, config)


def test_deals_unwrap_recents_and_keep_a_deleted_deal(pipedrive: FakePipedrive) -> None:
    with open_pipedrive(pipedrive, num_workers=2) as connector:
        read = read_stream(connector, "deals")
    ids = [r["id"] for r in read.records]
    assert ids == [2, 3, *range(4, 13)]
    deleted = read.records[1]
    assert deleted == {
        "item": "deal",
        "id": 3,
        "data": None,
    }  # the wrapper itself, as Airbyte's extractor gives
    assert read.records[0]["title"] == "Deal 2"
    first = pipedrive.requests_to("/v1/recents")[0].query
    assert (
        first["items"] == "deal"
        and first["since_timestamp"] == "2024-02-02 00:00:00"
        and first["limit"] == "50"
    )
    assert read.state["cursor"] == "2024-02-12T10:00:00Z"  # state keeps cursors as ISO 8601


def test_users_take_the_records_nested_in_each_item(pipedrive: FakePipedrive) -> None:
    with open_pipedrive(pipedrive, start="2024-01-01T00:00:00Z") as connector:
        assert [u["name"] for u in read_stream(connector, "users").records] == ["Ada", "Bo"]


def test_lists_are_paged_by_next_start_and_an_empty_page_is_null(pipedrive: FakePipedrive) -> None:
    pipedrive.lists["/v1/dealFields"] *= 10  # 70 fields: two pages of 50
    with open_pipedrive(pipedrive) as connector:
        assert len(read_stream(connector, "deal_fields").records) == 70
        assert [r["code"] for r in read_stream(connector, "currencies").records] == ["EUR", "USD"]
        assert read_stream(connector, "goals").records == [{"id": "g1", "title": "Q1 deals"}]
    assert [r.query.get("start") for r in pipedrive.requests_to("/v1/dealFields")] == [None, "50"]
    assert [r.query.get("start") for r in pipedrive.requests_to("/v1/currencies")] == [None]


def test_mail_reads_threads_of_every_folder_through_a_hidden_stream(pipedrive: FakePipedrive) -> None:
    with open_pipedrive(pipedrive) as connector:
        assert [m["id"] for m in read_stream(connector, "mail").records] == [1001, 2001]
        with pytest.raises(ConnectorError, match="mail_threads"):
            read_stream(connector, "mail_threads")
    folders = [r.query["folder"] for r in pipedrive.requests_to("/v1/mailbox/mailThreads")]
    assert sorted(folders) == ["archive", "drafts", "inbox", "sent"]


def test_deal_products_run_once_per_deal(pipedrive: FakePipedrive) -> None:
    with open_pipedrive(pipedrive, start="2024-01-01T00:00:00Z") as connector:
        products = read_stream(connector, "deal_products").records
    assert [p["deal_id"] for p in products] == [4, 8, 12]
