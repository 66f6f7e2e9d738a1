"""The peers' connectors for ``peers.py``, written from scratch for this benchmark into a temp directory.

Each reads the same stream as ``suiteql_bench.yaml`` (POST ``/services/rest/query/v1/suiteql`` with
``{"q": ...}``, offset pages of 1,000, NetSuite's envelope, records under ``items``) the way that
framework's documentation says to write it:

- **airbyte-cdk**: a low-code manifest run by the CDK's own ``source-declarative-manifest`` (how Airbyte
  runs manifest-only connectors), paginated by ``hasMore`` and the envelope's ``offset``;
- **singer-sdk**: a ``Tap`` with one ``RESTStream`` (POST body, a ``BaseOffsetPaginator`` stopped by
  ``hasMore``, records at ``$.items[*]``), run as ``python tap.py --config``;
- **dlt**: the ``rest_api`` source with its ``offset`` paginator (``total_path``), the resource iterated
  and written as JSON lines: dlt's extract step, without a pipeline's normalise and load, which a
  ``read`` to stdout does not do either;
- **curl**: a shell loop of sequential ``curl`` calls over the known pages (the latency floor).
"""

from __future__ import annotations

import json
from pathlib import Path

PATH = "/services/rest/query/v1/suiteql"
PAGE = 1000
STRING_FIELDS = (
    "id tranid type entity trandate lastmodifieddate status currency subsidiary foreigntotal email "
    "companyname externalid memo"
).split()

AIRBYTE_MANIFEST = {
    "version": "6.7.0",
    "type": "DeclarativeSource",
    "check": {"type": "CheckStream", "stream_names": ["transactions"]},
    "streams": [
        {
            "type": "DeclarativeStream",
            "name": "transactions",
            "primary_key": ["id"],
            "schema_loader": {
                "type": "InlineSchemaLoader",
                "schema": {
                    "type": "object",
                    "properties": {
                        "links": {"type": ["null", "array"]},
                        **{name: {"type": ["null", "string"]} for name in STRING_FIELDS},
                    },
                },
            },
            "retriever": {
                "type": "SimpleRetriever",
                "requester": {
                    "type": "HttpRequester",
                    "url_base": "{{ config['base_url'] }}",
                    "path": PATH,
                    "http_method": "POST",
                    "request_headers": {"Prefer": "transient"},
                    "request_body_json": {"q": "{{ config['query'] }}"},
                },
                "record_selector": {"type": "RecordSelector", "extractor": {"type": "DpathExtractor", "field_path": ["items"]}},
                "paginator": {
                    "type": "DefaultPaginator",
                    "page_token_option": {"type": "RequestOption", "inject_into": "request_parameter", "field_name": "offset"},
                    "page_size_option": {"type": "RequestOption", "inject_into": "request_parameter", "field_name": "limit"},
                    "pagination_strategy": {
                        "type": "CursorPagination",
                        "page_size": PAGE,
                        "cursor_value": "{{ response.offset + " + str(PAGE) + " }}",
                        "stop_condition": "{{ not response.hasMore }}",
                    },
                },
            },
        }
    ],
    "spec": {
        "type": "Spec",
        "connection_specification": {
            "type": "object",
            "required": ["base_url", "query"],
            "properties": {"base_url": {"type": "string"}, "query": {"type": "string"}},
        },
    },
}

AIRBYTE_CATALOG = {
    "streams": [
        {
            "stream": {"name": "transactions", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
        }
    ]
}

SINGER_TAP = f'''\
"""tap-suiteql-bench: the benchmark stream as a Singer SDK tap."""

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.pagination import BaseOffsetPaginator
from singer_sdk.streams import RESTStream

STRING_FIELDS = {STRING_FIELDS!r}


class HasMorePaginator(BaseOffsetPaginator):
    def has_more(self, response):
        return bool(response.json().get("hasMore"))


class Transactions(RESTStream):
    name = "transactions"
    path = "{PATH}"
    rest_method = "POST"
    primary_keys = ("id",)
    records_jsonpath = "$.items[*]"
    schema = th.PropertiesList(
        th.Property("links", th.ArrayType(th.ObjectType())),
        *[th.Property(name, th.StringType) for name in STRING_FIELDS],
    ).to_dict()

    @property
    def url_base(self):
        return self.config["base_url"]

    @property
    def http_headers(self):
        return {{"Prefer": "transient"}}

    def get_new_paginator(self):
        return HasMorePaginator(start_value=0, page_size={PAGE})

    def get_url_params(self, context, next_page_token):
        return {{"limit": {PAGE}, "offset": next_page_token or 0}}

    def prepare_request_payload(self, context, next_page_token):
        return {{"q": self.config["query"]}}


class TapSuiteqlBench(Tap):
    name = "tap-suiteql-bench"
    config_jsonschema = th.PropertiesList(
        th.Property("base_url", th.StringType, required=True),
        th.Property("query", th.StringType, required=True),
    ).to_dict()

    def discover_streams(self):
        return [Transactions(self)]


if __name__ == "__main__":
    TapSuiteqlBench.cli()
'''

DLT_READ = f'''\
"""The benchmark stream through dlt's rest_api source, written as JSON lines (extract only)."""

import json
import sys

from dlt.sources.rest_api import rest_api_source


def main():
    base_url, query = sys.argv[1], sys.argv[2]
    source = rest_api_source({{
        "client": {{"base_url": base_url, "headers": {{"Prefer": "transient"}}}},
        "resources": [{{
            "name": "transactions",
            "primary_key": "id",
            "endpoint": {{
                "path": "{PATH}",
                "method": "POST",
                "json": {{"q": query}},
                "data_selector": "items",
                "paginator": {{"type": "offset", "limit": {PAGE}, "total_path": "totalResults"}},
            }},
        }}],
    }})
    out = sys.stdout
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for record in source.resources["transactions"]:
        out.write(dumps(record) + "\\n")
    out.flush()


if __name__ == "__main__":
    main()
'''

CURL_LOOP = f"""\
#!/bin/sh
# Sequential curl calls over the known pages: curl_loop.sh BASE_URL PAGES QUERY
url="$1{PATH}"; pages="$2"; body="{{\\"q\\": \\"$3\\"}}"
i=0
while [ "$i" -lt "$pages" ]; do
  curl -sS --fail -X POST -H 'Content-Type: application/json' -H 'Prefer: transient' \\
    --data "$body" "$url?limit={PAGE}&offset=$((i * {PAGE}))"
  echo
  i=$((i + 1))
done
"""


def write_sources(root: Path) -> dict[str, Path]:
    """Write every peer's files into ``root``; returns their paths by name."""
    files = {
        "airbyte_manifest": root / "manifest.yaml",
        "airbyte_catalog": root / "catalog.json",
        "singer_tap": root / "tap_suiteql_bench.py",
        "dlt_read": root / "dlt_read.py",
        "curl_loop": root / "curl_loop.sh",
    }
    # JSON is YAML, and the CDK reads the manifest with a YAML loader.
    files["airbyte_manifest"].write_text(json.dumps(AIRBYTE_MANIFEST, indent=1), encoding="utf-8")
    files["airbyte_catalog"].write_text(json.dumps(AIRBYTE_CATALOG), encoding="utf-8")
    files["singer_tap"].write_text(SINGER_TAP, encoding="utf-8")
    files["dlt_read"].write_text(DLT_READ, encoding="utf-8")
    files["curl_loop"].write_text(CURL_LOOP, encoding="utf-8")
    files["curl_loop"].chmod(0o755)
    return files
