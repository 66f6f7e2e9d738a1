"""A fault-injecting proxy for any HTTP API on this machine: the network a sync meets on a bad day.

:class:`ChaosProxy` forwards each request to one loopback target (an emulator, a local fake) and, at
random rates, answers 5xx or 429 itself, drops the connection (before the request reaches the target,
or after it had its effect, so the client cannot know which), or sends the target's reply slowly. It
knows nothing of the API it stands in front of, so a client that only agrees with our own emulators is
still exercised by faults they never produce::

    with ChaosProxy(emulator.url, Chaos(server_error=0.10, throttle=0.05, drop=0.02, slow=0.03)) as proxy:
        config["base_url"] = proxy.url

The ``Host`` header is forwarded unchanged, so signatures computed over the proxy's URL (OAuth 1.0a)
still verify at the target, and the target's absolute URLs (``Location``) name the proxy.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from werkzeug.wrappers import Request, Response

from connector_core.engine.urls import is_loopback
from connector_core.testing.emulator.faults import trickle
from connector_core.testing.emulator.server import EmulatorServer, drop_connection

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
                         "transfer-encoding", "upgrade", "content-length", "content-encoding"})


@dataclass(frozen=True)
class Chaos:
    """Shares of requests that meet each fault (the rest are forwarded untouched)."""

    server_error: float = 0.0  # a 503 from the proxy; the target never sees the request
    throttle: float = 0.0  # a 429 from the proxy
    drop: float = 0.0  # the connection is dropped: half before forwarding, half after the target answered
    slow: float = 0.0  # the target's reply, its body spread over `slow_seconds`
    slow_seconds: float = 1.0
    retry_after: int | None = None  # seconds in the 429s' Retry-After header (None: no header)
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.server_error + self.throttle + self.drop + self.slow > 1:
            raise ValueError("the fault shares add up to more than 1")


class ChaosProxy:
    """Forwards to ``target`` with faults from ``chaos``; a context manager that serves on loopback."""

    def __init__(self, target: str, chaos: Chaos, *, timeout: float = 60.0) -> None:
        host = urlsplit(target).hostname
        if not is_loopback(host):
            raise ValueError(f"ChaosProxy forwards only to this machine, not to {host!r}")
        self.target = target.rstrip("/")
        self.chaos = chaos
        self.timeout = timeout
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self._rng = random.Random(chaos.seed)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._server = EmulatorServer(self, name="chaos-proxy")
        self.url = ""

    def __enter__(self) -> ChaosProxy:
        self.url = self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def _roll(self) -> str | None:
        chaos = self.chaos
        with self._lock:
            roll = self._rng.random()
            after = self._rng.random() < 0.5
        for kind, share in (("server_error", chaos.server_error), ("throttle", chaos.throttle), ("drop", chaos.drop), ("slow", chaos.slow)):
            if roll < share:
                return f"drop_{'after' if after else 'before'}" if kind == "drop" else kind
            roll -= share
        return None

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _forward(self, request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        # the path as the client sent it (still percent-encoded), so the target sees exactly what was signed
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
        upstream = self._session().request(
            request.method, f"{self.target}{raw}", headers=headers, data=request.get_data(), allow_redirects=False, timeout=self.timeout,
        )
        with self._lock:
            self.forwarded += 1
        reply_headers = [(k, v) for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP]
        return Response(upstream.content, status=upstream.status_code, headers=reply_headers)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        fault = self._roll()
        if fault is not None:
            with self._lock:
                self.injected[fault] += 1
        if fault == "server_error":
            response = Response('{"message": "chaos proxy: service unavailable"}', status=503, content_type="application/json")
        elif fault == "throttle":
            response = Response('{"message": "chaos proxy: too many requests"}', status=429, content_type="application/json")
            if self.chaos.retry_after is not None:
                response.headers["Retry-After"] = str(self.chaos.retry_after)
        elif fault == "drop_before":
            drop_connection(environ)
            raise AssertionError("unreachable")  # pragma: no cover - drop_connection raises
        else:
            response = self._forward(request)
            if fault == "drop_after":
                drop_connection(environ)
            if fault == "slow":
                response = trickle(response, self.chaos.slow_seconds)
        return response(environ, start_response)


__all__ = ["Chaos", "ChaosProxy"]
