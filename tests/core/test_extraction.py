"""One API record, many records: wildcard records paths that flatten, and `expand` carrying parent fields,
over real HTTP; pagination counts what the API paged over; misuse is located by `validate`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, open_connector
from werkzeug.wrappers import Request

from connector_core.engine.connector import Connector
from connector_core.engine.extraction import find_all, split_wildcard
from connector_core.errors import ConnectorError, SpecError


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


def connector(tmp_path: Path, api: FakeAPI | None, streams: dict[str, Any]) -> Connector:
    spec = {"name": "extraction", "base_url": api.url if api else "http://127.0.0.1:9", "streams": streams}
    return open_connector(tmp_path, spec, {})


class TestWildcardPaths:
    def test_split_at_the_first_wildcard(self) -> None:
        assert split_wildcard("data.*.items") == ("data", "items")
        assert split_wildcard("*.rows.*") == ("", "rows.*")
        assert split_wildcard("data.items") == ("data.items", None)

    def test_find_all_walks_lists_and_mapping_values(self) -> None:
        body = {"groups": {"a": {"items": [1, 2]}, "b": {"items": [3]}, "c": {}}}
        assert find_all(body, "groups.*.items") == [[1, 2], [3]]
        assert find_all([{"x": 1}, {"y": 2}], "*.x") == [1]

    def test_nested_lists_are_flattened_into_records(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/orders", {"data": [{"items": [{"sku": "A"}, {"sku": "B"}]}, {"items": []}, {"items": [{"sku": "C"}]}, {"other": 1}]})
        conn = connector(tmp_path, api, {"lines": {"request": {"path": "/orders"}, "records": "data.*.items"}})
        assert list(conn.read("lines")) == [{"sku": "A"}, {"sku": "B"}, {"sku": "C"}]

    def test_a_mapping_of_groups_is_walked_by_its_values(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/stats", {"by_day": {"2024-01-01": {"id": 1}, "2024-01-02": {"id": 2}}})
        conn = connector(tmp_path, api, {"stats": {"request": {"path": "/stats"}, "records": {"path": "by_day.*", "filter": "{{ record.id > 1 }}"}}})
        assert list(conn.read("stats")) == [{"id": 2}]

    def test_pagination_counts_the_list_the_wildcard_walks(self, api: FakeAPI, tmp_path: Path) -> None:
        """A page of 2 orders without lines is a full page: the reader must ask for the next one."""
        orders = [{"id": 1, "lines": []}, {"id": 2, "lines": []}, {"id": 3, "lines": [{"sku": "Z"}]}]

        def handler(request: Request) -> dict[str, Any]:
            offset, limit = int(request.args["offset"]), int(request.args["limit"])
            return {"orders": orders[offset : offset + limit]}

        api.route("/orders", handler)
        conn = connector(tmp_path, api, {"lines": {"request": {"path": "/orders"}, "paginate": {"type": "offset", "limit": 2}, "records": "orders.*.lines"}})
        assert list(conn.read("lines")) == [{"sku": "Z"}]
        assert [r.query["offset"] for r in api.received("/orders")] == ["0", "2"]


class TestExpand:
    def test_one_record_per_item_carrying_parent_fields(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/invoices", {"invoices": [
            {"id": 7, "customer": {"name": "Ada"}, "lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]},
            {"id": 8, "customer": {"name": "Bo"}, "lines": []},
        ]})
        conn = connector(tmp_path, api, {"lines": {
            "request": {"path": "/invoices"},
            "records": {"path": "invoices", "expand": {"path": "lines", "carry": {"invoice_id": "id", "customer": "customer.name"}}, "filter": "{{ record.qty > 1 }}"},
            "primary_key": ["invoice_id", "sku"],
        }})
        assert list(conn.read("lines")) == [{"sku": "B", "qty": 2, "invoice_id": 7, "customer": "Ada"}]

    def test_scalar_items_go_under_as_and_empty_parents_can_be_kept(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/posts", [{"id": 1, "tags": ["x", "y"]}, {"id": 2, "tags": []}])
        conn = connector(tmp_path, api, {"tags": {
            "request": {"path": "/posts"},
            "records": {"expand": {"path": "tags", "as": "tag", "carry": {"post": "id"}, "keep_empty": True}},
        }})
        assert list(conn.read("tags")) == [{"tag": "x", "post": 1}, {"tag": "y", "post": 1}, {"tag": None, "post": 2}]

    def test_scalar_items_without_as_are_a_clear_error(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/posts", [{"id": 1, "tags": ["x"]}])
        conn = connector(tmp_path, api, {"tags": {"request": {"path": "/posts"}, "records": {"expand": {"path": "tags"}}}})
        with pytest.raises(ConnectorError, match="records.expand.path 'tags' holds a str, not a mapping") as caught:
            list(conn.read("tags"))
        assert "expand.as" in str(caught.value.hint)

    def test_the_cursor_sees_expanded_records(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/invoices", [{"id": 1, "lines": [{"at": 5}, {"at": 9}]}])
        conn = connector(tmp_path, api, {"lines": {"request": {"path": "/invoices"}, "records": {"expand": {"path": "lines"}}, "cursor": {"field": "at", "type": "integer"}}})
        checkpoints: list[dict[str, Any]] = []
        assert len(list(conn.read("lines", on_checkpoint=checkpoints.append))) == 2
        assert checkpoints[-1] == {"cursor": 9}


class TestValidation:
    @pytest.mark.parametrize(
        "records, where, message",
        [
            ("data.item*", "streams.s.records", "a wildcard is a whole step"),
            ("{{ config.path }}", "streams.s.records", "is a template, but a records path is taken as written"),
            ({"expand": {"path": ""}}, "streams.s.records.expand.path", "is not a field path"),
            ({"expand": {"path": "lines.*"}}, "streams.s.records.expand.path", "has a wildcard"),
            ({"expand": {"path": "lines", "carry": {"invoice": "$.id"}}}, "streams.s.records.expand.carry.invoice", "looks like JSONPath"),
            ({"expand": {"path": "lines", "carry": {"": "id"}}}, "streams.s.records.expand.carry", "'' is not a field name"),
            ({"expand": {"path": "lines", "as": " "}}, "streams.s.records.expand.as", "cannot be empty"),
        ],
    )
    def test_misuse_is_located(self, tmp_path: Path, records: Any, where: str, message: str) -> None:
        with pytest.raises(SpecError) as caught:
            connector(tmp_path, None, {"s": {"request": {"path": "/s"}, "records": records}})
        assert any(f"{where}: " in p and message in p for p in caught.value.problems), caught.value.problems
