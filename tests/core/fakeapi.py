"""A small configurable HTTP API on 127.0.0.1 for engine tests.

It serves pages in every built-in pagination style, injects faults per request (a status N times,
429 with or without Retry-After, dropped connections, latency), redirects, and records every request
it receives together with its arrival time and how many requests were in flight when it arrived::

    with FakeAPI() as api:
        api.offset_pages("/items", records(250), total=True)
        api.fail("/items", 503, times=2)
        ...
        assert [r.query["offset"] for r in api.received("/items")] == [...]

Routes match on the exact path (and optionally the method). A route handler receives the werkzeug
``Request`` and returns a ``Response``, or a JSON-able body (200), or ``(body, status[, headers])``.
"""

from __future__ import annotations

import email.utils
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from connector_core.engine.connector import Connector
from connector_core.engine.loader import load_spec
from connector_core.plugins import build_registry, make_plugin_manager

Handler = Callable[[Request], Any]


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    query_string: str
    headers: dict[str, str]
    body: bytes
    arrived: float
    in_flight: int

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Fault:
    """Something that happens instead of (or before) the route's normal answer."""

    kind: str  # "status" | "drop"
    times: int = 1
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


def records(count: int, start: int = 1, **extra: Any) -> list[dict[str, Any]]:
    """``count`` small records with consecutive integer ids."""
    return [{"id": i, "name": f"record {i}", **extra} for i in range(start, start + count)]


