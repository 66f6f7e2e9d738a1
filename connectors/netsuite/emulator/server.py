"""Serving the emulator: a keep-alive werkzeug request handler and :class:`NetSuiteEmulator`.

werkzeug's development handler closes every connection; NetSuite keeps successful replies
alive and closes after errors, so this handler reads each request body in full, writes replies
with a Content-Length, and closes only when the reply says ``Connection: close``.
"""

from __future__ import annotations

import io
import socket
import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import EmulatorApp
from .control import credentials
from .faults import FaultRegistry
from .responses import DropConnection
from .settings import EmulatorSettings


class KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1 handler with persistent connections and a connection-drop hook."""

    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections are closed after this many seconds

    def setup(self) -> None:
        super().setup()
        conns = getattr(self.server, "open_connections", None)
        if conns is not None:
            with self.server.conn_lock:  # type: ignore[attr-defined]
                conns.add(self.connection)

    def finish(self) -> None:
        conns = getattr(self.server, "open_connections", None)
        if conns is not None:
            with self.server.conn_lock:  # type: ignore[attr-defined]
                conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Quiet: request logging costs time the benchmarks measure."""

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH")
        if environ.get("wsgi.input_terminated"):
            body = stream.read()
        elif length:
            body = stream.read(int(length))
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body is now de-chunked with a known length

        state: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            state["status"] = status
            state["headers"] = headers
            return lambda data: state.setdefault("early", []).append(data)

        try:
            result = self.server.app(environ, start_response)
            try:
                self._send(environ, state, result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except DropConnection:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # noqa: BLE001 - last resort: a 500 instead of a dead socket
            self.close_connection = True
            if "sent" not in state:
                payload = (b'{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1",'
                           b'"title":"Internal Server Error","status":500,"o:errorDetails":[{"detail":'
                           b'"An unexpected error occurred.","o:errorCode":"UNEXPECTED_ERROR"}]}')
                self.send_response(500)
                self.send_header("Content-Type", "application/vnd.oracle.resource+json; type=error; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload)
            import traceback

            traceback.print_exc()

    def _send(self, environ: dict[str, Any], state: dict[str, Any], result: Any) -> None:
        iterator = iter(result)
        headers: list[tuple[str, str]] = state["headers"]
        lower = {k.lower(): v for k, v in headers}
        code = int(state["status"].split(None, 1)[0])
        streamed = "content-length" in lower
        if not streamed:
            body = b"".join(state.get("early", [])) + b"".join(iterator)
            if code not in (204, 304) and environ["REQUEST_METHOD"] != "HEAD":
                headers = [*headers, ("Content-Length", str(len(body)))]
        close = (
            lower.get("connection", "").lower() == "close"
            or self.headers.get("Connection", "").lower() == "close"
            or self.request_version != "HTTP/1.1"
        )
        state["sent"] = True
        self.send_response(code, state["status"].split(None, 1)[1] if " " in state["status"] else "")
        for key, value in headers:
            if key.lower() == "connection":
                continue
            self.send_header(key, value)
        self.send_header("Connection", "close" if close else "keep-alive")
        self.end_headers()
        if streamed:
            for chunk in iterator:
                if chunk:
                    self.wfile.write(chunk)
                    self.wfile.flush()
        elif body and environ["REQUEST_METHOD"] != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()
        if close:
            self.close_connection = True


class NetSuiteEmulator:
    """A running (or startable) emulated NetSuite account.

    Example::

        with NetSuiteEmulator(EmulatorSettings(customers=500)) as emu:
            requests.post(emu.url + "/services/rest/query/v1/suiteql", ...)
    """

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self.settings = settings or EmulatorSettings()
        self.app = EmulatorApp(self.settings)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the base URL (e.g. ``http://127.0.0.1:54321``)."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        server = make_server(host, port, self.app, threaded=True, request_handler=KeepAliveHandler)
        server.open_connections = set()  # type: ignore[attr-defined]
        server.conn_lock = threading.Lock()  # type: ignore[attr-defined]
        server.daemon_threads = True  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="netsuite-emulator", daemon=True)
        self._thread.start()
        self.url = f"http://{host}:{server.server_port}"
        return self.url

    def serve_forever_started(self) -> None:
        """Block until the (already started) server thread ends, e.g. on Ctrl-C (used by the CLI)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        """Stop serving and close idle keep-alive connections."""
        server = self._server
        if server is None:
            return
        server.shutdown()
        with server.conn_lock:  # type: ignore[attr-defined]
            conns = list(server.open_connections)  # type: ignore[attr-defined]
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None
        self._thread = None

    def __enter__(self) -> NetSuiteEmulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ conveniences

    @property
    def faults(self) -> FaultRegistry:
        return self.app.faults

    def advance_time(self, seconds: float) -> None:
        """Move the emulated clock (token expiry, TBA skew, lastModifiedDate)."""
        self.settings.clock.advance(seconds)

    def reset(self) -> None:
        """Reseed data and clear tokens, nonces, jobs, faults and stats."""
        self.app.reset()

    def stats(self, recent: int = 50) -> dict[str, Any]:
        return self.app.stats.snapshot(recent)

    def credentials(self) -> dict[str, Any]:
        return credentials(self.app, self.url or "")

    def issue_access_token(self, scopes: frozenset[str] | None = None) -> str:
        """A valid bearer token without running an OAuth flow."""
        return self.app.oauth2.issue_access_token(scopes=scopes)

    def suiteql(self, q: str, limit: int = 1000, offset: int = 0) -> list[dict[str, str]]:
        """Run SuiteQL directly (no auth, no governance); rows as the API would return them."""
        return self.app.suiteql.run(q, limit, offset).items

    def get_record(self, record_type: str, record_id: int | str) -> dict[str, Any]:
        """A record as the record API serialises it (sublists expanded)."""
        recs = self.app.records
        rt = recs.record_type(record_type)
        rid = recs.resolve_id(rt, str(record_id))
        return recs.serialize(rt, recs.load(rt, rid), self.url or "", expand=True)

    def insert_record(self, record_type: str, body: dict[str, Any]) -> int:
        """Create a record through the record API's rules; returns its internal id."""
        from .records import Validation

        recs = self.app.records
        return recs.create(recs.record_type(record_type), body, Validation()).id
