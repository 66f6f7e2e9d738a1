"""`export.cast: schema`: the text values of an export job's downloads converted by the stream's JSON Schema
(written out, or `from` the API, fetched only when the job runs), over real HTTP to a local API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fakeapi import FakeAPI, open_connector
from werkzeug.wrappers import Response

from connector_core.engine.schema_casts import schema_casts
from connector_core.errors import ConnectorError

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "score": {"type": ["number", "null"]},
        "active": {"type": "boolean"},
        "name": {"type": "string"},
        "code": {"type": ["integer", "string"]},  # text allowed too: a text value stays text
        "meta": {},
    },
}
#: The same rows as the pages give them (JSON) and as the job writes them (CSV, every value text).
ROWS = [
    {"id": 1, "score": 2.5, "active": True, "name": "a", "code": "7"},
    {"id": 2, "score": None, "active": False, "name": "b", "code": "x"},
]
CSV = 'id,score,active,name,code\n1,2.5,true,a,7\n2,,false,b,x\n'


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        server.json("/rows", {"data": ROWS})
        server.json("/schema", SCHEMA)
        server.json("/jobs", {"job": "J1"}, method="POST")
        server.json("/jobs/J1", {"state": "done"})
        server.route("/jobs/J1/file", lambda r: Response(CSV, content_type="text/csv"))
        yield server


def spec(schema: Any = SCHEMA, *, nulls: list[str] | None = None, **stream: Any) -> dict[str, Any]:
    return {
        "name": "typed",
        "base_url": "{{ config.url }}",
        "config": {"type": "object", "properties": {"url": {"type": "string"}, "bulk": {"type": "boolean"}}},
        "streams": {
            "rows": {
                "request": {"path": "/rows"},
                "records": "data",
                "primary_key": "id",
                "schema": schema,
                "export": {
                    "when": "{{ config.bulk }}",
                    "create": {"method": "POST", "path": "/jobs"},
                    "decoder": {"format": "csv", "nulls": [""] if nulls is None else nulls},
                    "records": "",
                    "cast": "schema",
                    "id": {"path": "job"},
                    "poll": {"request": {"path": "/jobs/{{ job.id }}"}, "status": "state", "done": ["done"], "interval": 0},
                    "download": {"request": {"path": "/jobs/{{ job.id }}/file"}},
                },
                **stream,
            }
        },
    }


def read(tmp_path: Path, api: FakeAPI, document: dict[str, Any], *, bulk: bool) -> list[dict[str, Any]]:
    with open_connector(tmp_path, document, {"url": api.url, "bulk": bulk}) as connector:
        return list(connector.read("rows"))


def paths(api: FakeAPI) -> list[str]:
    return [f"{r.method} {r.path}" for r in api.requests]


def test_the_job_gives_the_types_the_pages_give(tmp_path: Path, api: FakeAPI) -> None:
    by_job = read(tmp_path, api, spec(), bulk=True)
    by_pages = read(tmp_path, api, spec(), bulk=False)
    assert orjson.dumps(by_job) == orjson.dumps(by_pages) == orjson.dumps(ROWS)  # 2.5 not "2.5", true not "true", null not ""


def test_a_schema_from_the_api_is_fetched_once_and_only_when_the_job_runs(tmp_path: Path, api: FakeAPI) -> None:
    document = spec({"from": {"request": {"path": "/schema"}}}, partitions={"values": ["p1", "p2"]})
    assert read(tmp_path, api, document, bulk=False) == ROWS * 2
    assert "GET /schema" not in paths(api)
    api.requests.clear()
    assert orjson.dumps(read(tmp_path, api, document, bulk=True)) == orjson.dumps(ROWS * 2)
    assert paths(api).count("POST /jobs") == 2 and paths(api).count("GET /schema") == 1  # a job per partition, one schema
    assert paths(api)[0] == "GET /schema"  # before the job: a schema that cannot be fetched starts none


def test_values_already_typed_are_left_alone(tmp_path: Path, api: FakeAPI) -> None:
    lines = '{"id": 1, "score": 3, "active": true, "name": "a", "code": 7}\n{"id": "2", "score": "4", "active": "false", "name": "b", "code": "7"}\n'
    api.route("/jobs/J1/file", lambda r: Response(lines, content_type="application/x-ndjson"))
    document = spec()
    document["streams"]["rows"]["export"]["decoder"] = "jsonl"
    assert orjson.dumps(read(tmp_path, api, document, bulk=True)) == orjson.dumps([
        {"id": 1, "score": 3, "active": True, "name": "a", "code": 7},  # 3 stays an integer: it is a number already
        {"id": 2, "score": 4.0, "active": False, "name": "b", "code": "7"},
    ])


def test_a_value_that_cannot_be_converted_stops_the_read_naming_where(tmp_path: Path, api: FakeAPI) -> None:
    api.route("/jobs/J1/file", lambda r: Response("id,score\n1,1.5\n2,n/a\n", content_type="text/csv"))
    with pytest.raises(ConnectorError) as caught:
        read(tmp_path, api, spec(), bulk=True)
    assert "typed.json:" in str(caught.value)
    assert "streams.rows.export.cast: field 'score' of record id=2 holds 'n/a', which is not a number" in str(caught.value)


def test_an_empty_value_not_read_as_null_is_refused_with_a_hint(tmp_path: Path, api: FakeAPI) -> None:
    with pytest.raises(ConnectorError) as caught:
        read(tmp_path, api, spec(nulls=[]), bulk=True)
    assert "field 'score' of record id=2 holds '', which is not a number" in caught.value.message
    assert 'add `nulls: [""]` to streams.rows.export.decoder' in (caught.value.hint or "")


def test_which_properties_are_converted() -> None:
    assert schema_casts(SCHEMA) == {"id": "integer", "score": "number", "active": "boolean"}
    assert schema_casts({"type": "object"}) == {}
    assert schema_casts({"properties": {"n": {"type": ["null", "integer", "number"]}, "s": {"type": "string"}, "x": True}}) == {}
