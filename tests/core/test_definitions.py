"""Stream templates: one parameterised definition made into several streams when the spec loads, read
over real HTTP; every mistake located at the template's line and at the line of the use."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI
from werkzeug.wrappers import Request

from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.errors import SpecError
from connector_core.plugins import build_registry, make_plugin_manager

SPEC = """\
name: crm
base_url: "{base_url}"
stream_templates:
  crm_object:
    parameters: {{key: id, cursor: updatedAt, extra: []}}
    required: [object]
    stream:
      description: "The {{{{ params.object }}}} of the CRM"
      request:
        path: "/v3/objects/{{{{ params.object }}}}"
        query: {{since: "{{{{ state.since | format_datetime if state.since else None }}}}"}}
      records: results
      primary_key: "{{{{ params.key }}}}"
      cursor: {{field: "{{{{ params.cursor }}}}"}}
      transforms: "{{{{ params.extra }}}}"
    streams:
      companies: {{object: companies}}
      deals: {{object: deals, cursor: closedAt, extra: [{{set: {{kind: deal}}}}]}}
streams:
  owners:
    request: {{path: /v3/owners}}
    records: results
"""


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        def objects(kind: str) -> Any:
            def handler(request: Request) -> dict[str, Any]:
                rows = {"companies": [{"id": 1, "updatedAt": "2024-01-02T00:00:00Z"}], "deals": [{"id": 7, "closedAt": "2024-02-01T00:00:00Z"}]}[kind]
                return {"results": rows}

            return handler

        server.route("/v3/objects/companies", objects("companies"))
        server.route("/v3/objects/deals", objects("deals"))
        server.json("/v3/owners", {"results": [{"id": "o1"}]})
        yield server


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "crm.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load(path: Path) -> Any:
    return load_spec(path, build_registry(make_plugin_manager(entry_points=False)))


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load(write(tmp_path, text))
    return caught.value.problems


def test_streams_are_made_with_their_parameters_and_read(api: FakeAPI, tmp_path: Path) -> None:
    loaded = load(write(tmp_path, SPEC.format(base_url=api.url)))
    assert list(loaded.spec.streams) == ["owners", "companies", "deals"]
    deals = loaded.spec.streams["deals"]
    assert deals.cursor.field == "closedAt" and deals.primary_key == "id" and deals.description == "The deals of the CRM"
    conn = Connector(loaded, {}, build_registry(make_plugin_manager(entry_points=False)))
    checkpoints: list[dict[str, Any]] = []
    assert list(conn.read("deals", on_checkpoint=checkpoints.append)) == [{"id": 7, "closedAt": "2024-02-01T00:00:00Z", "kind": "deal"}]
    assert [c["cursor"] for c in checkpoints] == ["2024-02-01T00:00:00Z"]
    assert list(conn.read("companies")) == [{"id": 1, "updatedAt": "2024-01-02T00:00:00Z"}]
    assert [s["name"] for s in conn.discover()["streams"]] == ["owners", "companies", "deals"]


def test_a_problem_in_a_made_stream_names_the_template_line_and_the_use(tmp_path: Path) -> None:
    text = SPEC.format(base_url="http://127.0.0.1:9").replace("deals: {object: deals, cursor: closedAt", "deals: {object: deals, key: 'a[0]', cursor: closedAt")
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    # primary_key is on line 13 of the template; the deals stream's parameters on line 18
    assert found[0].startswith(f"{tmp_path / 'crm.yaml'}:13:20 (stream 'deals' made from stream_templates.crm_object, with the parameters at {tmp_path / 'crm.yaml'}:18:7): streams.deals.primary_key:")
    assert "looks like JSONPath" in found[0]


def test_a_model_error_in_a_made_stream_is_located_too(tmp_path: Path) -> None:
    text = SPEC.format(base_url="http://127.0.0.1:9").replace("cursor: {field:", "cursor: {feld:")
    found = problems(tmp_path, text)
    assert any(p.startswith(f"{tmp_path / 'crm.yaml'}:14:") and "used" not in p and "stream 'companies' made from stream_templates.crm_object" in p for p in found), found


@pytest.mark.parametrize(
    "change, where, message",
    [
        (("{object: companies}", "{object: companies, objekt: x}"), ":17:", "template 'crm_object' has no parameter 'objekt'; did you mean 'object'?"),
        (("{object: companies}", "{key: id}"), ":17:", "stream 'companies' does not give the required parameter(s) object"),
        (("params.key", "params.kee"), ":13:", "uses params.kee, which the template does not declare"),
        (("params.key", "params.key | upper"), ":13:", "only a plain {{ params.NAME }} is replaced"),
        (("  owners:\n", "  deals:\n"), ":18:", "a stream called 'deals' already exists"),
        (("{object: companies}", "{object: [companies]}"), ":17:", "parameter 'object' is a list, but the template uses it inside a longer string"),
    ],
)
def test_template_mistakes_are_located(tmp_path: Path, change: tuple[str, str], where: str, message: str) -> None:
    text = SPEC.format(base_url="http://127.0.0.1:9").replace(*change)
    found = problems(tmp_path, text)
    assert any(where in p.split(": ", 1)[0] and message in p for p in found), found


def test_a_template_that_makes_nothing_is_reported(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        name: crm
        base_url: http://127.0.0.1:9
        stream_templates:
          unused:
            stream: {request: {path: /x}}
        """)
    found = problems(tmp_path, text)
    assert any(":5:5: stream_templates.unused: template 'unused' makes no stream" in p for p in found), found
