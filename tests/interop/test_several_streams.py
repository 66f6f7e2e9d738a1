"""Several catalog streams read at once (``CONNECTOR_CORE_STREAMS_AT_ONCE``) with ``--format airbyte`` and
``--format singer``: every record, each stream's messages in its own order, state per stream, and a
located error for a bad value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interop_support import EXAMPLE_SPEC, airbyte_messages, of_type, run, singer_lines

from connectors.example.server import ShopServer

API_KEY = "shop-key-streams-0f1e2d3c4b5a6978"
AT_ONCE = {"CONNECTOR_CORE_STREAMS_AT_ONCE": "2"}


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopServer]:
    with ShopServer(customers=230, orders=120, api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, shop: ShopServer) -> Path:
    directory = tmp_path_factory.mktemp("streams")
    (directory / "config.json").write_text(json.dumps({"base_url": shop.url, "api_key": API_KEY}), encoding="utf-8")
    [message] = airbyte_messages(run("discover", str(EXAMPLE_SPEC), "--format", "airbyte", cwd=directory).stdout)
    offered = {stream.name: stream.model_dump(mode="json", exclude_none=True) for stream in message.catalog.streams}
    entries = [
        {"stream": offered["customers"], "sync_mode": "incremental", "destination_sync_mode": "append"},
        {"stream": offered["orders"], "sync_mode": "full_refresh", "destination_sync_mode": "append"},
    ]
    (directory / "catalog.json").write_text(json.dumps({"streams": entries}), encoding="utf-8")
    return directory


def statuses_of(messages: list[Any], stream: str) -> list[str]:
    traces = [m.trace.stream_status for m in of_type(messages, "TRACE")]
    return [s.status.value for s in traces if s.stream_descriptor.name == stream]


def test_airbyte_streams_read_at_once_each_keep_their_own_order_and_state(workdir: Path) -> None:
    args = ("read", str(EXAMPLE_SPEC), "--format", "airbyte", "--config", "config.json", "--catalog", "catalog.json")
    result = run(*args, cwd=workdir, env=AT_ONCE)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    messages = airbyte_messages(result.stdout)  # every line a valid Airbyte message: none cut by another
    records = [m.record for m in of_type(messages, "RECORD")]
    assert sorted(r.data["id"] for r in records if r.stream == "customers") == list(range(1, 231))
    assert len([r for r in records if r.stream == "orders"]) == 120
    assert statuses_of(messages, "customers") == ["STARTED", "RUNNING", "COMPLETE"]
    assert statuses_of(messages, "orders") == ["STARTED", "RUNNING", "COMPLETE"]
    both = [(s.stream_descriptor.name, s.status.value) for s in (m.trace.stream_status for m in of_type(messages, "TRACE"))]
    assert both.index(("orders", "STARTED")) < both.index(("customers", "COMPLETE"))  # read at the same time
    states = [m.state for m in of_type(messages, "STATE")]
    assert {s.stream.stream_descriptor.name for s in states} == {"customers"}
    assert sum(s.sourceStats.recordCount for s in states) == 230

    # the same state as a read of one stream after the other
    one_by_one = airbyte_messages(run(*args, cwd=workdir).stdout)
    assert of_type(one_by_one, "STATE")[-1].state.stream.stream_state == states[-1].stream.stream_state


def test_singer_streams_read_at_once_send_each_schema_before_its_records(workdir: Path) -> None:
    result = run("read", str(EXAMPLE_SPEC), "--format", "singer", "--config", "config.json", cwd=workdir, env=AT_ONCE)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = singer_lines(result.stdout)
    for stream, count in (("customers", 230), ("orders", 120)):
        kinds = [line["type"] for line in lines if line.get("stream") == stream]
        assert kinds[0] == "SCHEMA" and kinds.count("RECORD") == count
    assert lines[-1]["type"] == "STATE"


def test_a_bad_streams_at_once_value_is_a_located_error(workdir: Path) -> None:
    result = run("read", str(EXAMPLE_SPEC), "--format", "singer", "--config", "config.json", cwd=workdir,
                 env={"CONNECTOR_CORE_STREAMS_AT_ONCE": "many"})
    assert result.returncode == 1
    assert "CONNECTOR_CORE_STREAMS_AT_ONCE is 'many'" in result.stderr
    assert "Traceback" not in result.stderr
