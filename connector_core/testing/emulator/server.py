"""Serving an emulator on loopback: a keep-alive request handler, a server thread, dropped connections.

werkzeug's development handler closes every connection after one reply, which hides the connection
reuse (and the stale-connection failures) a real API client sees. :class:`KeepAliveHandler` reads each
request body in full before the app runs, writes every reply with a ``Content-Length`` and keeps the
connection open unless the client, the app (a ``Connection: close`` header) or a dropped connection
ends it. :class:`EmulatorServer` runs an app with it in a daemon thread.
"""

from __future__ import annotations

import io
import socket
import ssl
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

#: A WSGI application.
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DropConnection(ConnectionAbortedError):
    """Raised inside an app to end the request without a reply; the server closes the socket."""


def drop_connection(environ: dict[str, Any], *, reset: bool = True) -> None:
    """Shut this request's client connection down and abort the reply (raises :class:`DropConnection`).

    Args:
        environ: The request's WSGI environ (werkzeug puts the socket in ``werkzeug.socket``).
        reset: Close with a TCP reset (the client sees "connection reset"); False closes normally
            (the client sees the connection end before a reply).
    """
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        if reset:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise DropConnection("connection dropped by fault injection")


@dataclass(frozen=True)
class CrashReply:
    """The 500 sent when an app raises instead of answering (the API's own error body, if it has one)."""

    body: bytes = b""
    content_type: str | None = None


class _Server(ThreadedWSGIServer):
    """A threaded werkzeug server that knows its open connections (to close idle ones on stop)."""

    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up shutdown

    def __init__(self, host: str, port: int, app: WSGIApp, crash_reply: CrashReply,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(host, port, app, handler=KeepAliveHandler, ssl_context=ssl_context)
        self.open_connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        self.crash_reply = crash_reply


class KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1 handler with persistent connections, quiet logs and a connection-drop hook."""

    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: _Server

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        with self.server.conn_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.conn_lock:
            self.server.open_connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Quiet: request logging costs time that benchmarks measure."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet."""

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH")
        if environ.pop("wsgi.input_terminated", False):
            body = stream.read()
        elif length and length.isdigit():
            body = stream.read(int(length))
        else:
            body = b""
        # The body is now read (and de-chunked) in full, so the stream sits at the next request line.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)

        state: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info and state.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            state["status"], state["headers"] = status, headers
            return lambda data: state.setdefault("early", []).append(data)

        try:
            result = self.server.app(environ, start_response)
            try:
                self._send(environ, state, result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
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
            if not state.get("sent"):
                self._crash_reply()
            traceback.print_exc()

    def _crash_reply(self) -> None:
        reply = self.server.crash_reply
        try:
            self.send_response(500)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            pass

    def _send(self, environ: dict[str, Any], state: dict[str, Any], result: Iterable[bytes]) -> None:
        iterator = iter(result)
        headers: list[tuple[str, str]] = state["headers"]
        lower = {k.lower(): v for k, v in headers}
        code_text, _, reason = str(state["status"]).partition(" ")
        code = int(code_text)
        streamed = "content-length" in lower
        body = b""
        if not streamed:  # no length given: buffer the body so the connection can stay open
            body = b"".join(state.get("early", [])) + b"".join(iterator)
            if code not in (204, 304) and environ["REQUEST_METHOD"] != "HEAD":
                headers = [*headers, ("Content-Length", str(len(body)))]
        close = (
            lower.get("connection", "").lower() == "close"
            or self.headers.get("Connection", "").lower() == "close"
            or self.request_version != "HTTP/1.1"
        )
        state["sent"] = True
        self.send_response(code, reason)
        for key, value in headers:
            if key.lower() != "connection":
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


class EmulatorServer:
    """Serves one WSGI app from a daemon thread; a context manager, and a base class for emulators.

    Example::

        with EmulatorServer(app) as server:
            requests.get(server.url + "/ping")

    Args:
        app: The WSGI application to serve (usually ``control.mount(api_app)``).
        name: The server thread's name.
        crash_reply: What to send when the app raises (default: an empty 500).
    """

    def __init__(self, app: WSGIApp, *, name: str = "emulator", crash_reply: CrashReply | None = None) -> None:
        self.wsgi_app = app
        self.thread_name = name
        self.crash_reply = crash_reply or CrashReply()
        self.url: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def open_connections(self) -> set[socket.socket]:
        """Client connections currently open (a copy)."""
        if self._server is None:
            return set()
        with self._server.conn_lock:
            return set(self._server.open_connections)

    def start(self, host: str = "127.0.0.1", port: int = 0, *, ssl_context: ssl.SSLContext | None = None) -> str:
        """Serve in a daemon thread; returns the base URL (e.g. ``http://127.0.0.1:54321``).

        Port 0 picks a free port. With ``ssl_context`` (a server-side context holding a certificate) it
        serves HTTPS, for clients that only speak ``https://``.
        """
        if self._server is not None:
            raise RuntimeError(f"{self.thread_name} already started at {self.url}")
        server = _Server(host, port, self.wsgi_app, self.crash_reply, ssl_context)
        self._server = server
        shown_host = host if host not in ("0.0.0.0", "") else "127.0.0.1"
        scheme = "https" if ssl_context is not None else "http"
        self.url = f"{scheme}://{shown_host}:{server.server_port}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        return self.url

    def wait(self) -> None:
        """Block until the server thread ends (:meth:`stop` from another thread, or Ctrl-C here)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def serve_forever(self, host: str = "127.0.0.1", port: int = 0,
                      on_ready: Callable[[str], None] | None = None) -> None:
        """Start, call ``on_ready(url)``, and serve until interrupted (KeyboardInterrupt propagates)."""
        url = self.start(host, port)
        try:
            if on_ready is not None:
                on_ready(url)
            self.wait()
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving and close the open (idle keep-alive) connections. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with server.conn_lock:
            conns = list(server.open_connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> Self:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
