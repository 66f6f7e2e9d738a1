"""The Mailchimp port (connectors/examples/mailchimp) against a local Mailchimp."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_mailchimp import API_KEY, FakeMailchimp

from connector_core.engine.connector import Connector
from connector_core.testing import read_stream

SPEC = Path(__file__).parents[3] / "connectors" / "examples" / "mailchimp" / "mailchimp.yaml"


@pytest.fixture
def mailchimp() -> Iterator[FakeMailchimp]:
    with FakeMailchimp() as api:
        yield api


def config(api: FakeMailchimp, **extra: Any) -> dict[str, Any]:
    return {"credentials": {"auth_type": "apikey", "apikey": API_KEY}, "base_url": f"{api.url}/3.0", **extra}


def test_lists_are_read_since_the_start_sorted_and_without_empty_fields(mailchimp: FakeMailchimp) -> None:
    pinned = "2024-06-01T00:00:00Z"  # the engine's "now" for this run: the window's end
    with Connector.open(SPEC, config(mailchimp, start_date="2024-01-02T00:00:00Z"), now=pinned) as connector:
        read = read_stream(connector, "lists")
    assert read.records == [{"id": "l2", "name": "Customers", "date_created": "2024-01-05T10:00:00+00:00"}]
    query = mailchimp.requests_to("/3.0/lists")[0].query
    assert query["sort_field"] == "date_created" and query["sort_dir"] == "ASC" and query["count"] == "1000"
    assert (
        query["since_date_created"] == "2024-01-02T00:00:00.000000Z"
    )  # the lookback applies to a saved cursor only
    assert (
        query["exclude_fields"] == "lists._links"
        and query["before_date_created"] == "2024-06-01T00:00:00.000000Z"
    )
    with Connector.open(SPEC, config(mailchimp), now="2024-06-02T00:00:00Z") as connector:
        again = read_stream(connector, "lists", read.state)
    assert [
        r["id"] for r in again.records
    ] == []  # l2 comes back inside the 1 s lookback and is not emitted again
    assert (
        mailchimp.requests_to("/3.0/lists")[-1].query["since_date_created"] == "2024-01-05T09:59:59.000000Z"
    )


def test_interests_reach_their_grandparent_list(mailchimp: FakeMailchimp) -> None:
    with Connector.open(SPEC, config(mailchimp)) as connector:
        interests = read_stream(connector, "interests").records
        categories = read_stream(connector, "interest_categories").records
    assert [i["id"] for i in interests] == ["i1", "i2"]
    assert [(c["id"], c["list_id"]) for c in categories] == [("ic1", "l1"), ("ic2", "l2")]


def test_segment_members_carry_the_segment_id(mailchimp: FakeMailchimp) -> None:
    with Connector.open(SPEC, config(mailchimp)) as connector:
        members = read_stream(connector, "segment_members").records
    assert [(m["id"], m["segment_id"]) for m in members] == [("l1-m1", 7), ("l1-m2", 7), ("l1-m3", 7)]
    assert all("vip" not in m for m in members)  # the empty string is removed, as Airbyte's RemoveFields does


def test_email_activity_gives_one_record_per_activity_with_the_email_fields(mailchimp: FakeMailchimp) -> None:
    with Connector.open(SPEC, config(mailchimp, start_date="2024-01-01T00:00:00Z")) as connector:
        read = read_stream(connector, "email_activity")
    assert (
        len(read.records) == 6
    )  # 2 activities in each of 3 campaigns; the email without activity gives none
    assert read.records[1] == {
        "action": "click",
        "timestamp": "2024-02-03T09:01:00+00:00",
        "url": "https://example.com",
        "ip": "10.0.0.1",
        "campaign_id": "c1",
        "list_id": "l1",
        "list_is_active": True,
        "email_id": "e1",
        "email_address": "m1@l1.example",
    }


def test_members_tags_and_unsubscribes(mailchimp: FakeMailchimp) -> None:
    with Connector.open(SPEC, config(mailchimp)) as connector:
        assert len(read_stream(connector, "list_members").records) == 6
        assert read_stream(connector, "tags").records == [{"id": 1, "name": "vip", "list_id": "l1"}]
        assert [u["email_id"] for u in read_stream(connector, "unsubscribes").records] == ["e1"]


def test_oauth_credentials_send_a_bearer_token(mailchimp: FakeMailchimp) -> None:
    oauth = {
        "credentials": {"auth_type": "oauth2.0", "access_token": "tok"},
        "base_url": f"{mailchimp.url}/3.0",
    }
    with Connector.open(SPEC, oauth) as connector, pytest.raises(Exception, match="401|API Key Invalid"):
        read_stream(connector, "campaigns")
    assert mailchimp.requests_to("/3.0/campaigns")[0].headers["Authorization"] == "Bearer tok"
