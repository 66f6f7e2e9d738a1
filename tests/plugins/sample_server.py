"""A loopback ledger API for the sample plugin; it checks HMAC signatures on its own.

Nothing here imports connector_core or the plugin: the signature is recomputed from the raw request.

* ``GET /entries?region=EU&page_size=N[&skip_token=T][&loop=yes]`` → ``{"items": [...], "next_skip": T}``;
  the region must be upper-case; with ``loop`` the same token comes back forever.
* ``GET /locked`` → 409 with a retriable fault for the first ``locked_failures`` calls, then one item.
* ``GET /closed`` → 400 with a non-retriable fault.
* ``GET /missing`` → 404 with a fault (the spec's own error rule must win over the plugin).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

ENTRIES = [
    {
        "id": i,
        "region": "EU" if i % 4 else "US",
        "cents": 1000 + i,
        "status": "void" if i in (3, 9) else "posted",
    }
    for i in range(1, 17)
]


class _Quiet(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LedgerServer:
    """``with LedgerServer(key_id, secret) as server: server.url``; records what it saw."""

    def __init__(self, key_id: str, secret: str, *, locked_failures: int = 2) -> None:
        self.key_id, self.secret = key_id, secret
        self.locked_failures = locked_failures
        self.calls: list[dict[str, Any]] = []
        self.rejected = 0
        self.url = ""
        self._server: Any = None

    # -- HTTP ------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def _verified(self, request: Request) -> bool:
        timestamp = request.headers.get("X-Timestamp", "")
        if request.headers.get("X-Key-Id") != self.key_id or not timestamp.isdigit():
            return False
        if abs(time.time() - int(timestamp)) > 300:
            return False
        target = request.environ.get("RAW_URI") or request.full_path.rstrip("?")
        body_hash = hashlib.sha256(request.get_data()).hexdigest()
        message = "\n".join([request.method, target, timestamp, body_hash])
        expected = hmac.new(self.secret.encode(), message.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, request.headers.get("X-Signature", ""))

    def dispatch(self, request: Request) -> Response:
        if not self._verified(request):
            self.rejected += 1
            return _json({"fault": {"code": "BAD_SIGNATURE", "message": "signature mismatch"}}, 401)
        self.calls.append({"path": request.path, "args": dict(request.args)})
        if request.path == "/entries":
            return self.entries(request)
        if request.path == "/locked":
            locked_calls = sum(1 for c in self.calls if c["path"] == "/locked")
            if locked_calls <= self.locked_failures:
                return _json({"fault": {"code": "LOCKED", "retry": True}}, 409)
            return _json({"items": [{"id": "unlocked"}]})
        if request.path == "/closed":
            return _json({"fault": {"code": "PERIOD_CLOSED", "message": "period 2023-12 is closed"}}, 400)
        return _json({"fault": {"code": "NOT_FOUND", "message": "nothing here"}}, 404)

    def entries(self, request: Request) -> Response:
        region = request.args.get("region", "")
        if region != region.upper():
            return _json({"fault": {"code": "BAD_REGION", "message": "region must be upper-case"}}, 400)
        size = int(request.args.get("page_size", 5))
        token = request.args.get("skip_token")
        offset = int(base64.urlsafe_b64decode(token).decode().split(":")[1]) if token else 0
        rows = [e for e in ENTRIES if e["region"] == region]
        page = rows[offset : offset + size]
        following = offset + size
        if request.args.get("loop"):
            next_skip: str | None = _token(size)
        else:
            next_skip = _token(following) if following < len(rows) else None
        return _json({"items": page, "next_skip": next_skip})

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> str:
        self._server = make_server("127.0.0.1", 0, self, threaded=True, request_handler=_Quiet)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> LedgerServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