class GeneratedRecords(Sequence[dict[str, Any]]):
    """A lazily generated sequence of records: slices are built on demand, nothing is stored."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(self.count))]
        if not -self.count <= index < self.count:
            raise IndexError(index)
        return self._make(index % self.count)

    @staticmethod
    def _make(i: int) -> dict[str, Any]:
        return {"id": i + 1, "v": i % 97}


def http_date(seconds_from_now: float) -> str:
    """An HTTP-date ``seconds_from_now`` in the future (as a Retry-After header value)."""
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


def reply(body: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if isinstance(body, Response):
        return body
    if isinstance(body, bytes):
        response = Response(body, status=status, mimetype="application/octet-stream")
    elif isinstance(body, str):
        response = Response(body, status=status, mimetype="text/plain")
    elif body is None and status in (204, 304):
        response = Response(status=status)
    else:
        response = Response(json.dumps(body), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_error(self, *args: Any) -> None:
        pass


class FakeAPI:
    """A threaded HTTP/1.1 server on 127.0.0.1 (a free port) with routes, faults and a request log."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str | None, str], Handler] = {}
        self.faults: dict[str, deque[Fault]] = {}
        self.latency: dict[str, float | Callable[[Request], float]] = {}
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> FakeAPI:
        self._server = make_server("127.0.0.1", 0, self, threaded=True, request_handler=_QuietHandler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration -------------------------------------------------------------------------------

    def route(self, path: str, handler: Handler, method: str | None = None) -> None:
        """Answer requests to ``path`` (and ``method``, if given) with ``handler``."""
        self.routes[(method, path)] = handler

    def json(self, path: str, body: Any, status: int = 200, headers: dict[str, str] | None = None, method: str | None = None) -> None:
        """Always answer ``path`` with this body."""
        self.route(path, lambda request: reply(body, status, headers), method)

    def fail(self, path: str, status: int = 503, *, times: int = 1, headers: dict[str, str] | None = None, body: Any = None) -> None:
        """Answer the next ``times`` requests to ``path`` with ``status`` instead of the route."""
        self._fault(path, Fault("status", times, status, dict(headers or {}), body))

    def drop(self, path: str, *, times: int = 1) -> None:
        """Close the connection without answering, for the next ``times`` requests to ``path``."""
        self._fault(path, Fault("drop", times))

    def delay(self, path: str, seconds: float | Callable[[Request], float]) -> None:
        """Wait before answering every request to ``path``: ``seconds``, or a function of the request."""
        self.latency[path] = seconds

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.route(path, lambda request: reply(None, status, {"Location": location}))

    def _fault(self, path: str, fault: Fault) -> None:
        with self.lock:
            self.faults.setdefault(path, deque()).append(fault)

    # -- pagination styles ---------------------------------------------------------------------------

    def offset_pages(
        self,
        path: str,
        data: Sequence[dict[str, Any]],
        *,
        total: bool = True,
        records_key: str = "data",
        has_more_key: str | None = None,
        max_limit: int = 1000,
    ) -> None:
        """``?offset=&limit=`` → ``{data: [...], total: N}`` (total omitted when ``total`` is false)."""

        def handler(request: Request) -> Response:
            offset = int(request.args.get("offset", 0))
            limit = min(int(request.args.get("limit", 100)), max_limit)
            body: dict[str, Any] = {records_key: data[offset : offset + limit]}
            if total:
                body["total"] = len(data)
            if has_more_key:
                body[has_more_key] = offset + limit < len(data)
            return reply(body)

        self.route(path, handler)

    def page_number_pages(self, path: str, data: Sequence[dict[str, Any]], *, total_pages: bool = True) -> None:
        """``?page=&per_page=`` (pages from 1) → ``{items: [...], total_pages: N}``."""

        def handler(request: Request) -> Response:
            page = int(request.args.get("page", 1))
            size = int(request.args.get("per_page", 100))
            body: dict[str, Any] = {"items": data[(page - 1) * size : page * size]}
            if total_pages:
                body["total_pages"] = -(-len(data) // size)
            return reply(body)

        self.route(path, handler)

    def cursor_pages(self, path: str, data: Sequence[dict[str, Any]], *, size: int = 10, header: str | None = None) -> None:
        """``?cursor=`` → ``{items: [...], next: token}``, or the token in response header ``header``."""

        def handler(request: Request) -> Response:
            start = int(request.args.get("cursor") or 0)
            following = start + size
            token = f"{following}" if following < len(data) else None
            body: dict[str, Any] = {"items": data[start:following]}
            headers: dict[str, str] = {}
            if header:
                if token:
                    headers[header] = token
            else:
                body["next"] = token
            return reply(body, headers=headers)

        self.route(path, handler)

    def repeating_cursor(self, path: str, token: str = "same-token") -> None:
        """Every page says its next token is ``token``: a client without loop detection never stops."""
        self.route(path, lambda request: reply({"items": [{"id": request.args.get("cursor") or "first"}], "next": token}))

    def next_url_pages(self, path: str, data: Sequence[dict[str, Any]], *, size: int = 10, link_header: bool = False, absolute: bool = True) -> None:
        """``?after=`` → ``{items: [...], next_url: URL}``, or the URL in a ``Link: <…>; rel="next"`` header."""

        def handler(request: Request) -> Response:
            start = int(request.args.get("after") or 0)
            following = start + size
            next_url = None
            if following < len(data):
                next_url = f"{self.url if absolute else ''}{path}?{urlencode({'after': following})}"
            body: dict[str, Any] = {"items": data[start:following]}
            headers: dict[str, str] = {}
            if link_header:
                if next_url:
                    headers["Link"] = f'<{next_url}>; rel="next"'
            else:
                body["next_url"] = next_url
            return reply(body, headers=headers)

        self.route(path, handler)

    # -- inspection ----------------------------------------------------------------------------------

    def received(self, path: str | None = None, method: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if (path is None or r.path == path) and (method is None or r.method == method)]

    # -- WSGI ----------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.requests.append(
                Received(
                    method=request.method,
                    path=request.path,
                    raw_path=str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.path).split("?", 1)[0],
                    query=dict(request.args.items()),
                    query_string=request.query_string.decode(),
                    headers=dict(request.headers.items()),
                    body=body,
                    arrived=time.monotonic(),
                    in_flight=self.in_flight,
                )
            )
        try:
            response = self._answer(request, environ)
        finally:
            with self.lock:
                self.in_flight -= 1
        return response(environ, start_response)

    def _answer(self, request: Request, environ: dict[str, Any]) -> Response:
        latency = self.latency.get(request.path)
        if latency is not None:
            time.sleep(latency(request) if callable(latency) else latency)
        with self.lock:
            queue = self.faults.get(request.path)
            fault = queue[0] if queue else None
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    queue.popleft()  # type: ignore[union-attr]
        if fault is not None:
            if fault.kind == "drop":
                sock: socket.socket = environ["werkzeug.socket"]
                sock.shutdown(socket.SHUT_RDWR)
                return Response(b"")
            return reply(fault.body if fault.body is not None else {"error": f"injected {fault.status}"}, fault.status, fault.headers)
        handler = self.routes.get((request.method, request.path)) or self.routes.get((None, request.path))
        if handler is None:
            return reply({"error": f"no route for {request.method} {request.path}"}, 404)
        result = handler(request)
        if isinstance(result, Response):
            return result
        if isinstance(result, tuple):
            return reply(*result)
        return reply(result)


def open_connector(directory: Path, spec: dict[str, Any], config: dict[str, Any] | None = None, **kwargs: Any) -> Connector:
    """Write ``spec`` as JSON into ``directory`` and open it with the built-in plugins only."""
    path = directory / f"{spec.get('name', 'fake')}.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    registry = build_registry(make_plugin_manager(entry_points=False))
    return Connector(load_spec(path, registry), config or {}, registry, **kwargs)


class FakeTime:
    """A clock and a sleep that only advances it: waits are recorded, never slept."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


__all__ = ["FakeAPI", "FakeTime", "Fault", "GeneratedRecords", "Received", "http_date", "open_connector", "records", "reply"]
