"""Emulator kit: the plumbing of a local, stateful look-alike of an API, for tests, demos and benchmarks.

An emulator is three things: a WSGI app that speaks the API (the part only you can write), a control
API that tests drive it with, and a server that runs both on loopback. The kit supplies everything but
the first:

* :class:`EmulatorServer`: serves a WSGI app from a daemon thread with HTTP/1.1 keep-alive (clients
  reuse connections as they would against the real API); a context manager and a base class.
* :class:`FaultRegistry` and :func:`apply_faults`: inject 4xx/5xx replies, latency, dropped
  connections and slow bodies on demand, before or after the real handler runs.
* :class:`RequestStats`: counts by route, status and any tag (auth method...), in-flight requests
  with an optional concurrency limit, a log of recent requests.
* :class:`ControlAPI`: ``/_emulator/`` endpoints for faults, stats and reset, plus your own routes
  (seeding data, issuing tokens...), mounted in front of the app so they are never faulted or counted.
* :class:`Clock` (time that tests move with ``advance``), :class:`RollingWindow` and
  :class:`DailyCounter` (rate limits).

A minimal emulator::

    from werkzeug.wrappers import Request, Response
    from connector_core.testing.emulator import (
        ControlAPI, EmulatorServer, FaultRegistry, RequestStats, apply_faults)

    class ShopApp:
        def __init__(self) -> None:
            self.faults, self.stats, self.orders = FaultRegistry(), RequestStats(), {}

        def __call__(self, environ, start_response):
            request = Request(environ)
            plan = self.faults.plan(request.method, request.path)
            self.stats.count_faults(len(plan.applied))
            response = apply_faults(plan, environ, lambda: self.handle(request),
                                    lambda fault: Response(status=fault.status))
            self.stats.record("orders", response.status_code, method=request.method, path=request.path)
            return response(environ, start_response)

        def handle(self, request: Request) -> Response: ...   # the API itself

    class ShopEmulator(EmulatorServer):
        def __init__(self) -> None:
            self.app = ShopApp()
            self.control = ControlAPI(self.app.faults, self.app.stats, lambda body: self.app.orders.clear())

            @self.control.route("/orders", methods=["POST"])
            def seed(call):
                self.app.orders.update(call.object_body())
                return self.control.reply({"ok": True}, 201)

            super().__init__(self.control.mount(self.app), name="shop-emulator")

    with ShopEmulator() as emu:              # emu.url is e.g. http://127.0.0.1:54321
        emu.app.faults.add("status", status=503, count=2)
        requests.post(emu.url + "/_emulator/faults", json={"kind": "drop", "when": "after"})

Keep the emulator's protocol app free of control-API imports: the emulator class (or a small
``control`` module it imports) wires the two together, so the app never depends on its test hooks.
The NetSuite and HubSpot emulators in ``connectors/`` are complete examples.
"""

from .clock import Clock
from .control import ControlAPI, ControlHandler, ControlRequest, ControlStyle
from .faults import FAULT_KINDS, Fault, FaultKind, FaultPlan, FaultRegistry, FaultWhen, apply_faults, trickle
from .ratewindow import DailyCounter, RollingWindow
from .server import CrashReply, DropConnection, EmulatorServer, KeepAliveHandler, WSGIApp, drop_connection
from .stats import RequestStats

__all__ = [
    "FAULT_KINDS",
    "Clock",
    "ControlAPI",
    "ControlHandler",
    "ControlRequest",
    "ControlStyle",
    "CrashReply",
    "DailyCounter",
    "DropConnection",
    "EmulatorServer",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultRegistry",
    "FaultWhen",
    "KeepAliveHandler",
    "RequestStats",
    "RollingWindow",
    "WSGIApp",
    "apply_faults",
    "drop_connection",
    "trickle",
]
