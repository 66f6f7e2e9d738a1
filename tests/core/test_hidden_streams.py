"""Hidden helper streams: read only to feed another stream's partitions, never offered by `discover`,
refused by `read` (the API and the CLI) with a clear error, and a dead one caught by `validate`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, open_connector

from connector_core.errors import SpecError


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        server.json("/projects", {"data": [{"id": "p1"}, {"id": "p2"}]})
        server.json("/projects/p1/tasks", {"data": [{"id": 1}]})
        server.json("/projects/p2/tasks", {"data": [{"id": 2}]})
        yield server


def spec(base_url: str, **projects: Any) -> dict[str, Any]:
    return {
        "name": "hidden",
        "base_url": base_url,
        "streams": {
            "projects": {"request": {"path": "/projects"}, "records": "data", "hidden": True, **projects},
            "tasks": {"request": {"path": "/projects/{{ partition.id }}/tasks"}, "records": "data", "partitions": {"parent": "projects"}},
        },
    }


def test_a_hidden_parent_feeds_its_child(api: FakeAPI, tmp_path: Path) -> None:
    assert [r["id"] for r in open_connector(tmp_path, spec(api.url)).read("tasks")] == [1, 2]


def test_discover_does_not_offer_it(api: FakeAPI, tmp_path: Path) -> None:
    assert [s["name"] for s in open_connector(tmp_path, spec(api.url)).discover()["streams"]] == ["tasks"]


def test_reading_it_alone_is_refused_naming_what_it_feeds(api: FakeAPI, tmp_path: Path) -> None:
    conn = open_connector(tmp_path, spec(api.url))
    with pytest.raises(SpecError, match="stream 'projects' is hidden .*; it feeds the partitions of 'tasks'") as caught:
        conn.read("projects")
    assert caught.value.hint == "read one of the streams it feeds; streams: tasks"
    assert api.received("/projects") == []


def test_check_reads_the_first_stream_that_is_not_hidden(api: FakeAPI, tmp_path: Path) -> None:
    result = open_connector(tmp_path, spec(api.url)).check()
    assert "stream 'tasks' answered" in result.message


def test_the_cli_refuses_it_without_a_traceback(api: FakeAPI, tmp_path: Path) -> None:
    path = tmp_path / "hidden.json"
    path.write_text(json.dumps(spec(api.url)), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "connector_core", "read", str(path), "-s", "projects"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "stream 'projects' is hidden" in done.stderr
    done = subprocess.run([sys.executable, "-m", "connector_core", "read", str(path), "-s", "tasks"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == [1, 2]


def test_a_hidden_stream_nothing_reads_is_located(tmp_path: Path) -> None:
    dead = spec("http://127.0.0.1:9")
    dead["streams"]["tasks"]["partitions"] = {"values": ["p1"]}
    with pytest.raises(SpecError) as caught:
        open_connector(tmp_path, dead)
    assert any("streams.projects.hidden: stream 'projects' is hidden but no stream names it in `partitions.parent`" in p for p in caught.value.problems)


def test_a_connection_flow_cannot_read_it(tmp_path: Path) -> None:
    from connector_core.plugins import build_registry, make_plugin_manager
    from connector_core.sync.connection import load_connection

    with_operation = spec("http://127.0.0.1:9")
    with_operation["operations"] = {"create_task": {"kind": "create", "request": {"method": "POST", "path": "/tasks", "json": "{{ input }}"}}}
    (tmp_path / "hidden.json").write_text(json.dumps(with_operation), encoding="utf-8")
    connection = tmp_path / "conn.yaml"
    connection.write_text(
        "name: copy\n"
        "source: {connector: hidden.json}\n"
        "destination: {connector: hidden.json}\n"
        "direction: crm->netsuite\n"
        "flows:\n"
        "  - name: projects\n"
        "    from: {stream: projects}\n"
        "    to: {operation: create_task}\n"
        "    match: {external_id: \"{{ record.id }}\"}\n"
        "    mapping: {name: id}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as caught:
        load_connection(connection, build_registry(make_plugin_manager(entry_points=False)))
    assert any(":7:" in p and "flows[0].from.stream: stream 'projects' of connector 'hidden' is hidden" in p for p in caught.value.problems), caught.value.problems
