"""One stream read through an export job or as pages, chosen per read by `export.when` or by a count above
`export.size.above`, over real HTTP to a local API; and what `validate` says about the switch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, open_connector, reply
from werkzeug.wrappers import Response

from connector_core.errors import ConnectorError, SpecError

ROWS = [{"id": i, "name": f"row {i}"} for i in range(1, 8)]


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        # two pages chained by a cursor in the body; or a job whose one file holds every row as JSON lines
        server.route("/rows", lambda r: reply({"data": ROWS[4:], "next": None} if r.args.get("after") else {"data": ROWS[:4], "next": "p2"}))
        server.json("/rows/count", {"meta": {"total": len(ROWS)}})
        server.json("/jobs", {"job": "J1"}, method="POST")
        server.json("/jobs/J1", {"state": "done"})
        server.route("/jobs/J1/file", lambda r: Response("".join(json.dumps(row) + "\n" for row in ROWS), content_type="application/x-ndjson"))
        yield server


def spec(**export: Any) -> dict[str, Any]:
    job = {
        "create": {"method": "POST", "path": "/jobs"},
        "decoder": "jsonl",
        "records": "",
        "id": {"path": "job"},
        "poll": {"request": {"path": "/jobs/{{ job.id }}"}, "status": "state", "done": ["done"], "interval": 0},
        "download": {"request": {"path": "/jobs/{{ job.id }}/file"}},
        **export,
    }
    return {
        "name": "switch",
        "base_url": "{{ config.url }}",
        "config": {"type": "object", "properties": {"url": {"type": "string"}, "bulk": {"type": "boolean"}, "above": {"type": ["integer", "null"]}}},
        "streams": {
            "rows": {
                "request": {"path": "/rows"},
                "paginate": {"type": "cursor", "path": "next", "param": "after"},
                "records": "data",
                "primary_key": "id",
                "export": job,
            }
        },
    }


def paths(api: FakeAPI) -> list[str]:
    return [f"{r.method} {r.path}" for r in api.requests]


def test_when_true_reads_through_the_job_and_false_reads_the_pages(tmp_path: Path, api: FakeAPI) -> None:
    document = spec(when="{{ config.bulk }}")
    with open_connector(tmp_path, document, {"url": api.url, "bulk": True}) as connector:
        assert list(connector.read("rows")) == ROWS
    assert paths(api) == ["POST /jobs", "GET /jobs/J1", "GET /jobs/J1/file"]
    api.requests.clear()
    with open_connector(tmp_path, document, {"url": api.url, "bulk": False}) as connector:
        assert list(connector.read("rows")) == ROWS
    assert paths(api) == ["GET /rows", "GET /rows"]


def test_a_count_above_the_threshold_chooses_the_job(tmp_path: Path, api: FakeAPI) -> None:
    document = spec(size={"request": {"path": "/rows/count"}, "path": "meta.total", "above": "{{ config.above }}"})
    with open_connector(tmp_path, document, {"url": api.url, "above": 6}) as connector:
        assert list(connector.read("rows")) == ROWS
    assert paths(api)[:2] == ["GET /rows/count", "POST /jobs"]
    api.requests.clear()
    with open_connector(tmp_path, document, {"url": api.url, "above": 7}) as connector:
        assert list(connector.read("rows")) == ROWS
    assert paths(api) == ["GET /rows/count", "GET /rows", "GET /rows"]
    api.requests.clear()
    with open_connector(tmp_path, document, {"url": api.url, "above": None}) as connector:  # no threshold: no count
        assert list(connector.read("rows")) == ROWS
    assert paths(api) == ["GET /rows", "GET /rows"]


def test_a_count_reply_without_a_number_is_a_clear_error(tmp_path: Path, api: FakeAPI) -> None:
    document = spec(size={"request": {"path": "/rows/count"}, "path": "meta.count", "above": 3})
    with open_connector(tmp_path, document, {"url": api.url}) as connector, pytest.raises(ConnectorError) as caught:
        list(connector.read("rows"))
    assert "streams.rows.export.size: the count request's reply has no whole number at 'meta.count'" in str(caught.value)


def test_validate_wants_a_create_request_with_a_switch_and_a_switch_with_one(tmp_path: Path) -> None:
    document = spec(when="{{ page.x }}")
    del document["streams"]["rows"]["export"]["create"]
    with pytest.raises(SpecError) as caught:
        open_connector(tmp_path, document, {"url": "http://127.0.0.1:9"})
    problems = "\n".join(caught.value.problems)
    assert "streams.rows.export.when: with `when`, the stream's `request` reads pages where the job is not wanted" in problems
    assert "streams.rows.export.when: template uses 'page', which export.when does not see" in problems
    with pytest.raises(SpecError) as caught:
        open_connector(tmp_path, spec(), {"url": "http://127.0.0.1:9"})
    problems = "\n".join(caught.value.problems)
    assert "streams.rows.export.create: export.create is only sent with export.when or export.size" in problems
    assert "streams.rows.paginate: an export stream is not paged by `paginate`" in problems
    with pytest.raises(SpecError) as caught:
        open_connector(tmp_path, spec(size={"request": {"path": "/c"}, "path": "$.total", "above": "{{ state.x }}"}, records="data.*"), {"url": "x"})
    problems = "\n".join(caught.value.problems)
    assert "streams.rows.export.size.path: '$.total' looks like JSONPath" in problems
    assert "streams.rows.export.size.above: template uses 'state', which size.above does not see" in problems
    assert "streams.rows.export.records: export.records replaces the stream's records path up to its `*`" in problems
