"""Declarative transforms beyond set/drop/rename: remove by glob and by condition, key case, flatten and
unflatten, casts; each run in a spec over real HTTP, and misuse located by validation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, open_connector

from connector_core.engine.transforms import cast_value, matching_fields, snake_case
from connector_core.errors import ConnectorError, SpecError

CONTACT = {
    "Id": 1,
    "firstName": "Ada",
    "HTTPStatus": "ok",
    "photo_url": "https://x/p.png",
    "_links": {"self": "/c/1"},
    "address": {"city": "Paris", "zip": None, "geo": {"lat": 48.8}},
    "amount": "12.50",
    "count": "3",
    "active": "yes",
    "note": None,
}


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        server.json("/contacts", {"data": [CONTACT]})
        yield server


def read(tmp_path: Path, api: FakeAPI | None, transforms: list[dict[str, Any]], **stream: Any) -> list[dict[str, Any]]:
    spec = {
        "name": "transforms",
        "base_url": api.url if api else "http://127.0.0.1:9",
        "streams": {"contacts": {"request": {"path": "/contacts"}, "records": "data", "transforms": transforms, **stream}},
    }
    return list(open_connector(tmp_path, spec, {}).read("contacts"))


class TestUnits:
    def test_patterns_match_one_glob_per_step(self) -> None:
        record = {"a_url": 1, "b": {"c_url": 2}, "meta": {"x": 1, "y": {"z": 2}}}
        assert matching_fields(record, "*_url") == [("a_url",)]
        assert matching_fields(record, "*.c_url") == [("b", "c_url")]
        assert matching_fields(record, "meta.*") == [("meta", "x"), ("meta", "y")]

    @pytest.mark.parametrize("key, snake", [("createdAt", "created_at"), ("HTTPStatus", "http_status"), ("Zip Code", "zip_code"), ("already_snake", "already_snake"), ("id2Name", "id2_name")])
    def test_snake_case(self, key: str, snake: str) -> None:
        assert snake_case(key) == snake

    @pytest.mark.parametrize(
        "value, kind, expected",
        [("12", "integer", 12), ("12.0", "integer", 12), (3.0, "integer", 3), ("12.5", "number", 12.5), (7, "number", 7), ("yes", "boolean", True),
         ("0", "boolean", False), (True, "string", "true"), (None, "integer", None), (5, "string", "5")],
    )
    def test_casts(self, value: Any, kind: str, expected: Any) -> None:
        assert cast_value(value, kind) == expected
        assert type(cast_value(value, kind)) is type(expected)

    @pytest.mark.parametrize("value, kind", [("12.5", "integer"), ("abc", "number"), ("maybe", "boolean"), ({"a": 1}, "string"), ("nan", "number")])
    def test_impossible_casts_raise(self, value: Any, kind: str) -> None:
        with pytest.raises(ValueError):
            cast_value(value, kind)


class TestInASpec:
    def test_remove_by_glob(self, api: FakeAPI, tmp_path: Path) -> None:
        (row,) = read(tmp_path, api, [{"remove": ["_links", "*_url", "address.geo"]}])
        assert "_links" not in row and "photo_url" not in row and row["address"] == {"city": "Paris", "zip": None}

    def test_remove_by_condition(self, api: FakeAPI, tmp_path: Path) -> None:
        (row,) = read(tmp_path, api, [{"remove": {"when": "{{ value is none }}"}}, {"remove": {"fields": ["address.*"], "when": "{{ value is none or field == 'address.geo' }}"}}])
        assert "note" not in row and row["address"] == {"city": "Paris"}

    def test_keys_to_snake_and_lower_at_every_depth(self, api: FakeAPI, tmp_path: Path) -> None:
        (row,) = read(tmp_path, api, [{"keys": "snake"}])
        assert {"id", "first_name", "http_status", "photo_url"} <= set(row) and row["address"]["geo"] == {"lat": 48.8}
        (row,) = read(tmp_path, api, [{"keys": "lower"}])
        assert {"id", "firstname", "httpstatus"} <= set(row)

    def test_flatten_and_unflatten(self, api: FakeAPI, tmp_path: Path) -> None:
        (row,) = read(tmp_path, api, [{"flatten": {"separator": "_"}}])
        assert row["address_geo_lat"] == 48.8 and row["_links_self"] == "/c/1" and "address" not in row
        (row,) = read(tmp_path, api, [{"flatten": {"path": "address"}}])
        assert row["address"] == {"city": "Paris", "zip": None, "geo.lat": 48.8}
        (row,) = read(tmp_path, api, [{"flatten": {}}, {"unflatten": {}}])
        assert row["address"] == CONTACT["address"] and row["_links"] == CONTACT["_links"]

    def test_casts_in_order_with_other_transforms(self, api: FakeAPI, tmp_path: Path) -> None:
        (row,) = read(tmp_path, api, [{"cast": {"amount": "number", "count": "integer", "active": "boolean", "Id": "string", "missing": "integer"}}])
        assert (row["amount"], row["count"], row["active"], row["Id"]) == (12.5, 3, True, "1") and "missing" not in row

    def test_a_value_that_cannot_be_cast_stops_the_read_naming_it(self, api: FakeAPI, tmp_path: Path) -> None:
        with pytest.raises(ConnectorError, match=r"streams.contacts.transforms\[0\].cast: field 'firstName' holds 'Ada', which is not an integer"):
            read(tmp_path, api, [{"cast": {"firstName": "integer"}}])

    def test_the_cursor_is_read_before_transforms(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/contacts", {"data": [{"updatedAt": 5, "id": 1}]})
        spec = {
            "name": "transforms",
            "base_url": api.url,
            "streams": {"contacts": {"request": {"path": "/contacts"}, "records": "data", "cursor": {"field": "updatedAt", "type": "integer"}, "transforms": [{"keys": "snake"}]}},
        }
        checkpoints: list[dict[str, Any]] = []
        assert list(open_connector(tmp_path, spec, {}).read("contacts", on_checkpoint=checkpoints.append)) == [{"updated_at": 5, "id": 1}]
        assert checkpoints == [{"cursor": 5}]


class TestValidation:
    @pytest.mark.parametrize(
        "transform, where, message",
        [
            ({"remove": [""]}, "transforms[0].remove[0]", "is not a field pattern"),
            ({"remove": {"fields": ["$.a"]}}, "transforms[0].remove.fields[0]", "looks like JSONPath"),
            ({"remove": {"when": "{{ state.cursor }}"}}, "transforms[0].remove.when", "template uses 'state', which a remove condition does not see"),
            ({"cast": {"a": "float"}}, "transforms[0].cast.a", "float"),
            ({"cast": {"a.*": "integer"}}, "transforms[0].cast.a.*", "has a wildcard"),
            ({"keys": "camel"}, "transforms[0].keys", "camel"),
            ({"flatten": {"separator": ""}}, "transforms[0].flatten.separator", ""),
            ({"keys": "snake", "cast": {"a": "integer"}}, "transforms[0]", "exactly one of set, drop, rename, remove, keys, flatten, unflatten, cast, plugin"),
        ],
    )
    def test_misuse_is_located(self, tmp_path: Path, transform: dict[str, Any], where: str, message: str) -> None:
        with pytest.raises(SpecError) as caught:
            read(tmp_path, None, [transform])
        assert any(f"streams.contacts.{where}" in p and message in p for p in caught.value.problems), caught.value.problems
