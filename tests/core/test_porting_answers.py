"""The answers docs/porting-from-airbyte.md gives to what porters had to guess, checked against the engine:
if one of these fails, the guide says something the engine no longer does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, open_connector, reply
from werkzeug.wrappers import Request

from connector_core.engine.auth.jwt import JwtAssertion
from connector_core.engine.interpolation import Interpolator
from connector_core.engine.loader import load_spec
from connector_core.errors import ConnectorError
from connector_core.plugins import build_registry, make_plugin_manager


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


def test_next_url_is_followed_as_given_without_the_first_query(tmp_path: Path, api: FakeAPI) -> None:
    def pages(request: Request) -> Any:
        if request.args.get("p") == "2":
            return reply({"items": [{"id": 2}], "next": api.url + "/items?p=3"})
        if request.args.get("p") == "3":
            return reply({"items": [], "next": api.url + "/items?p=4"})
        return reply({"items": [{"id": 1}], "next": "/items?p=2"})

    api.route("/items", pages)
    spec = {
        "name": "t",
        "base_url": api.url,
        "streams": {
            "s": {
                "request": {"path": "/items", "query": {"q": "x"}},
                "paginate": {"type": "next_url", "path": "next"},
                "records": "items",
            }
        },
    }
    with open_connector(tmp_path, spec) as connector:
        assert [r["id"] for r in connector.read("s")] == [1, 2]
    # the first query is not repeated; a relative URL is resolved; an empty page stops even with a next URL
    assert [r.query for r in api.received("/items")] == [{"q": "x"}, {"p": "2"}, {"p": "3"}]


def test_error_templates_see_header_names_as_the_api_sent_them(tmp_path: Path, api: FakeAPI) -> None:
    api.json("/err", {"m": "no"}, status=400, headers={"X-Request-Id": "abc"})
    rule = {"status": 400, "message": "request {{ response.headers['X-Request-Id'] }}"}
    spec = {
        "name": "t",
        "base_url": api.url,
        "streams": {"e": {"request": {"path": "/err"}}},
        "errors": [rule],
    }
    with open_connector(tmp_path, spec) as connector, pytest.raises(ConnectorError, match="request abc"):
        list(connector.read("e"))
    rule["message"] = "request {{ response.headers['x-request-id'] }}"
    with (
        open_connector(tmp_path, spec) as connector,
        pytest.raises(ConnectorError, match="did you mean 'X-Request-Id'"),
    ):
        list(connector.read("e"))


def test_cursor_bounds_and_state_per_partition(tmp_path: Path, api: FakeAPI) -> None:
    def rows(request: Request) -> Any:
        day = {"a": "02", "b": "03"}[request.args["part"]]
        return reply({"items": [{"id": 1, "at": f"2024-01-{day}T00:00:00Z"}]})

    api.route("/rows", rows)
    query = {
        "part": "{{ partition }}",
        "since": "{{ state.since | format_datetime }}",
        "until": "{{ state.until }}",
    }
    stream = {
        "request": {"path": "/rows", "query": query},
        "records": "items",
        "partitions": {"values": ["a", "b"]},
        "cursor": {"field": "at", "start": "2024-01-01T00:00:00Z"},
    }
    spec = {"name": "t", "base_url": api.url, "streams": {"p": stream}}
    checkpoints: list[dict[str, Any]] = []
    with open_connector(tmp_path, spec) as connector:
        list(connector.read("p", on_checkpoint=checkpoints.append))
    assert checkpoints[-1] == {
        "partitions": {"a": {"cursor": "2024-01-02T00:00:00Z"}, "b": {"cursor": "2024-01-03T00:00:00Z"}}
    }
    # without `end`, state.until is null, and a null query value is not sent
    assert [r.query for r in api.received("/rows")] == [
        {"part": p, "since": "2024-01-01T00:00:00Z"} for p in ("a", "b")
    ]
    stream["cursor"] = {"field": "at", "start": "2024-01-01T00:00:00Z", "end": "{{ now_utc() }}"}
    with open_connector(tmp_path, spec, now="2024-06-01T00:00:00Z") as connector:
        list(connector.read("p", {"partitions": {"a": {"cursor": "2024-01-02T00:00:00Z"}}}))
    sent = [r.query for r in api.received("/rows")][2:]
    assert sent[0]["since"] == "2024-01-02T00:00:00Z"  # a partition resumes from its own cursor
    assert sent[1]["since"] == "2024-01-01T00:00:00Z"  # a partition without state starts at `start`
    assert {q["until"] for q in sent} == {"2024-06-01 00:00:00+00:00"}  # a datetime: format it for the API


@pytest.mark.parametrize(
    ("template", "text"),
    [
        ("{{ '2024-01-02T03:04:05.678+02:00' | format_datetime }}", "2024-01-02T01:04:05Z"),
        ("{{ 1704067200 | format_datetime('%Y-%m-%d %H:%M', 'Europe/Berlin') }}", "2024-01-01 01:00"),
        ("{{ '2024-01-02' | format_datetime('%Y-%m-%dT%H:%M:%S.%fZ') }}", "2024-01-02T00:00:00.000000Z"),
        ("{{ 1704067200123 | timestamp }}", "1704067200"),
        ("{{ '2024-01-01T00:00:00Z' | timestamp_ms }}", "1704067200000"),
        ("{{ duration_seconds('1h') }}", "3600.0"),
    ],
)
def test_datetime_filters(template: str, text: str) -> None:
    assert str(Interpolator().render(template, {})) == text


def test_yaml_merge_keys_share_a_stream_s_settings(tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(
        "name: merge\nbase_url: https://api.example.test\nstreams:\n"
        "  a: &plain\n    paginate: {type: none}\n    records: data\n    request: {path: /a}\n"
        "  b:\n    <<: *plain\n    request: {path: /b}\n",
        encoding="utf-8",
    )
    spec = load_spec(path, build_registry(make_plugin_manager(entry_points=False))).spec
    assert spec.streams["b"].request.path == "/b" and spec.streams["b"].records == "data"


def test_durations_are_accepted_by_the_jwt_lifetime_too() -> None:
    assert JwtAssertion(private_key="-", lifetime="5m").lifetime == 300
