"""A local SuiteQL look-alike for read benchmarks: ``POST /services/rest/query/v1/suiteql?limit=&offset=``.

Run it as its own process (read_throughput.py does) so that it does not share a GIL with the client:

    python benchmarks/suiteql_server.py --records 100000 [--latency 0.05] [--port 0]

It prints ``READY <port>`` on stdout once it listens. Pages use NetSuite's envelope
``{"links":[...],"count":N,"hasMore":bool,"items":[...],"offset":o,"totalResults":T}``; every item
has ``"links":[]`` and only string values (as SuiteQL returns them), about 400 bytes each.

Pages are pre-serialised at start-up when they fit in ``--cache-mb`` and otherwise built per request
from a bytes template (%-formatting, no JSON encoder), so the server stays well ahead of any client.
The server is the stdlib's ThreadingHTTPServer speaking HTTP/1.1 with keep-alive (werkzeug's
development server closes every connection), a thread per connection; with ``--latency`` every
request sleeps that long, and concurrent requests (one connection each) overlap. A query containing ``WHERE 1 = 0`` returns an empty result (total 0).
``GET /_stats`` returns the requests and items served so far and ``time.monotonic()`` at the first
request and after the last response (CLOCK_MONOTONIC is shared by all processes, so the benchmark can
tell a client's start-up from its read); ``?reset=1`` zeroes them.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

PATH = "/services/rest/query/v1/suiteql"
MAX_LIMIT = 1000

# One record, ~400 bytes. All values are strings, as in SuiteQL results.
RECORD = (
    b'{"links":[],"id":"%(id)d","tranid":"SO%(id)08d","type":"SalesOrd","entity":"%(entity)d",'
    b'"trandate":"2024-%(month)02d-%(day)02d","lastmodifieddate":"2024-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:00Z",'
    b'"status":"B","currency":"1","subsidiary":"%(subsidiary)d","foreigntotal":"%(cents)d.%(frac)02d",'
    b'"email":"buyer%(entity)d@example.com","companyname":"Customer %(entity)d Holdings Ltd",'
    b'"externalid":"crm-%(id)d","memo":"Benchmark order %(id)d, shipped by ground, net 30 terms, no discount applied"}'
)


def record_bytes(n: int) -> bytes:
    """Record number ``n`` (0-based) as JSON bytes."""
    return RECORD % {
        b"id": n + 1,
        b"entity": 1000 + n % 5000,
        b"month": 1 + n % 12,
        b"day": 1 + n % 28,
        b"hour": n % 24,
        b"minute": n % 60,
        b"subsidiary": 1 + n % 3,
        b"cents": n % 100000,
        b"frac": n % 100,
    }


class Pages:
    def __init__(self, total: int, cache_mb: float) -> None:
        self.total = total
        self.cache: dict[tuple[int, int], bytes] = {}
        if total * len(record_bytes(total)) <= cache_mb * 1024 * 1024:
            for offset in range(0, total, MAX_LIMIT):
                self.cache[(offset, MAX_LIMIT)] = self._items(offset, MAX_LIMIT)

    def _items(self, offset: int, limit: int) -> bytes:
        return b",".join([record_bytes(n) for n in range(offset, min(offset + limit, self.total))])

    def page(self, base: str, offset: int, limit: int, total: int) -> tuple[bytes, int]:
        items = self.cache.get((offset, limit)) if total == self.total else None
        if items is None:
            items = self._items(offset, limit) if total else b""
        count = max(0, min(limit, total - offset))
        has_more = offset + count < total
        links = [{"rel": "self", "href": f"{base}{PATH}?limit={limit}&offset={offset}"}]
        if has_more:
            links.append({"rel": "next", "href": f"{base}{PATH}?limit={limit}&offset={offset + limit}"})
        head = json.dumps({"links": links, "count": count, "hasMore": has_more}, separators=(",", ":"))[:-1].encode()
        tail = b'],"offset":%d,"totalResults":%d}' % (offset, total)
        return head + b',"items":[' + items + tail, count


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive (one thread per connection, as a real API front end would allow)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    pages: Pages
    latency: float
    lock = threading.Lock()
    stats: dict[str, float | None] = {"requests": 0, "items": 0, "first": None, "last": None}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path, _, query = self.path.partition("?")
        if path != "/_stats":
            return self.reply(404, b'{"o:errorDetails":[{"detail":"no such path"}]}')
        with self.lock:
            body = json.dumps(self.stats).encode()
            if "reset=1" in query:
                self.stats.update(requests=0, items=0, first=None, last=None)
        return self.reply(200, body)

    def do_POST(self) -> None:  # noqa: N802
        arrived = time.monotonic()
        with self.lock:
            if self.stats["first"] is None:
                self.stats["first"] = arrived
        path, _, query_string = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path != PATH:
            return self.reply(404, b'{"o:errorDetails":[{"detail":"no such path"}]}')
        try:
            query = json.loads(raw)["q"]
        except (ValueError, KeyError, TypeError):
            return self.reply(400, b'{"o:errorDetails":[{"detail":"body must be {\\"q\\": \\"...\\"}"}]}')
        args = parse_qs(query_string)
        try:
            limit = min(int(args.get("limit", ["1000"])[0]), MAX_LIMIT)
            offset = int(args.get("offset", ["0"])[0])
        except ValueError:
            return self.reply(400, b'{"o:errorDetails":[{"detail":"bad limit or offset"}]}')
        if self.latency:
            time.sleep(self.latency)
        total = 0 if "WHERE 1 = 0" in query else self.pages.total
        body, count = self.pages.page(f"http://{self.headers.get('Host', '127.0.0.1')}", offset, limit, total)
        self.reply(200, body)
        with self.lock:
            self.stats["requests"] += 1
            self.stats["items"] += count
            self.stats["last"] = time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to sleep in every request")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cache-mb", type=float, default=100.0, help="pre-serialise pages up to this size")
    args = parser.parse_args()

    Handler.pages = Pages(args.records, args.cache_mb)
    Handler.latency = args.latency
    ThreadingHTTPServer.request_queue_size = 64
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
