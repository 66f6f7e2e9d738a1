"""The importer's pieces: Airbyte templates in our names, references and $parameters, and a manifest
using the components the real fixtures do not (windows, selective auth, list partitions with a request
option, added and removed fields, a record filter, error handlers) read end to end from a fake API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from werkzeug.wrappers import Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from fakeapi import FakeAPI, reply  # noqa: E402

from connector_core.cli.app import main  # noqa: E402
from connector_core.cli.importers.airbyte.report import Report  # noqa: E402
from connector_core.cli.importers.airbyte.resolve import Resolved  # noqa: E402
from connector_core.cli.importers.airbyte.templates import (  # noqa: E402
    RECORD,
    REQUEST,
    Scope,
    Untranslatable,
    translate_text,
)
from connector_core.engine.connector import Connector  # noqa: E402
from connector_core.engine.loader import load_spec  # noqa: E402
from connector_core.plugins import build_registry, make_plugin_manager  # noqa: E402

# -- templates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("airbyte", "ours"),
    [
        ("{{ config['api_key'] }}", "{{ config.api_key }}"),
        ("Token {{ config['credentials']['token'] }}", "Token {{ config.credentials.token }}"),
        ("{{ config.get('page_size', 50) }}", "{{ (config.page_size | default(50)) }}"),
        ("/lists/{{ stream_partition.list_id }}/members", "/lists/{{ partition.id }}/members"),
        ("/lists/{{ stream_slice['list_id'] }}/members", "/lists/{{ partition.id }}/members"),
        ("{{ format_datetime(config['start'], '%Y-%m-%d') }}", "{{ (config.start | format_datetime('%Y-%m-%d')) }}"),
        ("{{ now_utc().strftime('%Y-%m-%d') }}", "{{ (now_utc() | format_datetime('%Y-%m-%d')) }}"),
        ("{{ next_page_token['next_page_token'] }}", "{{ page.cursor }}"),
        ("/{{ parameters.resource }}/items", "/orders/items"),
        ("{{ record['items'] }}", "{{ record['items'] }}"),  # a dict method's name stays a subscript
    ],
)
def test_airbyte_templates_in_our_names(airbyte: str, ours: str) -> None:
    scope = Scope(allowed=REQUEST | RECORD, params={"resource": "orders"}, slice_fields={"list_id": "partition.id"}, page_expr="page.cursor")
    assert translate_text(airbyte, scope) == ours


def test_a_template_that_is_one_parameter_becomes_its_value() -> None:
    scope = Scope(allowed=REQUEST, params={"path": "/orders", "size": 50})
    assert translate_text("{{ parameters.path }}", scope) == "/orders"
    assert translate_text("{{ parameters['size'] }}", scope) == 50
    assert translate_text("{{ parameters.missing }}", scope) is None  # Airbyte renders nothing


@pytest.mark.parametrize(
    ("airbyte", "reason"),
    [
        ("{{ last_record['id'] }}", "'last_record'"),
        ("{{ stream_partition.region }}", "names a slice field this stream does not define"),
        ("{{ stream_slice['create_job_response'].json()['id'] }}", "names a slice field"),
        ("{{ config['a'] ", "does not parse"),
        ("{{ response.data }}", "'response'"),
    ],
)
def test_templates_ours_cannot_say_are_refused_with_the_reason(airbyte: str, reason: str) -> None:
    with pytest.raises(Untranslatable, match=reason):
        translate_text(airbyte, Scope(allowed=REQUEST))


# -- references and $parameters ------------------------------------------------------------------------


def test_references_resolve_with_sibling_overrides_and_remember_where_each_part_is_written() -> None:
    manifest = {
        "definitions": {
            "requester": {"type": "HttpRequester", "url_base": "https://x", "http_method": "GET"},
            "stream": {"$parameters": {"name": "orders", "path": "/orders"}, "retriever": {"requester": {"$ref": "#/definitions/requester", "http_method": "POST"}}},
            "old_style": "*ref(definitions.requester)",
        },
        "streams": ["#/definitions/stream"],
    }
    resolved = Resolved(manifest, "m.yaml")
    stream = resolved.data["streams"][0]
    requester = stream["retriever"]["requester"]
    assert requester == {"type": "HttpRequester", "url_base": "https://x", "http_method": "POST"}
    assert resolved.origin(stream) == "definitions.stream"
    assert resolved.origin(requester) == "definitions.stream.retriever.requester"
    assert resolved.field(stream, "name") == "orders"
    assert resolved.field(requester, "path") == "/orders"  # a parameter applies to the components inside
    assert resolved.data["definitions"]["old_style"]["url_base"] == "https://x"
    assert Report().render() == ""


# -- a manifest of components the real fixtures lack, read end to end -----------------------------------

SHOP = """
version: 6.0.0
type: DeclarativeSource
check: {type: CheckStream, stream_names: [orders]}
definitions:
  requester:
    type: HttpRequester
    url_base: "{{ config['base_url'] }}/api"
    authenticator:
      type: SelectiveAuthenticator
      authenticator_selection_path: [credentials, kind]
      authenticators:
        key:
          type: ApiKeyAuthenticator
          api_token: "{{ config['credentials']['key'] }}"
          inject_into: {type: RequestOption, inject_into: request_parameter, field_name: apikey}
        token: {type: BearerAuthenticator, api_token: "{{ config['credentials']['token'] }}"}
    error_handler:
      type: DefaultErrorHandler
      max_retries: 2
      backoff_strategies:
        - {type: ConstantBackoffStrategy, backoff_time_in_seconds: 0.01}
        - {type: WaitTimeFromHeader, header: X-Wait-Seconds}
      response_filters:
        - {type: HttpResponseFilter, http_codes: [404], action: IGNORE}
        - {type: HttpResponseFilter, http_codes: [401], action: FAIL, failure_type: config_error, error_message: "Refused: {{ response['error'] }}"}
        - {type: HttpResponseFilter, http_codes: [409], action: RETRY}
  orders:
    type: DeclarativeStream
    name: orders
    primary_key: id
    retriever:
      type: SimpleRetriever
      requester: {$ref: "#/definitions/requester", path: "/regions/{{ stream_partition.region }}/orders"}
      record_selector:
        type: RecordSelector
        extractor: {type: DpathExtractor, field_path: [data, orders]}
        record_filter: {type: RecordFilter, condition: "{{ record['status'] != 'draft' }}"}
      paginator:
        type: DefaultPaginator
        page_token_option: {type: RequestOption, inject_into: request_parameter, field_name: skip}
        page_size_option: {type: RequestOption, inject_into: request_parameter, field_name: take}
        pagination_strategy: {type: OffsetIncrement, page_size: 2}
      partition_router:
        type: ListPartitionRouter
        cursor_field: region
        values: "{{ config['regions'] }}"
        request_option: {type: RequestOption, inject_into: header, field_name: X-Region}
    incremental_sync:
      type: DatetimeBasedCursor
      cursor_field: updated
      datetime_format: "%Y-%m-%dT%H:%M:%SZ"
      start_datetime: "{{ config['start_date'] }}"
      end_datetime: "{{ config['end_date'] }}"
      step: P1D
      cursor_granularity: PT1S
      start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: from}
      end_time_option: {type: RequestOption, inject_into: request_parameter, field_name: to}
    transformations:
      - type: AddFields
        fields:
          - {path: [region], value: "{{ stream_partition.region }}"}
          - {path: [total_cents], value: "{{ record['total'] * 100 }}", value_type: integer}
      - {type: RemoveFields, field_pointers: [[internal], [meta, secret]]}
