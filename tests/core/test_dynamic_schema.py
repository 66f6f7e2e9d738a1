"""`schema: {from: ...}`: a stream's record schema fetched from the API at discover time, over real HTTP
to a local API: the request, a plugin's transform, the path, the fields kept, one request per run, and
what `validate` and a failing API say."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI

from connector_core.engine.connector import Connector
from connector_core.engine.discovery import discover_streams
from connector_core.engine.loader import load_spec
from connector_core.errors import ConnectorError, FatalHTTPError, SpecError
from connector_core.hookspecs import hookimpl
from connector_core.plugins import Registry, build_registry, make_plugin_manager

#: What the local API says about its "things": one entry per field, as many APIs' field lists do.
FIELDS = {
    "object": "thing",
    "fields": [
        {"name": "id", "type": "int", "required": True},
        {"name": "name", "type": "text", "required": True},
        {"name": "colour", "type": "choice", "choices": ["red", "green"]},
        {"name": "size_c", "type": "int"},
    ],
}


def fields_to_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """A plugin's transform: the field list → ``{"object": ..., "schema": JSON Schema}``."""
    if "fields" not in body:
        return None
    kinds = {"int": {"type": "integer"}, "text": {"type": "string"}, "choice": {"type": "string"}}
    properties = {}
    for field in body["fields"]:
        schema = dict(kinds[field["type"]])
        if field.get("choices"):
            schema["enum"] = field["choices"]
        properties[field["name"]] = schema
    required = [f["name"] for f in body["fields"] if f.get("required")]
    return {"object": body["object"], "schema": {"type": "object", "properties": properties, "required": required}}


class _Transforms:
    @hookimpl
    def connector_register_transforms(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]]:
        return {"fields_to_schema": fields_to_schema}


@pytest.fixture
def registry() -> Registry:
    return build_registry(make_plugin_manager(entry_points=False, plugins=[_Transforms()]))


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        server.json("/things", [{"id": 1, "name": "a"}])
        server.json("/meta/thing", FIELDS)
        yield server


