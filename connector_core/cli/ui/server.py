"""Serving the dashboard with Werkzeug's threaded server, its request log without query strings (the
sign-in URL carries the token)."""

from __future__ import annotations

import logging
import socket
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from connector_core.cli.ui.app import Dashboard

log = logging.getLogger("connector_core.ui")


class QuietRequestHandler(WSGIRequestHandler):
    """One log line per request, at info level, naming the path but never its query."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        log.info("%s %s %s", self.command, path, code)

    def log_error(self, format: str, *args: Any) -> None:
        log.warning("request failed: %s", format % args)


def dashboard_server(dashboard: Dashboard, host: str, port: int) -> BaseWSGIServer:
    """A threaded server for ``dashboard`` bound to ``host:port`` (port 0: any free one); OSError when
    the address cannot be bound.

    The socket is bound here and handed over: Werkzeug's server, binding it itself, would print its own
    message and exit instead of raising.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as bound:
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bound.bind((host, port))
        bound.listen(128)
        return make_server(host, port, dashboard, threaded=True, request_handler=QuietRequestHandler, fd=bound.fileno())


def bound_port(server: BaseWSGIServer) -> int:
    """The port ``server`` listens on (the one the system chose for port 0)."""
    return int(server.socket.getsockname()[1])


__all__ = ["QuietRequestHandler", "bound_port", "dashboard_server"]
