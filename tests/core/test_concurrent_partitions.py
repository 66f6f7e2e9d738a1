"""Partitions and time windows fetched concurrently (``engine/read_ahead.py``) over real HTTP: overlap up to
the spec's concurrency, records and checkpoints in partition order, a failure raised only after every
earlier partition, a resumed read from the last checkpoint, and the sequential read kept where it matters.

Overlap is proven with a barrier in the fake API: the first requests only answer once that many are in
flight at the same time, which a sequential read never reaches (its barrier breaks and the read fails).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, open_connector
from werkzeug.wrappers import Request

from connector_core.engine.connector import Connector
from connector_core.errors import ConnectorError

ACCOUNTS = ["a", "b", "c", "d", "e"]
BARRIER_SECONDS = 10  # only reached when the read is sequential, i.e. the test fails


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        server.json("/accounts", {"data": [{"id": account} for account in ACCOUNTS]})
        yield server


def serve_orders(api: FakeAPI, *, together: int = 0, fail: str | None = None) -> None:
    """``/accounts/ID/orders`` → two orders per account; the first ``together`` requests wait for each other."""
    barrier = threading.Barrier(together, timeout=BARRIER_SECONDS) if together > 1 else None
    arrived = iter(range(10_000))
    lock = threading.Lock()

    def handler(request: Request) -> Any:
        account = request.path.split("/")[2]
        with lock:
            position = next(arrived)
        if barrier is not None and position < together:
            barrier.wait()
        if account == fail:
            return {"error": "no such account"}, 400
        return {"data": [{"id": f"{account}{n}", "account": account, "n": n} for n in (1, 2)]}

    for account in ACCOUNTS:
        api.route(f"/accounts/{account}/orders", handler)


def orders_connector(tmp_path: Path, api: FakeAPI, concurrency: int | None) -> Connector:
    defaults: dict[str, Any] = {"retries": {"attempts": 1, "backoff": 0}}
    if concurrency is not None:
        defaults["concurrency"] = concurrency
    spec = {
        "name": "orders",
        "base_url": api.url,
        "defaults": defaults,
        "streams": {
            "accounts": {"request": {"path": "/accounts"}, "records": "data", "hidden": True},
            "orders": {
                "request": {"path": "/accounts/{{ partition.id }}/orders"},
                "records": "data",
                "partitions": {"parent": "accounts"},
                "cursor": {"field": "n", "type": "integer"},
            },
        },
    }
    return open_connector(tmp_path, spec)


def expected_orders(accounts: list[str] = ACCOUNTS) -> list[str]:
    return [f"{account}{n}" for account in accounts for n in (1, 2)]


class TestPartitionsConcurrently:
    def test_partitions_from_a_parent_overlap_and_yield_every_record_in_partition_order(self, api: FakeAPI, tmp_path: Path) -> None:
        serve_orders(api, together=3)
        rows = list(orders_connector(tmp_path, api, concurrency=3).read("orders"))
        assert [r["id"] for r in rows] == expected_orders()
        children = [r for r in api.received() if r.path.endswith("/orders")]
        assert sorted(r.path for r in children) == sorted(f"/accounts/{a}/orders" for a in ACCOUNTS)  # each once

    def test_requests_in_flight_stay_within_the_concurrency(self, api: FakeAPI, tmp_path: Path) -> None:
        serve_orders(api, together=2)
        rows = list(orders_connector(tmp_path, api, concurrency=2).read("orders"))
        assert [r["id"] for r in rows] == expected_orders()
        assert api.max_in_flight == 2

    def test_checkpoints_come_in_partition_order_each_after_its_records(self, api: FakeAPI, tmp_path: Path) -> None:
        serve_orders(api, together=3)
        seen: list[str] = []
        checkpoints: list[tuple[list[str], list[str]]] = []
        for row in orders_connector(tmp_path, api, concurrency=3).read(
            "orders", on_checkpoint=lambda state: checkpoints.append((list(seen), sorted(state["partitions"])))
        ):
            seen.append(row["id"])
        assert checkpoints == [(expected_orders(ACCOUNTS[: i + 1]), sorted(ACCOUNTS[: i + 1])) for i in range(len(ACCOUNTS))]

    def test_a_failed_partition_stops_the_read_after_the_earlier_ones_and_keeps_no_later_state(self, api: FakeAPI, tmp_path: Path) -> None:
        serve_orders(api, together=3, fail="b")  # c is fetched while a is read, before b fails
        rows: list[str] = []
        states: list[dict[str, Any]] = []
        with pytest.raises(ConnectorError):
            for row in orders_connector(tmp_path, api, concurrency=3).read("orders", on_checkpoint=states.append):
                rows.append(row["id"])
        assert rows == expected_orders(["a"])
        assert states[-1] == {"partitions": {"a": {"cursor": 2}}}
        assert "/accounts/c/orders" in {r.path for r in api.received()}  # read ahead, yet not in the state

    def test_a_read_resumed_from_the_last_checkpoint_reads_the_rest(self, api: FakeAPI, tmp_path: Path) -> None:
        serve_orders(api, together=3, fail="b")
        states: list[dict[str, Any]] = []
        with pytest.raises(ConnectorError):
            list(orders_connector(tmp_path, api, concurrency=3).read("orders", on_checkpoint=states.append))
        serve_orders(api)  # b answers now
        resumed = list(orders_connector(tmp_path, api, concurrency=3).read("orders", state=states[-1]))
        # a: only the order at its saved cursor (the API does not filter, and no primary key dedupes it)
        assert [r["id"] for r in resumed] == ["a2", *expected_orders(ACCOUNTS[1:])]

    def test_stopping_early_leaves_no_request_hanging(self, api: FakeAPI, tmp_path: Path) -> None:
        serve_orders(api, together=3)
        conn = orders_connector(tmp_path, api, concurrency=3)
        reading = conn.read("orders")
        assert next(iter(reading))["id"] == "a1"
        reading.close()  # type: ignore[attr-defined]
        assert [r["id"] for r in orders_connector(tmp_path, api, concurrency=3).read("orders", state=None)] == expected_orders()


class TestSequentialWhereItMatters:
    def test_a_spec_that_leaves_concurrency_at_its_default_asks_partitions_in_order(self, api: FakeAPI, tmp_path: Path) -> None:
        serve_orders(api)
        rows = list(orders_connector(tmp_path, api, concurrency=None).read("orders"))
        assert [r["id"] for r in rows] == expected_orders()
        asked = [r.path.split("/")[2] for r in api.received() if r.path.endswith("/orders")]
        assert asked == ACCOUNTS

    def test_a_record_limit_asks_only_the_partitions_it_needs(self, api: FakeAPI, tmp_path: Path) -> None:
        serve_orders(api)
        rows = list(orders_connector(tmp_path, api, concurrency=3).read("orders", limit=3))
        assert [r["id"] for r in rows] == ["a1", "a2", "b1"]
        assert [r.path for r in api.received() if r.path.endswith("/orders")] == ["/accounts/a/orders", "/accounts/b/orders"]


EVENTS = [{"id": day, "at": f"2024-01-{day:02d}T12:00:00Z"} for day in range(1, 29)]


def serve_events(api: FakeAPI, *, together: int = 0) -> None:
    barrier = threading.Barrier(together, timeout=BARRIER_SECONDS) if together > 1 else None
    arrived = iter(range(10_000))
    lock = threading.Lock()

    def handler(request: Request) -> Any:
        with lock:
            position = next(arrived)
        if barrier is not None and position < together:
            barrier.wait()
        since, until = request.args["since"], request.args["until"]
        return {"data": [e for e in EVENTS if since <= e["at"] <= until]}

    api.route("/events", handler)


def events_connector(tmp_path: Path, api: FakeAPI, concurrency: int) -> Connector:
    spec = {
        "name": "events",
        "base_url": api.url,
        "defaults": {"concurrency": concurrency, "retries": {"attempts": 1, "backoff": 0}},
        "streams": {
            "events": {
                "request": {"path": "/events", "query": {"since": "{{ slice.start }}", "until": "{{ slice.end }}"}},
                "records": "data",
                "primary_key": "id",
                "cursor": {"field": "at", "start": "2024-01-01T00:00:00Z", "end": "2024-01-28T23:59:59Z", "window": {"step": "7d", "granularity": "1s"}},
            }
        },
    }
    return open_connector(tmp_path, spec)


class TestWindowsConcurrently:
    def test_windows_overlap_and_checkpoint_in_ascending_order_after_their_records(self, api: FakeAPI, tmp_path: Path) -> None:
        serve_events(api, together=4)  # the four weeks of January at once
        seen, checkpoints = read_with_checkpoints(events_connector(tmp_path, api, concurrency=4))
        assert seen == list(range(1, 29))
        assert checkpoints[:4] == [
            (7, "2024-01-07T23:59:59Z"),
            (14, "2024-01-14T23:59:59Z"),
            (21, "2024-01-21T23:59:59Z"),
            (28, "2024-01-28T23:59:59Z"),
        ]
        assert len(api.received("/events")) == 4

    def test_a_concurrent_windowed_read_checkpoints_exactly_as_a_sequential_one(self, api: FakeAPI, tmp_path: Path) -> None:
        serve_events(api)
        assert read_with_checkpoints(events_connector(tmp_path, api, concurrency=4)) == read_with_checkpoints(
            events_connector(tmp_path, api, concurrency=1)
        )


def read_with_checkpoints(conn: Connector) -> tuple[list[int], list[tuple[int, str]]]:
    """The ids read, and each checkpoint's cursor with how many records came before it."""
    seen: list[int] = []
    checkpoints: list[tuple[int, str]] = []
    for row in conn.read("events", on_checkpoint=lambda state: checkpoints.append((len(seen), state["cursor"]))):
        seen.append(row["id"])
    return seen, checkpoints


class TestReadAhead:
    def test_jobs_further_ahead_are_fetched_but_not_parsed_until_their_turn_is_near(self) -> None:
        from connector_core.engine.read_ahead import PARSED_AHEAD, read_ahead, wait_to_parse

        fetched = threading.Barrier(5 + 1, timeout=BARRIER_SECONDS)  # the five jobs and this test
        parsed: set[int] = set()

        def job(index: int) -> Iterator[list[Any]]:
            fetched.wait()  # every job has its response before any turn moves on
            wait_to_parse()
            parsed.add(index)
            yield [index]

        pages_seen: list[int] = []
        for index, pages in read_ahead(((i, lambda i=i: job(i)) for i in range(1, 6)), width=5):
            if index == 1:
                fetched.wait()
            assert pages is not None
            for page in pages:
                if index == 1:
                    assert parsed <= set(range(1, 1 + PARSED_AHEAD))  # jobs 3, 4 and 5 still hold raw bodies
                pages_seen.extend(page)
        assert pages_seen == [1, 2, 3, 4, 5]