def spec(**from_: Any) -> dict[str, Any]:
    source = {"request": {"path": "/meta/{{ config.object }}"}, "transform": "fields_to_schema", "path": "schema", **from_}
    return {
        "name": "things",
        "base_url": "{{ config.url }}",
        "config": {"type": "object", "properties": {"url": {"type": "string"}, "object": {"type": "string"}, "fields": {"type": "array"}}},
        "streams": {
            "things": {"request": {"path": "/things"}, "primary_key": "id", "schema": {"from": source}},
            "same_things": {"request": {"path": "/things"}, "schema": {"from": source}},
            "written": {"request": {"path": "/things"}, "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}},
        },
    }


@dataclass
class SpecOnly:
    """A spec without a config, as `discover` without -c has it."""

    spec: Any
    name: str


def open_spec(tmp_path: Path, registry: Registry, document: dict[str, Any], config: dict[str, Any]) -> Connector:
    path = tmp_path / "things.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return Connector(load_spec(path, registry), config, registry)


def test_the_schema_comes_from_the_api_through_the_transform_and_path(tmp_path: Path, registry: Registry, api: FakeAPI) -> None:
    with open_spec(tmp_path, registry, spec(), {"url": api.url, "object": "thing"}) as connector:
        streams = {s["name"]: s for s in connector.discover()["streams"]}
    things = streams["things"]
    assert things["schema_from_api"] is True and things["schema_inferred"] is False
    assert things["json_schema"]["properties"]["colour"] == {"type": "string", "enum": ["red", "green"]}
    assert things["json_schema"]["required"] == ["id", "name"]
    assert streams["written"]["json_schema"]["properties"] == {"id": {"type": "integer"}}
    assert streams["written"]["schema_from_api"] is False


def test_streams_described_by_the_same_request_share_one_request_per_run(tmp_path: Path, registry: Registry, api: FakeAPI) -> None:
    with open_spec(tmp_path, registry, spec(), {"url": api.url, "object": "thing"}) as connector:
        connector.discover()
        connector.discover()
    assert [r.path for r in api.requests].count("/meta/thing") == 1
    assert "/things" not in [r.path for r in api.requests]  # discover reads no records


def test_fields_keep_only_the_properties_the_stream_reads(tmp_path: Path, registry: Registry, api: FakeAPI) -> None:
    document = spec(fields="{{ config.fields }}")
    with open_spec(tmp_path, registry, document, {"url": api.url, "object": "thing", "fields": ["size_c", "id", "nope"]}) as connector:
        schema = connector.discover()["streams"][0]["json_schema"]
    assert list(schema["properties"]) == ["size_c", "id"]  # in the order given; 'nope' is not described
    assert schema["required"] == ["id"]


def test_without_a_config_the_schema_is_unknown_and_nothing_is_asked(tmp_path: Path, registry: Registry, api: FakeAPI) -> None:
    path = tmp_path / "things.json"
    path.write_text(json.dumps(spec()), encoding="utf-8")
    things = discover_streams(SpecOnly(load_spec(path, registry).spec, "things"))["streams"][0]
    assert things["json_schema"] == {"type": "object"} and things["schema_from_api"] is False
    assert api.requests == []


def test_a_failed_schema_request_names_the_stream_and_keeps_the_api_error(tmp_path: Path, registry: Registry, api: FakeAPI) -> None:
    api.json("/meta/gone", {"message": "no such object: gone"}, status=404)
    with open_spec(tmp_path, registry, spec(), {"url": api.url, "object": "gone"}) as connector, pytest.raises(FatalHTTPError) as caught:
        connector.discover()
    message = str(caught.value)
    assert "stream 'things': its schema could not be fetched (streams.things.schema.from.request, GET /meta/gone)" in message
    assert "404" in message and "no such object: gone" in message


def test_a_reply_that_gives_no_valid_schema_is_a_clear_error(tmp_path: Path, registry: Registry, api: FakeAPI) -> None:
    with open_spec(tmp_path, registry, spec(path="object"), {"url": api.url, "object": "thing"}) as connector, pytest.raises(ConnectorError) as caught:
        connector.discover()
    assert "streams.things.schema.from: 'object' in the reply of GET /meta/thing is not a JSON Schema (a mapping): thing" in str(caught.value)
    api.json("/meta/odd", {"schema": {"type": "wibble"}})
    with open_spec(tmp_path, registry, spec(transform=None), {"url": api.url, "object": "odd"}) as connector, pytest.raises(ConnectorError) as caught:
        connector.discover()
    assert "streams.things.schema.from: the schema built from GET /meta/odd is not a valid JSON Schema: type: 'wibble'" in str(caught.value)


def test_validate_checks_the_transform_path_and_template_names(tmp_path: Path, registry: Registry) -> None:
    document = spec(transform="field_to_schema", path="$.schema", fields="{{ record.x }}")
    document["streams"]["things"]["schema"]["from"]["request"] = {"path": "/meta/{{ state.cursor }}"}
    path = tmp_path / "things.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path, registry)
    problems = "\n".join(caught.value.problems)
    assert "streams.things.schema.from.transform: no plugin transform 'field_to_schema'; did you mean 'fields_to_schema'?" in problems
    assert "streams.things.schema.from.path: '$.schema' looks like JSONPath" in problems
    assert "streams.things.schema.from.request.path: template uses 'state', which does not exist when a schema is fetched" in problems
    assert "streams.things.schema.from.fields: template uses 'record'" in problems


def test_a_misspelt_key_under_from_is_located_without_the_union_tag(tmp_path: Path, registry: Registry) -> None:
    document = spec()
    source = document["streams"]["things"]["schema"]["from"]
    source["requets"] = source.pop("request")
    path = tmp_path / "things.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path, registry)
    assert any("streams.things.schema.from.requets: unknown key 'requets'; did you mean 'request'?" in p for p in caught.value.problems)
    assert not any("DynamicSchema" in p or "from.from" in p for p in caught.value.problems)