streams:
  - $ref: "#/definitions/orders"
spec:
  type: Spec
  connection_specification:
    type: object
    required: [credentials, regions, start_date]
    properties:
      base_url: {type: string}
      regions: {type: array, items: {type: string}}
      start_date: {type: string}
      end_date: {type: string}
      credentials:
        type: object
        properties:
          kind: {type: string, enum: [key, token]}
          key: {type: string, airbyte_secret: true}
          token: {type: string, airbyte_secret: true}
"""


def order(i: int, day: int, status: str = "paid") -> dict[str, Any]:
    return {"id": i, "updated": f"2024-05-0{day}T12:00:00Z", "status": status, "total": i + 0.5, "internal": "x", "meta": {"secret": 1, "kept": 2}}


def test_a_manifest_with_windows_partitions_transforms_and_error_handling_reads_what_it_implies(tmp_path: Path) -> None:
    manifest = tmp_path / "source-shop" / "manifest.yaml"
    manifest.parent.mkdir()
    manifest.write_text(SHOP, encoding="utf-8")
    output = tmp_path / "shop.yaml"
    result = CliRunner().invoke(main, ["import", "airbyte", str(manifest), "-o", str(output)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "need a look" not in result.stderr.splitlines()[0]  # everything converted
    spec = yaml.safe_load(output.read_text(encoding="utf-8"))
    assert spec["defaults"]["retries"] == {"attempts": 3, "backoff": 0.01, "max_backoff": 0.01,
                                           "reset": {"header": "X-Wait-Seconds", "unit": "seconds"}, "statuses": [429, 500, 502, 503, 504, 409]}
    assert spec["errors"] == [
        {"status": 404, "action": "ignore"},
        {"status": 401, "action": "fail", "message": "Refused: {{ response.body.error }}", "hint": "check the connector's settings (config)"},
    ]
    assert spec["streams"]["orders"]["cursor"]["window"] == {"step": "P1D", "granularity": "PT1S", "format": "%Y-%m-%dT%H:%M:%SZ"}

    # by day, per region: eu has an order each day (and a draft), us answers 404 (ignored, as the manifest says)
    by_region: dict[str, list[dict[str, Any]]] = {"eu": [order(1, 1), order(2, 2), order(3, 2, "draft"), order(4, 3)]}

    def orders(request: Request) -> Any:
        region = request.path.split("/")[3]
        assert request.headers.get("X-Region") == region and request.args["apikey"] == "k-1"
        if region not in by_region:
            return reply({"error": "no such region"}, 404)
        window = [o for o in by_region[region] if request.args["from"] <= o["updated"] <= request.args["to"]]
        skip, take = int(request.args.get("skip", "0")), int(request.args["take"])
        return reply({"data": {"orders": window[skip : skip + take]}})

    config = {"credentials": {"kind": "key", "key": "k-1"}, "regions": ["eu", "us"],
              "start_date": "2024-05-01T00:00:00Z", "end_date": "2024-05-04T00:00:00Z"}
    with FakeAPI() as api:
        api.route("/api/regions/eu/orders", orders)
        api.route("/api/regions/us/orders", orders)
        config["base_url"] = api.url
        registry = build_registry(make_plugin_manager(entry_points=False))
        connector = Connector(load_spec(output, registry), config, registry)
        records = list(connector.read("orders"))
        eu = api.received("/api/regions/eu/orders")
    # the records the manifest implies: drafts filtered, region and total_cents added, internal and meta.secret removed
    assert [(r["id"], r["region"], r["total_cents"]) for r in records] == [(1, "eu", 150), (2, "eu", 250), (4, "eu", 450)]
    assert all("internal" not in r and r["meta"] == {"kept": 2} for r in records)
    # one day a window, bounds written as the manifest's datetime_format, inclusive to the second
    windows = sorted({(r.query["from"], r.query["to"]) for r in eu})
    assert windows[0] == ("2024-05-01T00:00:00Z", "2024-05-01T23:59:59Z")
    assert windows[1][0] == "2024-05-02T00:00:00Z"


STATE_DELEGATING = """
type: DeclarativeSource
version: 6.0.0
check: {type: CheckStream, stream_names: [things]}
definitions:
  requester: {type: HttpRequester, url_base: "https://api.example.com", path: /things}
  things:
    type: DeclarativeStream
    name: things
    retriever:
      type: SimpleRetriever
      requester: {$ref: "#/definitions/requester"}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [data]}}
