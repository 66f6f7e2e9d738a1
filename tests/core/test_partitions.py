"""Partitions over real HTTP: a sub-sub-stream reaching its grandparent (`partition.parent_partition`),
partitions from the config when it lists them else from the parent stream, and the located checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, open_connector

from connector_core.engine.connector import Connector
from connector_core.errors import SpecError

ACCOUNTS = {"a1": {"c1": ["ad1", "ad2"], "c2": ["ad3"]}, "a2": {"c3": ["ad4"]}}


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        server.json("/accounts", {"data": [{"id": account} for account in ACCOUNTS]})
        for account, campaigns in ACCOUNTS.items():
            server.json(f"/accounts/{account}/campaigns", {"data": [{"id": c, "account": account} for c in campaigns]})
            for campaign, ads in campaigns.items():
                server.route(
                    f"/accounts/{account}/campaigns/{campaign}/ads",
                    lambda request, ads=ads: {"data": [{"id": ad, "at": index} for index, ad in enumerate(ads)]},
                )
        yield server


def connector(tmp_path: Path, api: FakeAPI | None, *, account_values: Any = None, config: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> Connector:
    accounts_partitions: dict[str, Any] = {"parent": "accounts"}
    if account_values is not None:
        accounts_partitions["values"] = account_values
    spec = {
        "name": "partitions",
        "config": {"type": "object", "properties": {"account_ids": {"type": "array"}}},
        "base_url": api.url if api else "http://127.0.0.1:9",
        "streams": {
            "accounts": {"request": {"path": "/accounts"}, "records": "data"},
            "campaigns": {"request": {"path": "/accounts/{{ partition.id }}/campaigns"}, "records": "data", "partitions": accounts_partitions},
            "ads": {
                "request": {"path": "/accounts/{{ partition.parent_partition.id }}/campaigns/{{ partition.id }}/ads"},
                "records": "data",
                "partitions": {"parent": "campaigns"},
                "cursor": {"field": "at", "type": "integer"},
                "transforms": [{"set": {"account": "{{ partition.parent_partition.id }}", "campaign": "{{ partition.parent.id }}"}}],
            },
            **(extra or {}),
        },
    }
    return open_connector(tmp_path, spec, config or {})


class TestGrandparents:
    def test_a_sub_sub_stream_sees_its_grandparent(self, api: FakeAPI, tmp_path: Path) -> None:
        rows = list(connector(tmp_path, api).read("ads"))
        assert [(r["account"], r["campaign"], r["id"]) for r in rows] == [("a1", "c1", "ad1"), ("a1", "c1", "ad2"), ("a1", "c2", "ad3"), ("a2", "c3", "ad4")]

    def test_the_chain_goes_up_to_the_top(self, api: FakeAPI, tmp_path: Path) -> None:
        conn = connector(tmp_path, api, extra={"ad_ids": {
            "request": {"path": "/accounts/{{ partition.parent_partition.parent_partition.id }}/campaigns/{{ partition.parent_partition.id }}/ads"},
            "records": "data",
            "partitions": {"parent": "ads"},
        }})
        # each ad is a partition; its grandparent is the account: the same ads come back once per ad of the campaign
        assert len(list(conn.read("ad_ids"))) == 2 * 2 + 1 + 1

    def test_state_is_kept_per_campaign(self, api: FakeAPI, tmp_path: Path) -> None:
        checkpoints: list[dict[str, Any]] = []
        list(connector(tmp_path, api).read("ads", on_checkpoint=checkpoints.append))
        assert checkpoints[-1] == {"partitions": {"c1": {"cursor": 1}, "c2": {"cursor": 0}, "c3": {"cursor": 0}}}


class TestConfigElseParent:
    VALUES = "{{ config.account_ids | default(none) }}"

    def test_the_config_list_is_used_when_given(self, api: FakeAPI, tmp_path: Path) -> None:
        rows = list(connector(tmp_path, api, account_values=self.VALUES, config={"account_ids": ["a2"]}).read("campaigns"))
        assert rows == [{"id": "c3", "account": "a2"}]
        assert api.received("/accounts") == []

    def test_the_parent_stream_is_read_when_the_config_lists_none(self, api: FakeAPI, tmp_path: Path) -> None:
        for config in ({}, {"account_ids": []}):
            rows = list(connector(tmp_path, api, account_values=self.VALUES, config=config).read("campaigns"))
            assert [r["id"] for r in rows] == ["c1", "c2", "c3"]

    def test_both_ways_give_the_same_partition_and_state_keys(self, api: FakeAPI, tmp_path: Path) -> None:
        conn = connector(tmp_path, api, account_values=self.VALUES, config={"account_ids": ["a1"]}, extra={"campaign_ads": {
            "request": {"path": "/accounts/{{ partition.id }}/campaigns/c1/ads"},
            "records": "data",
            "cursor": {"field": "at", "type": "integer"},
            "partitions": {"values": self.VALUES, "parent": "accounts"},
            "transforms": [{"set": {"account": "{{ partition.id }}", "from_parent": "{{ partition.parent is not none }}"}}],
        }})
        checkpoints: list[dict[str, Any]] = []
        rows = list(conn.read("campaign_ads", on_checkpoint=checkpoints.append))
        assert {(r["account"], r["from_parent"]) for r in rows} == {("a1", False)}
        assert checkpoints[-1] == {"partitions": {"a1": {"cursor": 1}}}


class TestValidation:
    def problems(self, tmp_path: Path, partitions: dict[str, Any]) -> list[str]:
        with pytest.raises(SpecError) as caught:
            connector(tmp_path, None, extra={"x": {"request": {"path": "/x"}, "partitions": partitions}})
        return caught.value.problems

    def test_state_in_a_partition_list_is_located(self, tmp_path: Path) -> None:
        problems = self.problems(tmp_path, {"values": "{{ state.ids }}"})
        assert any("streams.x.partitions.values: template uses 'state', which a partition list does not see; it sees config" in p for p in problems)

    def test_a_partition_needs_a_source(self, tmp_path: Path) -> None:
        problems = self.problems(tmp_path, {"field": "id"})
        assert any("streams.x.partitions: set 'values', 'parent' (or both" in p for p in problems)

    def test_an_unknown_parent_is_located(self, tmp_path: Path) -> None:
        problems = self.problems(tmp_path, {"parent": "acounts"})
        assert any("streams.x.partitions.parent: no stream is called 'acounts'; did you mean 'accounts'?" in p for p in problems)


def test_requests_name_each_level(api: FakeAPI, tmp_path: Path) -> None:
    list(connector(tmp_path, api).read("ads"))
    seen = [r.path for r in api.received() if r.path.endswith("/ads")]
    assert seen == ["/accounts/a1/campaigns/c1/ads", "/accounts/a1/campaigns/c2/ads", "/accounts/a2/campaigns/c3/ads"]
