"""Reading streams over real HTTP: page order under concurrency, incremental state, lookback, partitions,
transforms, limits, pagination styles end to end, and flat memory on a long stream."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, GeneratedRecords, open_connector, records
from werkzeug.wrappers import Request, Response

from connector_core.engine.connector import Connector
from connector_core.errors import ConnectorError, PaginationLoopError

BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def iso(minutes: int) -> str:
    return (BASE + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


def connector(tmp_path: Path, api: FakeAPI, streams: dict[str, Any], *, concurrency: int = 4, config: dict[str, Any] | None = None) -> Connector:
    spec = {
        "name": "reader",
        "config": {"type": "object", "properties": {"start_date": {"type": "string"}, "regions": {"type": "array"}}},
        "base_url": api.url,
        "defaults": {"concurrency": concurrency, "retries": {"attempts": 2, "backoff": 0}},
        "streams": streams,
    }
    return open_connector(tmp_path, spec, config or {})


class ChangeLog:
    """An API of records with ``updated_at``, filtered by ``updated_since`` and paged by offset, oldest first."""

    def __init__(self, api: FakeAPI, count: int) -> None:
        self.rows: dict[int, dict[str, Any]] = {}
        for i in range(1, count + 1):
            self.put(i, i * 10)
        api.route("/changes", self.handle)

    def put(self, record_id: int, minutes: int) -> None:
        self.rows[record_id] = {"id": record_id, "updated_at": iso(minutes)}

    def handle(self, request: Request) -> dict[str, Any]:
        since = request.args.get("updated_since")
        rows = sorted(self.rows.values(), key=lambda r: (r["updated_at"], r["id"]))
        if since:
            rows = [r for r in rows if r["updated_at"] >= since]
        offset, limit = int(request.args.get("offset", 0)), int(request.args.get("limit", 100))
        return {"data": rows[offset : offset + limit]}


def changes_stream(**cursor: Any) -> dict[str, Any]:
    return {
        "request": {"path": "/changes", "query": {"updated_since": "{{ state.since | format_datetime if state.since else None }}"}},
        "paginate": {"type": "offset", "limit": 10},
        "records": "data",
        "primary_key": "id",
        "cursor": {"field": "updated_at", "start": "{{ config.start_date }}", **cursor},
    }


def read(conn: Connector, stream: str, state: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    checkpoints: list[dict[str, Any]] = []
    rows = list(conn.read(stream, state, on_checkpoint=checkpoints.append))
    return rows, checkpoints


class TestConcurrentPages:
    def test_pages_are_fetched_concurrently_but_records_come_in_order(self, api: FakeAPI, tmp_path: Path) -> None:
        api.offset_pages("/items", records(500), total=True)
        # Every other page is slow, so later pages finish first.
        api.delay("/items", lambda r: 0.1 if int(r.args.get("offset", 0)) % 100 == 50 else 0.0)
        stream = {"request": {"path": "/items"}, "paginate": {"type": "offset", "limit": 50, "total": "total"}, "records": "data"}
        conn = connector(tmp_path, api, {"items": stream}, concurrency=4)
        assert [r["id"] for r in conn.read("items")] == list(range(1, 501))
        offsets = [int(r.query["offset"]) for r in api.received("/items")]
        assert sorted(offsets) == list(range(0, 500, 50))  # each page exactly once
        assert api.max_in_flight > 1

    def test_without_a_total_pages_are_fetched_one_after_another(self, api: FakeAPI, tmp_path: Path) -> None:
        api.offset_pages("/items", records(95), total=False)
        api.delay("/items", 0.02)
        stream = {"request": {"path": "/items"}, "paginate": {"type": "offset", "limit": 10}, "records": "data"}
        conn = connector(tmp_path, api, {"items": stream})
        assert [r["id"] for r in conn.read("items")] == list(range(1, 96))
        assert api.max_in_flight == 1 and len(api.received("/items")) == 10


class TestPaginationStyles:
    def test_page_numbers_with_total_pages(self, api: FakeAPI, tmp_path: Path) -> None:
        api.page_number_pages("/items", records(73))
        stream = {"request": {"path": "/items"}, "paginate": {"type": "page", "size": 10, "total_pages": "total_pages"}, "records": "items"}
        assert [r["id"] for r in connector(tmp_path, api, {"items": stream}).read("items")] == list(range(1, 74))
        assert sorted(int(r.query["page"]) for r in api.received()) == list(range(1, 9))

    @pytest.mark.parametrize("header", [None, "X-Next-Cursor"])
    def test_cursor_from_body_or_header(self, api: FakeAPI, tmp_path: Path, header: str | None) -> None:
        api.cursor_pages("/items", records(42), size=10, header=header)
        paginate = {"type": "cursor", "header": header} if header else {"type": "cursor", "path": "next"}
        stream = {"request": {"path": "/items"}, "paginate": paginate, "records": "items"}
        assert [r["id"] for r in connector(tmp_path, api, {"items": stream}).read("items")] == list(range(1, 43))
        assert [r.query.get("cursor") for r in api.received()] == [None, "10", "20", "30", "40"]

    @pytest.mark.parametrize("link_header", [False, True])
    def test_next_url_from_body_or_link_header(self, api: FakeAPI, tmp_path: Path, link_header: bool) -> None:
        api.next_url_pages("/items", records(25), size=10, link_header=link_header)
        paginate = {"type": "next_url"} if link_header else {"type": "next_url", "path": "next_url"}
        stream = {"request": {"path": "/items", "query": {"limit": 10}}, "paginate": paginate, "records": "items"}
        assert [r["id"] for r in connector(tmp_path, api, {"items": stream}).read("items")] == list(range(1, 26))
        assert [r.query_string for r in api.received()] == ["limit=10", "after=10", "after=20"]

    def test_a_repeated_token_stops_the_read_with_a_loop_error(self, api: FakeAPI, tmp_path: Path) -> None:
        api.repeating_cursor("/items")
        stream = {"request": {"path": "/items"}, "paginate": {"type": "cursor", "path": "next"}, "records": "items"}
        with pytest.raises(PaginationLoopError):
            list(connector(tmp_path, api, {"items": stream}).read("items"))
        assert len(api.received()) == 2

    def test_a_body_that_is_not_json_is_reported(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/items", "<html>maintenance</html>")
        with pytest.raises(ConnectorError, match="not JSON.*maintenance"):
            list(connector(tmp_path, api, {"items": {"request": {"path": "/items"}}}).read("items"))


class TestIncremental:
    def test_first_run_starts_at_the_start_date_and_saves_state_only_after_the_records(self, api: FakeAPI, tmp_path: Path) -> None:
        ChangeLog(api, 30)
        conn = connector(tmp_path, api, {"changes": changes_stream()}, config={"start_date": iso(105)})
        checkpoints: list[dict[str, Any]] = []
        reading = conn.read("changes", None, on_checkpoint=checkpoints.append)
        seen = []
        for record in reading:
            seen.append(record["id"])
            assert checkpoints == []  # nothing is saved while records are still being handed over
        assert seen == list(range(11, 31))
        assert checkpoints == [{"cursor": iso(300), "seen": [[30, iso(300)]]}]
        assert api.received()[0].query["updated_since"] == iso(105)

    def test_second_run_reads_only_changes(self, api: FakeAPI, tmp_path: Path) -> None:
        log = ChangeLog(api, 30)
        conn = connector(tmp_path, api, {"changes": changes_stream()}, config={"start_date": iso(0)})
        _, checkpoints = read(conn, "changes")
        state = checkpoints[-1]
        log.put(5, 400)  # updated
        log.put(31, 410)  # created
        rows, checkpoints = read(conn, "changes", state)
        assert [r["id"] for r in rows] == [5, 31]
        assert api.received()[-1].query["updated_since"] == iso(300)
        assert checkpoints[-1] == {"cursor": iso(410), "seen": [[31, iso(410)]]}  # 30 was not emitted again

    def test_a_run_without_changes_leaves_the_state_alone(self, api: FakeAPI, tmp_path: Path) -> None:
        ChangeLog(api, 3)
        conn = connector(tmp_path, api, {"changes": changes_stream()}, config={"start_date": iso(0)})
        state = {"cursor": iso(1000), "other": "kept"}
        rows, checkpoints = read(conn, "changes", state)
        assert rows == [] and checkpoints == []

    def test_records_without_a_cursor_never_blank_the_state(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/changes", {"data": [{"id": 1, "updated_at": None}, {"id": 2}]})
        conn = connector(tmp_path, api, {"changes": changes_stream()}, config={"start_date": iso(0)})
        rows, checkpoints = read(conn, "changes", {"cursor": iso(50)})
        assert len(rows) == 2 and checkpoints == []

    def test_lookback_rereads_the_window_and_drops_what_was_emitted(self, api: FakeAPI, tmp_path: Path) -> None:
        log = ChangeLog(api, 30)
        conn = connector(tmp_path, api, {"changes": changes_stream(lookback="1h")}, config={"start_date": iso(0)})
        rows, checkpoints = read(conn, "changes")
        assert len(rows) == 30
        state = checkpoints[-1]
        assert state["cursor"] == iso(300)
        rows, checkpoints = read(conn, "changes", state)
        assert api.received()[-1].query["updated_since"] == iso(240)  # the window was re-read
        assert rows == [] and checkpoints == []  # ...and nothing in it emitted again
        log.put(99, 250)  # a late arrival inside the window
        log.put(7, 320)  # and an ordinary change
        rows, checkpoints = read(conn, "changes", state)
        assert sorted(r["id"] for r in rows) == [7, 99]
        rows, _ = read(conn, "changes", checkpoints[-1])
        assert rows == []

    def test_sorted_streams_checkpoint_after_every_page(self, api: FakeAPI, tmp_path: Path) -> None:
        ChangeLog(api, 35)
        conn = connector(tmp_path, api, {"changes": changes_stream(sorted=True)}, config={"start_date": iso(0)})
        consumed_at_checkpoint: list[int] = []
        cursors: list[str] = []
        count = 0

        def checkpoint(state: dict[str, Any]) -> None:
            consumed_at_checkpoint.append(count)
            cursors.append(state["cursor"])

        for _ in conn.read("changes", None, on_checkpoint=checkpoint):
            count += 1
        assert consumed_at_checkpoint[:4] == [10, 20, 30, 35]
        assert cursors[:4] == [iso(100), iso(200), iso(300), iso(350)]

    def test_the_callers_state_is_not_modified(self, api: FakeAPI, tmp_path: Path) -> None:
        ChangeLog(api, 5)
        stream = {**changes_stream(), "partitions": {"values": ["eu"]}}
        conn = connector(tmp_path, api, {"changes": stream}, config={"start_date": iso(0)})
        state = {"partitions": {"eu": {"cursor": iso(20)}}}
        read(conn, "changes", state)
        assert state == {"partitions": {"eu": {"cursor": iso(20)}}}


class TestPartitions:
    def test_partitions_from_a_list_keep_their_own_state(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/regions/eu/items", [{"id": 1, "at": 5}, {"id": 2, "at": 9}])
        api.json("/regions/us/items", [{"id": 3, "at": 7}])
        stream = {
            "request": {"path": "/regions/{{ partition }}/items"},
            "partitions": {"values": "{{ config.regions }}"},
            "cursor": {"field": "at", "type": "integer"},
            "transforms": [{"set": {"region": "{{ partition }}"}}],
        }
        conn = connector(tmp_path, api, {"items": stream}, config={"regions": ["eu", "us"]})
        rows, checkpoints = read(conn, "items")
        assert [(r["id"], r["region"]) for r in rows] == [(1, "eu"), (2, "eu"), (3, "us")]
        assert checkpoints[-1] == {"partitions": {"eu": {"cursor": 9}, "us": {"cursor": 7}}}

    def test_partitions_from_a_parent_stream(self, api: FakeAPI, tmp_path: Path) -> None:
        api.offset_pages("/companies", [{"id": 10}, {"id": 20}, {"id": 30}], total=False)
        for company in (10, 20, 30):
            api.json(f"/companies/{company}/contacts", {"contacts": [{"id": company + 1}, {"id": company + 2}]})
        streams = {
            "companies": {"request": {"path": "/companies"}, "paginate": {"type": "offset", "limit": 2}, "records": "data"},
            "contacts": {
                "request": {"path": "/companies/{{ partition.id }}/contacts"},
                "records": "contacts",
                "partitions": {"parent": "companies"},
                "transforms": [{"set": {"company_id": "{{ partition.id }}"}}],
            },
        }
        rows = list(connector(tmp_path, api, streams).read("contacts"))
        assert [(r["company_id"], r["id"]) for r in rows] == [(10, 11), (10, 12), (20, 21), (20, 22), (30, 31), (30, 32)]
        assert len(api.received("/companies")) == 2


class TestRecords:
    def test_filter_and_transforms_set_drop_rename(self, api: FakeAPI, tmp_path: Path) -> None:
        api.json("/people", {"people": [
            {"id": 1, "first": "Ada", "last": "L", "secret": "x", "active": True},
            {"id": 2, "first": "Bob", "last": "M", "secret": "y", "active": False},
        ]})
        stream = {
            "request": {"path": "/people"},
            "records": {"path": "people", "filter": "{{ record.active }}"},
            "transforms": [
                {"set": {"full": "{{ record.first }} {{ record.last }}", "meta.source": "fake"}},
                {"drop": ["secret", "active"]},
                {"rename": {"first": "given"}},
            ],
        }
        rows = list(connector(tmp_path, api, {"people": stream}).read("people"))
        assert rows == [{"id": 1, "given": "Ada", "last": "L", "full": "Ada L", "meta": {"source": "fake"}}]

    def test_limit_stops_reading_pages(self, api: FakeAPI, tmp_path: Path) -> None:
        api.offset_pages("/items", records(100), total=False)
        stream = {"request": {"path": "/items"}, "paginate": {"type": "offset", "limit": 10}, "records": "data"}
        rows = list(connector(tmp_path, api, {"items": stream}).read("items", limit=15))
        assert [r["id"] for r in rows] == list(range(1, 16))
        assert len(api.received()) == 2


def test_memory_stays_flat_over_200k_records(api: FakeAPI, tmp_path: Path) -> None:
    """A streaming correctness test: records pass through generators a few pages at a time.

    The server's pages are encoded before tracing starts, so the peak measures the reader alone.
    Holding every record at once would take about 50 MB here.
    """
    count, size = 200_000, 5000
    data = GeneratedRecords(count)
    pages = {offset: json.dumps({"data": data[offset : offset + size], "total": count}).encode() for offset in range(0, count, size)}
    api.route("/big", lambda request: Response(pages[int(request.args["offset"])], mimetype="application/json"))
    stream = {"request": {"path": "/big"}, "paginate": {"type": "offset", "limit": size, "total": "total"}, "records": "data"}
    conn = connector(tmp_path, api, {"big": stream}, concurrency=4)
    tracemalloc.start()
    try:
        total = last = 0
        for record in conn.read("big"):
            total += 1
            last = record["id"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (total, last) == (count, count)
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