streams:
  - type: StateDelegatingStream
    name: things
    full_refresh_stream: {$ref: "#/definitions/things"}
    incremental_stream:
      $ref: "#/definitions/things"
      incremental_sync:
        type: DatetimeBasedCursor
        cursor_field: updated
        datetime_format: "%Y-%m-%d"
        start_datetime: "{{ config['start'] }}"
        start_time_option: {type: RequestOption, inject_into: request_parameter, field_name: since}
spec: {type: Spec, connection_specification: {type: object, properties: {start: {type: string}}}}
"""


def test_a_state_delegating_stream_is_converted_from_its_incremental_stream(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(STATE_DELEGATING, encoding="utf-8")
    output = tmp_path / "things.yaml"
    result = CliRunner().invoke(main, ["import", "airbyte", str(manifest), "-o", str(output), "--name", "things"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    things = yaml.safe_load(output.read_text(encoding="utf-8"))["streams"]["things"]
    assert things["cursor"] == {"field": "updated", "type": "datetime", "start": "{{ config.start }}"}
    assert things["request"]["query"] == {"since": "{{ (state.since | format_datetime('%Y-%m-%d')) if state.since else none }}"}
    assert "  changed: streams[0]: a stream that reads differently on its first sync is converted from its incremental_stream" in result.stderr


TOKEN_IN_PARAMETERS = """
type: DeclarativeSource
version: 6.0.0
check: {type: CheckStream, stream_names: [things]}
streams:
  - type: DeclarativeStream
    name: things
    primary_key: id
    retriever:
      type: SimpleRetriever
      requester:
        type: HttpRequester
        url_base: "{{ config['base_url'] }}"
        path: /things
        request_parameters: {pageToken: "{{ next_page_token.next_page_token }}", fields: all}
      record_selector: {type: RecordSelector, extractor: {type: DpathExtractor, field_path: [items]}}
      paginator:
        type: DefaultPaginator
        pagination_strategy:
          type: CursorPagination
          cursor_value: "{{ response.nextPageToken }}"
          stop_condition: "{{ response.nextPageToken is not defined }}"
spec: {type: Spec, connection_specification: {type: object, properties: {base_url: {type: string}}}}
"""


def test_a_page_token_the_manifest_sends_as_a_parameter_is_sent_once_by_the_paginator(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(TOKEN_IN_PARAMETERS, encoding="utf-8")
    output = tmp_path / "things.yaml"
    result = CliRunner().invoke(main, ["import", "airbyte", str(manifest), "-o", str(output), "--name", "things"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "need" not in result.stderr.splitlines()[0]
    things = [{"id": i} for i in range(5)]

    def pages(request: Request) -> Any:
        start = int(request.args.get("pageToken", "0"))
        body: dict[str, Any] = {"items": things[start : start + 2]}
        if start + 2 < len(things):
            body["nextPageToken"] = str(start + 2)
        return reply(body)

    with FakeAPI() as api:
        api.route("/things", pages)
        registry = build_registry(make_plugin_manager(entry_points=False))
        assert list(Connector(load_spec(output, registry), {"base_url": api.url}, registry).read("things")) == things
        received = api.received("/things")
    assert [(r.query.get("pageToken"), r.query["fields"]) for r in received] == [(None, "all"), ("2", "all"), ("4", "all")]
