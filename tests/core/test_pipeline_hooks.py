"""Plugin stream components over real HTTP: a record extractor, a partition router and an incremental
slicer (tests/plugins/pipeline_plugin.py), named from a spec like a paginator, and validated with a
location when misused."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI
from werkzeug.wrappers import Request

from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.errors import SpecError
from connector_core.plugins import Registry, build_registry, make_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "plugins"))

import pipeline_plugin  # noqa: E402


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


@pytest.fixture
def registry() -> Registry:
    return build_registry(make_plugin_manager(entry_points=False, plugins=[pipeline_plugin]))


def write_spec(tmp_path: Path, streams: dict[str, Any], base_url: str = "http://127.0.0.1:9") -> Path:
    spec = {
        "name": "hooks",
        "config": {"type": "object", "properties": {"regions": {"type": "array"}, "start_date": {"type": "string"}}},
        "base_url": base_url,
        "defaults": {"retries": {"attempts": 1, "backoff": 0}},
        "streams": streams,
    }
    path = tmp_path / "hooks.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def open_hooks(tmp_path: Path, api: FakeAPI, registry: Registry, streams: dict[str, Any], config: dict[str, Any] | None = None) -> Connector:
    return Connector(load_spec(write_spec(tmp_path, streams, api.url), registry), config or {}, registry)


class TestRegistration:
    def test_components_are_registered_under_their_type(self, registry: Registry) -> None:
        assert registry.extractors == {"columnar": pipeline_plugin.ColumnarExtractor}
        assert registry.partition_routers == {"cross_product": pipeline_plugin.CrossProductRouter}
        assert registry.slicers == {"calendar_months": pipeline_plugin.CalendarMonthSlicer}
        assert registry.owners["extractor:columnar"] == registry.owners["slicer:calendar_months"]

    def test_the_published_schema_describes_their_settings(self, registry: Registry) -> None:
        from connector_core.engine.schema import json_schema

        definitions = json_schema(registry.spec_model)["$defs"]
        assert definitions["ColumnarExtractor"]["properties"]["rows"]["description"] == "Dotted path of the rows (lists of values) in the body."
        assert "CrossProductRouter" in definitions and "CalendarMonthSlicer" in definitions


class TestExtractor:
    def test_columnar_rows_become_records_and_pages_follow(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        def report(request: Request) -> dict[str, Any]:
            page = int(request.args.get("page", 1))
            rows = [[1, "a"], [2, "b"]] if page == 1 else [[3, "c"]]
            return {"columns": ["id", "name"], "rows": rows, "total_pages": 2}

        api.route("/report", report)
        conn = open_hooks(tmp_path, api, registry, {
            "report": {
                "request": {"path": "/report"},
                "paginate": {"type": "page", "size": 2, "total_pages": "total_pages"},
                "records": {"extractor": {"type": "columnar"}, "filter": "{{ record.id != 2 }}"},
                "transforms": [{"set": {"upper": "{{ record.name | upper }}"}}],
            }
        })
        assert list(conn.read("report")) == [{"id": 1, "name": "a", "upper": "A"}, {"id": 3, "name": "c", "upper": "C"}]
        assert [r.query.get("page", "1") for r in api.received("/report")] == ["1", "2"]

    def test_an_extractor_gets_bodies_that_are_not_json(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        api.route("/text", lambda request: "not json at all")
        conn = open_hooks(tmp_path, api, registry, {"text": {"request": {"path": "/text"}, "records": {"extractor": {"type": "columnar"}}}})
        assert list(conn.read("text")) == []

    def test_misused_extractors_are_located(self, tmp_path: Path, registry: Registry) -> None:
        path = write_spec(tmp_path, {
            "both": {"request": {"path": "/r"}, "records": {"path": "data", "extractor": {"type": "columnar"}}},
            "unknown": {"request": {"path": "/r"}, "records": {"extractor": {"type": "columnr"}}},
            "bad_option": {"request": {"path": "/r"}, "records": {"extractor": {"type": "columnar", "row": "x"}}},
        })
        with pytest.raises(SpecError) as caught:
            load_spec(path, registry)
        text = "\n".join(caught.value.problems)
        assert "streams.unknown.records.extractor.type" in text and "columnar" in text
        assert "streams.bad_option.records.extractor.row" in text
        registry_without = build_registry(make_plugin_manager(entry_points=False))
        with pytest.raises(SpecError) as caught:
            load_spec(write_spec(tmp_path, {"r": {"request": {"path": "/r"}, "records": {"extractor": {"type": "columnar"}}}}), registry_without)
        assert "streams.r.records.extractor" in "\n".join(caught.value.problems)

    def test_path_and_extractor_together_are_refused(self, tmp_path: Path, registry: Registry) -> None:
        path = write_spec(tmp_path, {"both": {"request": {"path": "/r"}, "records": {"path": "data", "extractor": {"type": "columnar"}}}})
        with pytest.raises(SpecError) as caught:
            load_spec(path, registry)
        assert any("streams.both.records.path: set 'path' or 'extractor', not both" in p for p in caught.value.problems)


class TestPartitionRouter:
    def test_a_router_reads_a_hidden_stream_and_pairs_it_with_the_config(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        api.json("/accounts", {"data": [{"id": "a1"}, {"id": "a2"}]})
        for account in ("a1", "a2"):
            api.route(f"/accounts/{account}/usage", lambda request, account=account: {"data": [{"n": f"{account}-{request.args['region']}"}]})
        conn = open_hooks(tmp_path, api, registry, {
            "accounts": {"hidden": True, "request": {"path": "/accounts"}, "records": "data"},
            "usage": {
                "request": {"path": "/accounts/{{ partition.id }}/usage", "query": {"region": "{{ partition.value }}"}},
                "records": "data",
                "partitions": {"router": {"type": "cross_product", "stream": "accounts", "values": "{{ config.regions }}"}},
                "transforms": [{"set": {"account": "{{ partition.id }}"}}],
            },
        }, {"regions": ["eu", "us"]})
        assert [r["n"] for r in conn.read("usage")] == ["a1-eu", "a1-us", "a2-eu", "a2-us"]
        assert [s["name"] for s in conn.discover()["streams"]] == ["usage"]

    def test_router_state_is_kept_per_partition(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        api.json("/accounts", {"data": [{"id": "a1"}]})
        api.json("/accounts/a1/usage", {"data": [{"n": 1, "at": 5}]})
        conn = open_hooks(tmp_path, api, registry, {
            "accounts": {"request": {"path": "/accounts"}, "records": "data"},
            "usage": {
                "request": {"path": "/accounts/{{ partition.id }}/usage"},
                "records": "data",
                "cursor": {"field": "at", "type": "integer"},
                "partitions": {"router": {"type": "cross_product", "stream": "accounts", "values": "{{ ['eu'] }}"}},
            },
        })
        checkpoints: list[dict[str, Any]] = []
        list(conn.read("usage", on_checkpoint=checkpoints.append))
        assert checkpoints[-1] == {"partitions": {'{"id":"a1","value":"eu"}': {"cursor": 5}}}

    def test_router_with_values_is_refused(self, tmp_path: Path, registry: Registry) -> None:
        path = write_spec(tmp_path, {
            "accounts": {"request": {"path": "/a"}},
            "usage": {"request": {"path": "/u"}, "partitions": {"values": ["x"], "router": {"type": "cross_product", "stream": "accounts", "values": "{{ [] }}"}}},
        })
        with pytest.raises(SpecError) as caught:
            load_spec(path, registry)
        assert any("streams.usage.partitions: set 'router' alone" in p for p in caught.value.problems)


class TestSlicer:
    def test_each_month_is_one_slice_with_a_checkpoint_after_it(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        events = [{"id": 1, "at": "2024-01-10T00:00:00Z"}, {"id": 2, "at": "2024-02-03T00:00:00Z"}, {"id": 3, "at": "2024-03-01T12:00:00Z"}]

        def handler(request: Request) -> dict[str, Any]:
            start, end = request.args["from"], request.args["to"]
            return {"data": [e for e in events if start <= e["at"] < end]}

        api.route("/events", handler)
        conn = open_hooks(tmp_path, api, registry, {
            "events": {
                "request": {"path": "/events", "query": {"from": "{{ slice.start }}", "to": "{{ slice.end }}"}},
                "records": "data",
                "primary_key": "id",
                "cursor": {"field": "at", "start": "{{ config.start_date }}", "end": "2024-03-15T00:00:00Z", "slicer": {"type": "calendar_months"}},
            }
        }, {"start_date": "2024-01-01T00:00:00Z"})
        checkpoints: list[dict[str, Any]] = []
        rows = list(conn.read("events", on_checkpoint=checkpoints.append))
        assert [r["id"] for r in rows] == [1, 2, 3]
        assert [(r.query["from"], r.query["to"]) for r in api.received("/events")] == [
            ("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"),
            ("2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"),
            ("2024-03-01T00:00:00Z", "2024-03-15T00:00:00Z"),
        ]
        assert [c["cursor"] for c in checkpoints[:3]] == ["2024-01-10T00:00:00Z", "2024-02-03T00:00:00Z", "2024-03-01T12:00:00Z"]
        # a read stopped after the first slice resumes from its checkpoint, not from the start
        resumed = list(conn.read("events", checkpoints[0]))
        assert [r["id"] for r in resumed] == [2, 3]
        assert api.received("/events")[3].query["from"] == "2024-01-10T00:00:00Z"

    def test_slice_is_only_known_to_a_stream_with_a_slicer(self, tmp_path: Path, registry: Registry) -> None:
        path = write_spec(tmp_path, {"events": {"request": {"path": "/events", "query": {"from": "{{ slice.start }}"}}, "cursor": "at"}})
        with pytest.raises(SpecError) as caught:
            load_spec(path, registry)
        assert any("streams.events.request.query.from: template uses 'slice', which a request does not see" in p for p in caught.value.problems)


def test_a_slicer_without_an_end_stops_at_the_engines_clock(api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
    import datetime as dt

    api.json("/events", {"data": []})
    path = write_spec(tmp_path, {
        "events": {
            "request": {"path": "/events", "query": {"from": "{{ slice.start }}", "to": "{{ slice.end }}"}},
            "records": "data",
            "cursor": {"field": "at", "start": "2024-01-20T00:00:00Z", "slicer": {"type": "calendar_months"}},
        }
    }, api.url)
    pinned = dt.datetime(2024, 3, 10, tzinfo=dt.UTC).timestamp()
    conn = Connector(load_spec(path, registry), {}, registry, clock=lambda: pinned)
    assert list(conn.read("events")) == []
    assert [(r.query["from"], r.query["to"]) for r in api.received("/events")] == [
        ("2024-01-20T00:00:00Z", "2024-02-01T00:00:00Z"),
        ("2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"),
        ("2024-03-01T00:00:00Z", "2024-03-10T00:00:00Z"),
    ]
