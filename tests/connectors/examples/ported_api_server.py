"""A tiny HTTP server on 127.0.0.1 for the fakes of the ported APIs (Strava, Pipedrive, Mailchimp, SendGrid).

A fake is a :class:`PortedAPI` subclass whose ``answer(request)`` returns a werkzeug ``Response``;
the server records every request it answered (method, path, query, headers) for the tests to inspect.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class Seen:
    """One request as the fake answered it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


class PortedAPI:
    """Base of the fakes: start/stop as a context manager, ``url`` is the server's origin."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> PortedAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def requests_to(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path == path]

    def answer(self, request: Request) -> Response:
        raise NotImplementedError

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.seen.append(Seen(request.method, request.path, dict(request.args), dict(request.headers)))
        return self.answer(request)(environ, start_response)
