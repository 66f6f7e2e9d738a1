"""The emulator kit: faults, stats, clock, rate windows, the control API, and the server over loopback."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from connector_core.testing.emulator import (
    Clock,
    ControlAPI,
    ControlRequest,
    ControlStyle,
    CrashReply,
    DailyCounter,
    DropConnection,
    EmulatorServer,
    FaultRegistry,
    RequestStats,
    RollingWindow,
    apply_faults,
    drop_connection,
    trickle,
)

# --- a tiny emulator built the way the package docstring shows -----------------------------------


class NotesApp:
    """A notes API: GET /notes lists them, POST /notes adds one, GET /crash raises."""

    def __init__(self) -> None:
        self.faults = FaultRegistry()
        self.stats = RequestStats(tallies=("client",))
        self.notes: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        plan = self.faults.plan(request.method, request.path)
        self.stats.count_faults(len(plan.applied))
        try:
            response = apply_faults(plan, environ, lambda: self.handle(request),
                                    lambda fault: Response(b"injected", status=fault.status))
        except DropConnection:
            self.stats.record("notes", 0, method=request.method, path=request.path)
            raise
        self.stats.record("notes", response.status_code, method=request.method, path=request.path,
                          tags={"client": request.headers.get("X-Client")})
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.path == "/crash":
            raise RuntimeError("emulator bug")
        if request.method == "POST":
            self.notes.append(request.get_data(as_text=True))
            return Response(status=201)
        return Response("\n".join(self.notes), content_type="text/plain")


class NotesEmulator(EmulatorServer):
    def __init__(self) -> None:
        self.app = NotesApp()
        self.control = ControlAPI(self.app.faults, self.app.stats, lambda body: self.app.notes.clear())

        @self.control.route("/notes", methods=["POST"])
        def seed(call: ControlRequest) -> Response:
            self.app.notes.extend(call.object_body()["notes"])
            return self.control.reply({"count": len(self.app.notes)}, 201)

        super().__init__(self.control.mount(self.app), name="notes-emulator",
                         crash_reply=CrashReply(b'{"oops": true}', "application/json"))


@pytest.fixture
def emu() -> Iterator[NotesEmulator]:
    with NotesEmulator() as emulator:
        yield emulator


def _url(emu: EmulatorServer, path: str) -> str:
    assert emu.url
    return emu.url + path


# --- faults -------------------------------------------------------------------------------------------


class TestFaultRegistry:
    def test_add_uses_the_registry_defaults(self) -> None:
        fault = FaultRegistry(path_prefix="/api/", count=None, status=503, seconds=0.0).add("status")
        assert (fault.path_prefix, fault.count, fault.status, fault.id) == ("/api/", None, 503, 1)
        assert FaultRegistry().add("drop", method="get").to_dict()["method"] == "GET"

    @pytest.mark.parametrize("kwargs, words", [
        ({"kind": "bogus"}, "unknown fault kind 'bogus'; known: status, latency, drop, slow"),
        ({"kind": "status", "status": 200}, "must be 4xx or 5xx, got 200"),
        ({"kind": "latency", "seconds": 0}, "needs seconds > 0"),
        ({"kind": "drop", "count": 0}, "at least 1 or None, got 0"),
        ({"kind": "drop", "when": "later"}, "'before' or 'after'"),
    ])
    def test_bad_rules_are_refused_with_the_reason(self, kwargs: dict[str, Any], words: str) -> None:
        with pytest.raises(ValueError, match=words):
            FaultRegistry().add(**kwargs)

    def test_plan_sums_latency_and_takes_one_action(self) -> None:
        faults = FaultRegistry(count=None)
        faults.add("latency", seconds=0.2)
        faults.add("latency", seconds=0.3, path_prefix="/a")
        first = faults.add("status", status=503, count=1)
        faults.add("drop")
        plan = faults.plan("GET", "/a/b")
        assert plan.latency == pytest.approx(0.5) and plan.action is first and len(plan.applied) == 3
        assert first not in faults.list() and faults.plan("GET", "/a").action.kind == "drop"  # type: ignore[union-attr]
        assert faults.fired_by_kind == {"status": 1, "latency": 4, "drop": 1, "slow": 0}

    def test_method_and_prefix_scope_a_rule(self) -> None:
        faults = FaultRegistry()
        faults.add("status", method="POST", path_prefix="/orders")
        assert faults.plan("GET", "/orders").action is None
        assert faults.plan("POST", "/customers").action is None
        assert faults.plan("POST", "/orders/1").action is not None

    def test_remove_clear_and_reset(self) -> None:
        faults = FaultRegistry(count=None)
        one = faults.add("status")
        faults.add("drop")
        assert faults.remove(one.id) and not faults.remove(one.id)
        faults.plan("GET", "/")
        faults.clear()
        assert faults.list() == [] and faults.fired_by_kind["drop"] == 1
        faults.reset()
        assert faults.fired_by_kind["drop"] == 0


class TestApplyFaults:
    @staticmethod
    def _plan(**kwargs: Any) -> Any:
        faults = FaultRegistry()
        faults.add(**kwargs)
        return faults.plan("GET", "/")

    def test_status_before_skips_the_handler_and_after_runs_it(self) -> None:
        ran: list[bool] = []

        def handle() -> Response:
            ran.append(True)
            return Response("real")

        def reply(fault: Any) -> Response:
            return Response("fault", status=fault.status)

        before = apply_faults(self._plan(kind="status", status=502), {}, handle, reply)
        assert before.status_code == 502 and ran == []
        after = apply_faults(self._plan(kind="status", status=502, when="after"), {}, handle, reply)
        assert after.status_code == 502 and ran == [True]

    def test_drop_raises_after_the_handler_when_asked(self) -> None:
        ran: list[bool] = []
        with pytest.raises(DropConnection):
            apply_faults(self._plan(kind="drop", when="after"), {}, lambda: ran.append(True) or Response(),
                         lambda fault: Response())
        assert ran == [True]

    def test_trickle_keeps_headers_and_body(self) -> None:
        slow = trickle(Response(b"x" * 100, headers={"X-Id": "7"}), 0.2)
        start = time.monotonic()
        assert b"".join(slow.response) == b"x" * 100  # type: ignore[arg-type]
        assert time.monotonic() - start >= 0.19
        assert slow.headers["Content-Length"] == "100" and slow.headers["X-Id"] == "7"

    def test_drop_connection_without_a_socket_still_aborts(self) -> None:
        with pytest.raises(DropConnection):
            drop_connection({})


# --- stats, clock, rate windows ----------------------------------------------------------------------


class TestRequestStats:
    def test_record_counts_routes_statuses_tags_and_recent(self) -> None:
        stats = RequestStats(tallies=("auth",), keep=2)
        stats.record("list", 200, method="GET", path="/a", tags={"auth": "token"})
        stats.record("list", 429, tags={"auth": None})
        stats.record("get", 0, path="/c")
        stats.tally("policy", "daily")
        stats.count_faults(2)
        snap = stats.snapshot(recent=5)
        assert snap["total"] == 3 and snap["by_route"] == {"list": 2, "get": 1}
        assert snap["by_status"] == {"200": 1, "429": 1, "0": 1}
        assert snap["by_auth"] == {"token": 1} and snap["by_policy"] == {"daily": 1} and snap["faults"] == 2
        assert [r["path"] for r in snap["recent"]] == ["", "/c"]
        stats.reset()
        assert stats.snapshot()["total"] == 0 and stats.snapshot()["by_auth"] == {}

    def test_enter_refuses_beyond_the_limit(self) -> None:
        stats = RequestStats()
        assert stats.enter(2) and stats.enter(2) and not stats.enter(2)
        stats.leave()
        assert stats.enter(None)
        snap = stats.snapshot()
        assert (snap["in_flight"], snap["max_in_flight"], snap["peak_attempted"], snap["rejected_concurrency"]) \
            == (2, 2, 3, 1)


class TestClock:
    def test_advance_freeze_and_reset(self) -> None:
        clock = Clock(start_time=1_000.0, frozen=True)
        assert clock.now() == 1_000.0 and clock.now_ms() == 1_000_000
        assert clock.advance(60) == 1_060.0
        clock.reset()
        assert clock.now() == 1_000.0

    def test_a_wall_clock_moves_and_unfreezes(self) -> None:
        clock = Clock()
        clock.advance(3600)
        assert clock.now() - time.time() == pytest.approx(3600, abs=1)
        clock.freeze()
        frozen = clock.now()
        time.sleep(0.01)
        assert clock.now() == frozen
        clock.unfreeze()
        clock.reset()
        assert clock.now() == pytest.approx(time.time(), abs=1)


class TestRateWindows:
    def test_rolling_window_admits_limit_per_window(self) -> None:
        window = RollingWindow(2, 10.0)
        assert window.try_acquire(0.0) == (True, 1, 0.0)
        assert window.try_acquire(1.0)[0] and window.try_acquire(2.0) == (False, 0, 8.0)
        assert window.remaining(10.5) == 1
        window.clear()
        assert window.remaining(10.5) == 2

    def test_daily_counter_resets_at_midnight(self) -> None:
        daily = DailyCounter(1)
        assert daily.try_acquire(10.0) == (True, 0) and daily.try_acquire(20.0) == (False, 0)
        assert daily.try_acquire(86_400.0) == (True, 0)


# --- control API (in process) ------------------------------------------------------------------------


class TestControlAPI:
    @staticmethod
    def _client(style: ControlStyle | None = None) -> tuple[Client, NotesApp]:
        app = NotesApp()
        control = ControlAPI(app.faults, app.stats, lambda body: app.notes.clear(), style=style,
                             health=lambda: {"name": "notes"},
                             errors={LookupError: lambda exc: Response("gone", status=410)})

        @control.route("/boom/<kind>", methods=["GET"])
        def boom(call: ControlRequest) -> Response:
            raise {"value": ValueError("bad value"), "lookup": IndexError("nope")}[call.args["kind"]]

        return Client(control.mount(app)), app

    def test_default_style(self) -> None:
        client, app = self._client()
        assert client.get("/_emulator/health").json == {"ok": True, "name": "notes"}
        added = client.post("/_emulator/faults", json={"kind": "status", "status": 503})
        assert added.status_code == 201 and added.json["status"] == 503  # type: ignore[index]
        batch = client.post("/_emulator/faults", json=[{"kind": "drop"}, {"kind": "latency", "seconds": 1}])
        assert [f["kind"] for f in batch.json["results"]] == ["drop", "latency"]  # type: ignore[index]
        assert len(client.get("/_emulator/faults").json["results"]) == 3  # type: ignore[index]
        assert client.delete("/_emulator/faults/1").status_code == 204
        assert client.delete("/_emulator/faults/1").status_code == 404
        assert client.delete("/_emulator/faults").status_code == 204 and app.faults.list() == []
        assert client.post("/_emulator/reset").json == {"ok": True}

    def test_errors_are_400_404_or_rendered(self) -> None:
        client, _ = self._client()
        assert client.post("/_emulator/faults", json={"kind": "nope"}).json == {
            "error": "unknown fault kind 'nope'; known: status, latency, drop, slow"}
        assert client.post("/_emulator/faults", json={"kind": "drop", "colour": "red"}).status_code == 400
        assert client.post("/_emulator/faults", data="{not json").json == {"error": "body must be JSON"}
        assert client.get("/_emulator/boom/value").json == {"error": "bad value"}
        assert client.get("/_emulator/boom/lookup").status_code == 410
        missing = client.get("/_emulator/nowhere")
        assert missing.status_code == 404 and missing.json == {"error": "unknown control route GET /_emulator/nowhere"}

    def test_a_style_rewords_the_replies(self) -> None:
        style = ControlStyle(content_type="application/json;charset=utf-8", list_key=None, acknowledge="ok",
                             reset_reply={"status": "reset"}, error=lambda m: {"status": "error", "message": m},
                             fault_json=lambda f: {"kind": f.kind, "served": f.fired})
        client, _ = self._client(style)
        assert client.post("/_emulator/faults", json={"kind": "drop"}).json == {"kind": "drop", "served": 0}
        listed = client.get("/_emulator/faults")
        assert listed.json == [{"kind": "drop", "served": 0}]
        assert listed.headers["Content-Type"] == "application/json;charset=utf-8"
        assert client.delete("/_emulator/faults/9").json == {"removed": False}
        assert client.delete("/_emulator/faults").json == {"ok": True}
        assert client.post("/_emulator/reset").json == {"status": "reset"}
        assert client.get("/_emulator/x").json == {"status": "error", "message": "unknown control route GET /_emulator/x"}

    def test_stats_are_served_and_reset(self) -> None:
        client, app = self._client()
        client.get("/notes", headers={"X-Client": "a"})
        assert client.get("/_emulator/stats?recent=1").json["by_client"] == {"a": 1}  # type: ignore[index]
        assert client.post("/_emulator/stats/reset").status_code == 204 and app.stats.total == 0


# --- the server, over real loopback HTTP -------------------------------------------------------------


class TestEmulatorServer:
    def test_requests_reuse_one_keep_alive_connection(self, emu: NotesEmulator) -> None:
        session = requests.Session()
        for i in range(5):
            assert session.post(_url(emu, "/notes"), data=f"note {i}").status_code == 201
        reply = session.get(_url(emu, "/notes"))
        assert reply.text.splitlines() == [f"note {i}" for i in range(5)]
        assert reply.headers["Connection"] == "keep-alive" and len(emu.open_connections) == 1

    def test_chunked_request_bodies_are_read_in_full(self, emu: NotesEmulator) -> None:
        session = requests.Session()
        assert session.post(_url(emu, "/notes"), data=iter([b"part one, ", b"part two"])).status_code == 201
        assert session.get(_url(emu, "/notes")).text == "part one, part two"

    def test_dropped_connection_then_recovery(self, emu: NotesEmulator) -> None:
        emu.app.faults.add("drop")
        session = requests.Session()
        with pytest.raises(requests.ConnectionError):
            session.get(_url(emu, "/notes"))
        assert session.get(_url(emu, "/notes")).status_code == 200
        assert emu.app.stats.snapshot()["by_status"] == {"0": 1, "200": 1}

    def test_drop_after_the_handler_keeps_the_write(self, emu: NotesEmulator) -> None:
        requests.post(_url(emu, "/_emulator/faults"), json={"kind": "drop", "when": "after", "method": "POST"})
        with pytest.raises(requests.ConnectionError):
            requests.post(_url(emu, "/notes"), data="kept")
        assert emu.app.notes == ["kept"]

    def test_status_fault_and_control_routes(self, emu: NotesEmulator) -> None:
        requests.post(_url(emu, "/_emulator/notes"), json={"notes": ["a", "b"]})
        requests.post(_url(emu, "/_emulator/faults"), json={"kind": "status", "status": 503, "path_prefix": "/"})
        assert requests.get(_url(emu, "/_emulator/health")).status_code == 200  # the control API is never faulted
        assert requests.get(_url(emu, "/notes")).status_code == 503
        assert requests.get(_url(emu, "/notes")).text == "a\nb"
        assert requests.get(_url(emu, "/_emulator/stats")).json()["faults"] == 1

    def test_slow_body(self, emu: NotesEmulator) -> None:
        emu.app.notes.append("x" * 200)
        emu.app.faults.add("slow", seconds=0.4)
        with requests.get(_url(emu, "/notes"), stream=True) as reply:
            headers_at = time.monotonic()  # the headers came at once; the body is spread over the 0.4 s after them
            assert len(reply.content) == 200
        assert time.monotonic() - headers_at >= 0.3

    def test_an_app_crash_answers_the_crash_reply(self, emu: NotesEmulator) -> None:
        reply = requests.get(_url(emu, "/crash"))
        assert reply.status_code == 500 and reply.json() == {"oops": True}
        assert reply.headers["Connection"] == "close"

    def test_start_twice_is_refused_and_stop_frees_the_port(self) -> None:
        server = NotesEmulator()
        url = server.start()
        with pytest.raises(RuntimeError, match="already started"):
            server.start()
        idle = requests.Session()
        idle.get(url + "/notes")
        server.stop()
        server.stop()
        port = int(url.rsplit(":", 1)[1])
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0
