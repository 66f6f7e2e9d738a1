"""Run a WSGI app on a background werkzeug server with HTTP/1.1 keep-alive."""

from __future__ import annotations

import io
import socket
import threading
import traceback
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1 handler with persistent connections and no per-request logging.

    werkzeug's own handler closes every connection; this one buffers each request body before the
    app runs (so the stream is always positioned at the next request line) and keeps the connection
    open unless the client asked to close it or the app dropped it.
    """

    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections are closed after this many seconds

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        if environ.pop("wsgi.input_terminated", False):
            body = environ["wsgi.input"].read()
        else:
            length = environ.get("CONTENT_LENGTH") or "0"
            body = self.rfile.read(int(length)) if length.isdigit() and int(length) > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))

        state: dict[str, Any] = {"status": None, "headers": None, "sent": False, "chunked": False}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            if exc_info and state["sent"]:
                raise exc_info[1].with_traceback(exc_info[2])
            state["status"], state["headers"] = status, headers
            return write

        def send_headers() -> None:
            code_str, _, msg = str(state["status"]).partition(" ")
            code = int(code_str)
            self.send_response(code, msg)
            keys = set()
            for key, value in state["headers"] or []:
                self.send_header(key, value)
                keys.add(key.lower())
            if "content-length" not in keys and code not in (204, 304) and not 100 <= code < 200:
                state["chunked"] = True
                self.send_header("Transfer-Encoding", "chunked")
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            state["sent"] = True

        def write(data: bytes) -> None:
            if not state["sent"]:
                send_headers()
            if data:
                if state["chunked"]:
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                else:
                    self.wfile.write(data)

        try:
            iterable = self.server.app(environ, start_response)
            try:
                for chunk in iterable:
                    write(chunk)
                if not state["sent"]:
                    send_headers()
                if state["chunked"]:
                    self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            finally:
                close = getattr(iterable, "close", None)
                if close is not None:
                    close()
        except (TimeoutError, ConnectionError):
            self.close_connection = True
        except Exception:  # pragma: no cover - defensive
            self.close_connection = True
            traceback.print_exc()
            if not state["sent"]:
                try:
                    self.send_response(500, "Internal Server Error")
                    self.send_header("Content-Length", "0")
                    self.send_header("Connection", "close")
                    self.end_headers()
                except OSError:
                    pass


class DropConnection(ConnectionAbortedError):
    """Raised by an app after it shut the client socket down, to end the request silently."""


def drop_connection(environ: dict[str, Any]) -> None:
    """Shut down the client connection of this request and abort the response."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise DropConnection("connection dropped by fault injection")


class ServerThread:
    """Owns one werkzeug server running in a daemon thread."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url: str | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._server is not None:
            raise RuntimeError("server already started")
        server = make_server(host, port, self.app, threaded=True, request_handler=KeepAliveHandler)
        # Idle keep-alive connections must not block shutdown.
        server.block_on_close = False  # type: ignore[attr-defined]
        server.daemon_threads = True  # type: ignore[attr-defined]
        self._server = server
        bound_port = server.socket.getsockname()[1]
        shown_host = host if host not in ("0.0.0.0", "") else "127.0.0.1"
        self.url = f"http://{shown_host}:{bound_port}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="crm-emulator", daemon=True)
        self._thread.start()
        return self.url

    def serve_forever(self, host: str = "127.0.0.1", port: int = 0, on_ready: Callable[[str], None] | None = None) -> None:
        """Run in the calling thread until interrupted."""
        server = make_server(host, port, self.app, threaded=True, request_handler=KeepAliveHandler)
        server.block_on_close = False  # type: ignore[attr-defined]
        server.daemon_threads = True  # type: ignore[attr-defined]
        self._server = server
        bound_port = server.socket.getsockname()[1]
        shown_host = host if host not in ("0.0.0.0", "") else "127.0.0.1"
        self.url = f"http://{shown_host}:{bound_port}"
        if on_ready:
            on_ready(self.url)
        try:
            server.serve_forever()
        finally:
            server.server_close()
            self._server = None

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
