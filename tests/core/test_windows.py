"""Windowed incremental reads (``cursor.window``) against a local API: windows of a fixed or calendar
step, a checkpoint after each, resuming mid-range, the bounds in requests, records and the cursor,
state per partition, the engine's pinned clock, and what ``validate`` refuses."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI
from werkzeug.wrappers import Request

from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.engine.windows import parse_step, time_windows
from connector_core.errors import ConnectorError, SpecError
from connector_core.plugins import Registry, build_registry, make_plugin_manager

EVENTS = [
    {"id": 1, "at": "2024-01-02T10:00:00Z"},
    {"id": 2, "at": "2024-01-08T00:00:00Z"},
    {"id": 3, "at": "2024-01-08T09:30:00Z"},
    {"id": 4, "at": "2024-01-16T23:59:59Z"},
    {"id": 5, "at": "2024-01-20T12:00:00Z"},
]


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry(make_plugin_manager(entry_points=False))


def write_spec(tmp_path: Path, streams: dict[str, Any], base_url: str = "http://127.0.0.1:9") -> Path:
    spec = {
        "name": "windows",
        "config": {"type": "object", "properties": {"start_date": {"type": "string"}, "accounts": {"type": "array"}}},
        "base_url": base_url,
        "defaults": {"retries": {"attempts": 1, "backoff": 0}},
        "streams": streams,
    }
    path = tmp_path / "windows.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def events_stream(window: dict[str, Any], **cursor: Any) -> dict[str, Any]:
    return {
        "request": {"path": "/events", "query": {"since": "{{ slice.start }}", "until": "{{ slice.end }}"}},
        "records": "data",
        "primary_key": "id",
        "cursor": {"field": "at", "start": "{{ config.start_date }}", "window": window, **cursor},
    }


def serve_events(api: FakeAPI, events: list[dict[str, Any]] = EVENTS, fail_since: set[str] | None = None) -> None:
    """``/events?since=&until=`` → the events with since <= at <= until (inclusive bounds, like most APIs)."""

    def handler(request: Request) -> Any:
        since, until = request.args["since"], request.args["until"]
        if fail_since and since in fail_since:
            return {"error": "boom"}, 500
        return {"data": [e for e in events if since <= e["at"] <= until]}

    api.route("/events", handler)


def windows_asked(api: FakeAPI) -> list[tuple[str, str]]:
    return [(r.query["since"], r.query["until"]) for r in api.received("/events")]


class TestWindowSteps:
    def test_fixed_steps_with_inclusive_ends_cover_the_range_without_overlap(self) -> None:
        lower, upper = dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 20, tzinfo=dt.UTC)
        got = [w.piece for w in time_windows(parse_step("7d"), 1.0, "%Y-%m-%dT%H:%M:%SZ", lower, upper)]
        assert got == [
            {"start": "2024-01-01T00:00:00Z", "end": "2024-01-07T23:59:59Z"},
            {"start": "2024-01-08T00:00:00Z", "end": "2024-01-14T23:59:59Z"},
            {"start": "2024-01-15T00:00:00Z", "end": "2024-01-20T00:00:00Z"},
        ]

    def test_month_steps_follow_the_calendar_without_drifting(self) -> None:
        lower, upper = dt.datetime(2024, 1, 31, tzinfo=dt.UTC), dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
        got = [w.piece for w in time_windows(parse_step("P1M"), None, "%Y-%m-%d", lower, upper)]
        # Jan 31 + 1 month is Feb 29 (2024), but the third window starts on Mar 31, not Mar 29
        assert got == [
            {"start": "2024-01-31", "end": "2024-02-29"},
            {"start": "2024-02-29", "end": "2024-03-31"},
            {"start": "2024-03-31", "end": "2024-04-30"},
            {"start": "2024-04-30", "end": "2024-05-01"},
        ]

    def test_no_window_when_the_range_is_empty(self) -> None:
        moment = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        assert list(time_windows(parse_step("1d"), None, "%Y", moment, moment)) == []

    @pytest.mark.parametrize("step", ["7d", "12h", "P7D", "PT6H", 3600, "P1M", "P3M", "P1Y", "P1Y2M"])
    def test_accepted_steps(self, step: Any) -> None:
        parse_step(step)

    @pytest.mark.parametrize("step", ["7 days", "0", "P", "monthly", -5])
    def test_refused_steps_name_the_accepted_forms(self, step: Any) -> None:
        with pytest.raises(ValueError, match="window step|longer than zero"):
            parse_step(step)


class TestWindowedRead:
    def test_each_window_is_one_request_with_a_checkpoint_at_its_end(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        serve_events(api)
        path = write_spec(tmp_path, {"events": events_stream({"step": "7d", "granularity": "1s"}, end="2024-01-20T00:00:00Z")}, api.url)
        conn = Connector(load_spec(path, registry), {"start_date": "2024-01-01T00:00:00Z"}, registry)
        checkpoints: list[dict[str, Any]] = []
        rows = list(conn.read("events", on_checkpoint=checkpoints.append))
        assert [r["id"] for r in rows] == [1, 2, 3, 4]  # event 5 is after `end`
        assert windows_asked(api) == [
            ("2024-01-01T00:00:00Z", "2024-01-07T23:59:59Z"),
            ("2024-01-08T00:00:00Z", "2024-01-14T23:59:59Z"),
            ("2024-01-15T00:00:00Z", "2024-01-20T00:00:00Z"),
        ]
        # the cursor moves to each window's end once the window is read, records or not
        assert [c["cursor"] for c in checkpoints[:3]] == ["2024-01-07T23:59:59Z", "2024-01-14T23:59:59Z", "2024-01-20T00:00:00Z"]

    def test_a_stopped_read_resumes_at_the_first_unfinished_window(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        serve_events(api, fail_since={"2024-01-15T00:00:00Z"})
        path = write_spec(tmp_path, {"events": events_stream({"step": "7d", "granularity": "1s"}, end="2024-01-22T00:00:00Z")}, api.url)
        conn = Connector(load_spec(path, registry), {"start_date": "2024-01-01T00:00:00Z"}, registry)
        checkpoints: list[dict[str, Any]] = []
        first: list[dict[str, Any]] = []
        with pytest.raises(ConnectorError):
            for record in conn.read("events", on_checkpoint=checkpoints.append):
                first.append(record)
        assert [r["id"] for r in first] == [1, 2, 3]
        assert checkpoints[-1]["cursor"] == "2024-01-14T23:59:59Z"

        serve_events(api)  # the API recovers
        before = len(api.received("/events"))
        resumed = list(conn.read("events", checkpoints[-1]))
        assert [r["id"] for r in resumed] == [4, 5]
        assert windows_asked(api)[before:] == [("2024-01-14T23:59:59Z", "2024-01-21T23:59:58Z"), ("2024-01-21T23:59:59Z", "2024-01-22T00:00:00Z")]

    def test_many_pages_in_a_window_are_all_read_before_the_checkpoint(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        events = [{"id": i, "at": f"2024-01-0{1 + i % 3}T00:00:00Z"} for i in range(1, 8)]

        def handler(request: Request) -> Any:
            inside = [e for e in events if request.args["since"] <= e["at"] < request.args["until"]]
            offset = int(request.args["offset"])
            return {"data": inside[offset : offset + 2]}

        api.route("/events", handler)
        stream = events_stream({"step": "1d"}, end="2024-01-04T00:00:00Z")
        stream["paginate"] = {"type": "offset", "limit": 2}
        conn = Connector(load_spec(write_spec(tmp_path, {"events": stream}, api.url), registry), {"start_date": "2024-01-01T00:00:00Z"}, registry)
        checkpoints: list[dict[str, Any]] = []
        rows = list(conn.read("events", on_checkpoint=checkpoints.append))
        assert sorted(r["id"] for r in rows) == list(range(1, 8))
        assert [c["cursor"] for c in checkpoints[:3]] == ["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z"]
        asked = [(r.query["since"][:10], r.query["offset"]) for r in api.received("/events")]
        # each day holds 2 or 3 events: a second page is asked for (the first was full) before the next day
        assert asked == [("2024-01-01", "0"), ("2024-01-01", "2"), ("2024-01-02", "0"), ("2024-01-02", "2"), ("2024-01-03", "0"), ("2024-01-03", "2")]

    def test_lookback_starts_the_next_read_before_the_saved_cursor(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        serve_events(api)
        stream = events_stream({"step": "P1D", "format": "%Y-%m-%d"}, end="2024-01-17T00:00:00Z", lookback="2d")
        conn = Connector(load_spec(write_spec(tmp_path, {"events": stream}, api.url), registry), {"start_date": "2024-01-01"}, registry)
        rows = list(conn.read("events", {"cursor": "2024-01-16T00:00:00Z"}))
        assert windows_asked(api) == [("2024-01-14", "2024-01-15"), ("2024-01-15", "2024-01-16"), ("2024-01-16", "2024-01-17")]
        assert [r["id"] for r in rows] == [4]


class TestWindowBoundsInRecords:
    def test_a_report_without_dates_gets_its_window_as_a_field_and_cursor(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        totals = {"2024-03-01": 4, "2024-03-02": 7, "2024-03-03": 1}

        def handler(request: Request) -> Any:  # an aggregate per day, with no date in the row
            return {"rows": [{"clicks": totals.get(request.args["day"], 0)}]}

        api.route("/report", handler)
        stream = {
            "request": {"path": "/report", "query": {"day": "{{ slice.start }}"}},
            "records": "rows",
            "cursor": {
                "field": "day",
                "start": "2024-03-01",
                "window": {"step": "1d", "format": "%Y-%m-%d", "fields": {"day": "start", "until": "end"}},
            },
            "transforms": [{"rename": {"until": "day_end"}}],
        }
        conn = Connector(load_spec(write_spec(tmp_path, {"report": stream}, api.url), registry), {}, registry, now="2024-03-04T00:00:00Z")
        checkpoints: list[dict[str, Any]] = []
        rows = list(conn.read("report", on_checkpoint=checkpoints.append))
        assert rows == [
            {"clicks": 4, "day": "2024-03-01", "day_end": "2024-03-02"},
            {"clicks": 7, "day": "2024-03-02", "day_end": "2024-03-03"},
            {"clicks": 1, "day": "2024-03-03", "day_end": "2024-03-04"},
        ]
        assert checkpoints[-1]["cursor"] == "2024-03-04T00:00:00Z"


class TestWindowsPerPartition:
    def test_each_partition_keeps_its_state_and_a_new_one_begins_at_start(self, api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
        def handler(request: Request) -> Any:
            return {"data": [{"id": f"{request.args['account']}-{request.args['since']}", "at": request.args["since"]}]}

        api.route("/events", handler)
        stream = events_stream({"step": "P1M", "format": "%Y-%m-%dT%H:%M:%SZ"})
        stream["request"]["query"]["account"] = "{{ partition }}"
        stream["partitions"] = {"values": "{{ config.accounts }}"}
        path = write_spec(tmp_path, {"events": stream}, api.url)
        config = {"start_date": "2024-01-01T00:00:00Z", "accounts": ["a", "b"]}
        conn = Connector(load_spec(path, registry), config, registry, now="2024-03-01T00:00:00Z")
        state: dict[str, Any] = {}
        list(conn.read("events", on_checkpoint=state.update))
        assert state["partitions"] == {"a": {"cursor": "2024-03-01T00:00:00Z"}, "b": {"cursor": "2024-03-01T00:00:00Z"}}

        # a month later, account c is added: a and b read March only, c begins at cursor.start
        later = Connector(load_spec(path, registry), {**config, "accounts": ["a", "b", "c"]}, registry, now="2024-04-01T00:00:00Z")
        before = len(api.received("/events"))
        ids = [r["id"] for r in later.read("events", state)]
        assert ids == ["a-2024-03-01T00:00:00Z", "b-2024-03-01T00:00:00Z", "c-2024-01-01T00:00:00Z", "c-2024-02-01T00:00:00Z", "c-2024-03-01T00:00:00Z"]
        asked = [(r.query["account"], r.query["since"]) for r in api.received("/events")[before:]]
        assert asked == [
            ("a", "2024-03-01T00:00:00Z"),
            ("b", "2024-03-01T00:00:00Z"),
            ("c", "2024-01-01T00:00:00Z"),
            ("c", "2024-02-01T00:00:00Z"),
            ("c", "2024-03-01T00:00:00Z"),
        ]


class TestValidate:
    def problems(self, tmp_path: Path, registry: Registry, stream: dict[str, Any]) -> list[str]:
        with pytest.raises(SpecError) as caught:
            load_spec(write_spec(tmp_path, {"events": stream}), registry)
        return caught.value.problems

    def test_a_window_without_start_is_located(self, tmp_path: Path, registry: Registry) -> None:
        stream = events_stream({"step": "7d"})
        del stream["cursor"]["start"]
        problems = self.problems(tmp_path, registry, stream)
        assert any("streams.events.cursor.window: a windowed read needs `start`" in p and "windows.json:" in p for p in problems)

    def test_a_window_needs_a_datetime_cursor(self, tmp_path: Path, registry: Registry) -> None:
        problems = self.problems(tmp_path, registry, events_stream({"step": "7d"}, type="integer"))
        assert any("streams.events.cursor.type: a windowed read needs a date-time cursor, not type 'integer'" in p for p in problems)

    def test_a_bad_step_is_located_with_the_accepted_forms(self, tmp_path: Path, registry: Registry) -> None:
        problems = self.problems(tmp_path, registry, events_stream({"step": "weekly"}))
        assert any("streams.events.cursor.window.step" in p and "'P1M'" in p for p in problems), problems

    def test_a_granularity_as_long_as_the_step_is_refused(self, tmp_path: Path, registry: Registry) -> None:
        problems = self.problems(tmp_path, registry, events_stream({"step": "1d", "granularity": "1d"}))
        assert any("streams.events.cursor.window.granularity: granularity (86400s) must be shorter than the step (1d)" in p for p in problems)

    def test_slice_is_known_to_requests_of_a_windowed_stream_only(self, tmp_path: Path, registry: Registry) -> None:
        load_spec(write_spec(tmp_path, {"events": events_stream({"step": "7d"})}), registry)
        stream = events_stream({"step": "7d"})
        del stream["cursor"]["window"]
        problems = self.problems(tmp_path, registry, stream)
        assert any("streams.events.request.query.since: template uses 'slice'" in p for p in problems)


def test_the_checkpoint_is_the_windows_end_even_past_a_later_record(api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
    # the API windows on `created`; the cursor is `updated`, which may be later than the window
    rows = [{"id": 1, "created": "2024-01-02T00:00:00Z", "updated": "2024-01-25T00:00:00Z"}, {"id": 2, "created": "2024-01-09T00:00:00Z", "updated": "2024-01-10T00:00:00Z"}]

    def handler(request: Request) -> Any:
        return {"data": [r for r in rows if request.args["since"] <= r["created"] < request.args["until"]]}

    api.route("/events", handler)
    stream = events_stream({"step": "7d"}, filter_records=False)
    stream["cursor"]["field"] = "updated"
    loaded = load_spec(write_spec(tmp_path, {"events": stream}, api.url), registry)
    conn = Connector(loaded, {"start_date": "2024-01-01T00:00:00Z"}, registry, now="2024-01-15T00:00:00Z")
    checkpoints: list[dict[str, Any]] = []
    assert [r["id"] for r in conn.read("events", on_checkpoint=checkpoints.append)] == [1, 2]
    # after the first window the state says 2024-01-08, not 2024-01-25: a stop there would resume at the second window
    assert [c["cursor"] for c in checkpoints[:2]] == ["2024-01-08T00:00:00Z", "2024-01-15T00:00:00Z"]


def test_an_api_of_epoch_seconds_gets_window_bounds_as_epochs(api: FakeAPI, tmp_path: Path, registry: Registry) -> None:
    def handler(request: Request) -> Any:
        since, until = int(request.args["since"]), int(request.args["until"])
        return {"data": [{"id": since, "at": since + 60}] if until - since == 86400 else []}

    api.route("/events", handler)
    stream = events_stream({"step": "1d"}, end="2024-01-03T00:00:00Z")
    stream["request"]["query"] = {"since": "{{ slice.start | timestamp }}", "until": "{{ slice.end | timestamp }}"}
    conn = Connector(load_spec(write_spec(tmp_path, {"events": stream}, api.url), registry), {"start_date": "2024-01-01T00:00:00Z"}, registry)
    state: dict[str, Any] = {}
    assert [r["at"] for r in conn.read("events", on_checkpoint=state.update)] == [1704067260, 1704153660]
    assert windows_asked(api) == [("1704067200", "1704153600"), ("1704153600", "1704240000")]
    assert state["cursor"] == "2024-01-03T00:00:00Z"
