"""Paginating past an API's cap on one result set by restarting from the last key (SuiteQL, HubSpot search)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.plugins import build_registry, make_plugin_manager

ROWS = [{"id": i, "name": f"row {i}"} for i in range(1, 238)]
CAP = 50


class CappedAPI:
    """Offset pages (with total) and cursor pages over rows with id > after, refusing to page past CAP."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        args = request.args
        after = int(args.get("after", 0))
        rows = [r for r in ROWS if r["id"] > after]
        self.requests.append(dict(args))
        if request.path == "/offset":
            offset, limit = int(args["offset"]), int(args["limit"])
            if offset + limit > CAP:
                body, status = {"error": "past the cap"}, 400
            else:
                body, status = {"items": rows[offset : offset + limit], "total": len(rows)}, 200
        else:
            start = int(args.get("cursor", 0))
            limit = int(args["limit"])
            if start + limit > CAP:
                body, status = {"error": "past the cap"}, 400
            else:
                following = start + limit
                body = {"results": rows[start:following], "next": str(following) if following < len(rows) else None}
                status = 200
        return Response(json.dumps(body), status=status, mimetype="application/json")(environ, start_response)


@pytest.fixture()
def api() -> Iterator[tuple[str, CappedAPI]]:
    app = CappedAPI()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()


SPEC = """
name: capped
base_url: "{{ config.url }}"
config: {type: object, properties: {url: {type: string}}}
defaults: {concurrency: 3}
streams:
  by_offset:
    request: {path: /offset, query: {after: "{{ page.after }}"}}
    paginate: {type: offset, limit: 10, total: total, max_records: 50, rewindow: {key: id, start: 0}}
    records: items
  by_cursor:
    request: {path: /cursor, query: {after: "{{ page.after }}"}}
    paginate: {type: cursor, path: next, page_size: 10, max_records: 50, rewindow: {key: id, start: 0}}
    records: results
"""


@pytest.mark.parametrize("stream", ["by_offset", "by_cursor"])
def test_reads_every_row_past_the_cap_in_order_without_duplicates(tmp_path: Any, api: tuple[str, CappedAPI], stream: str) -> None:
    url, app = api
    spec_file = tmp_path / "capped.yaml"
    spec_file.write_text(SPEC)
    registry = build_registry(make_plugin_manager(entry_points=False))
    with Connector(load_spec(spec_file, registry), {"url": url}, registry) as connector:
        ids = [r["id"] for r in connector.read(stream)]
    assert ids == [r["id"] for r in ROWS]
    windows = sorted({int(r["after"]) for r in app.requests})
    assert windows == [0, 50, 100, 150, 200]
