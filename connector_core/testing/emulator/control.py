"""The control API: unauthenticated HTTP endpoints under ``/_emulator/`` that tests drive an emulator with.

:class:`ControlAPI` serves the routes every emulator shares and routes an emulator adds for itself
(seeding records, issuing tokens, moving its clock...). :meth:`ControlAPI.mount` puts it in front of
the emulated API, so control requests never meet the API's faults, auth, limits or stats.

Shared routes (under the prefix, ``/_emulator`` by default):

    GET    /health              {"ok": true, ...}
    GET    /stats?recent=N      request counters (the emulator may shape them)
    POST   /stats/reset         zero the counters
    GET    /faults              active fault rules
    POST   /faults              {"kind": "status", "status": 503, "count": 2, ...} or a list of them
    DELETE /faults              remove every rule
    DELETE /faults/<id>         remove one rule
    POST   /reset               back to the seeded state (the emulator decides what that means)

How replies are worded (list envelopes, 204 or ``{"ok": true}``, error bodies) is a
:class:`ControlStyle`, so an emulator can keep the shapes its tests and users already rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .faults import Fault, FaultRegistry
from .server import WSGIApp
from .stats import RequestStats


def _error_body(message: str) -> dict[str, Any]:
    return {"error": message}


@dataclass(frozen=True)
class ControlStyle:
    """How a control API words its replies; the defaults suit a new emulator.

    Attributes:
        content_type: Content type of JSON replies.
        list_key: Lists (of faults) come as ``{list_key: [...]}``; None sends the bare list.
        acknowledge: Replies that only confirm (clearing faults, resetting stats): ``"no_content"``
            sends 204 (and 204/404 for removing one fault), ``"ok"`` sends ``{"ok": true}`` (and
            ``{"removed": true|false}``).
        reset_reply: The body answering ``POST /reset``.
        error: The body of a control error, from its message.
        fault_json: One fault rule as JSON.
    """

    content_type: str = "application/json"
    list_key: str | None = "results"
    acknowledge: Literal["ok", "no_content"] = "no_content"
    reset_reply: Mapping[str, Any] = field(default_factory=lambda: {"ok": True})
    error: Callable[[str], Any] = _error_body
    fault_json: Callable[[Fault], dict[str, Any]] = Fault.to_dict


@dataclass
class ControlRequest:
    """One control request as a handler gets it.

    Attributes:
        request: The werkzeug request.
        args: The variables of the matched URL rule (``<int:id>`` and the like).
        body: The JSON body, ``{}`` when empty.
    """

    request: Request
    args: dict[str, Any]
    body: Any

    @property
    def base_url(self) -> str:
        """Scheme and host the client used, e.g. ``http://127.0.0.1:54321``."""
        return f"{self.request.scheme}://{self.request.host}"

    def object_body(self) -> dict[str, Any]:
        """The body, which must be a JSON object (TypeError, hence a 400, otherwise)."""
        if not isinstance(self.body, dict):
            raise TypeError(f"the body must be a JSON object, got {type(self.body).__name__}")
        return self.body


ControlHandler = Callable[[ControlRequest], Response]
#: Renders an exception of the type it is registered for (see ``errors`` of :class:`ControlAPI`).
ErrorRenderer = Callable[[Any], Response]


class ControlAPI:
    """Dispatches control requests to the shared routes and the emulator's own.

    Handlers get a :class:`ControlRequest` and return a werkzeug ``Response`` (usually from
    :meth:`reply`). A ValueError, TypeError or KeyError from a handler answers 400 with its message;
    exceptions listed in ``errors`` are rendered by their function (the API's own error bodies).

    Args:
        faults: The emulator's fault rules.
        stats: The emulator's request counters.
        reset: Called by ``POST /reset`` with the request's JSON object (``{}`` when none).
        prefix: Where the control API lives.
        style: How replies are worded.
        stats_view: Builds ``GET /stats``'s body from the request (default: ``stats.snapshot(recent)``).
        health: Extra fields for ``GET /health``.
        errors: Exception types and how to render them, checked in order.
    """

    def __init__(
        self,
        faults: FaultRegistry,
        stats: RequestStats,
        reset: Callable[[Mapping[str, Any]], None],
        *,
        prefix: str = "/_emulator",
        style: ControlStyle | None = None,
        stats_view: Callable[[Request], Any] | None = None,
        health: Callable[[], Mapping[str, Any]] | None = None,
        errors: Mapping[type[Exception], ErrorRenderer] | None = None,
    ) -> None:
        self.faults = faults
        self.stats = stats
        self.prefix = prefix.rstrip("/")
        self.style = style or ControlStyle()
        self._reset = reset
        self._stats_view = stats_view
        self._health = health
        self._errors = dict(errors or {})
        self._map = Map(strict_slashes=False, merge_slashes=False)
        self._handlers: dict[str, ControlHandler] = {}
        self.add_route("/health", ["GET"], self._get_health)
        self.add_route("/stats", ["GET"], self._get_stats)
        self.add_route("/stats/reset", ["POST"], self._reset_stats)
        self.add_route("/faults", ["GET"], self._list_faults)
        self.add_route("/faults", ["POST"], self._add_faults)
        self.add_route("/faults", ["DELETE"], self._clear_faults)
        self.add_route("/faults/<int:fault_id>", ["DELETE"], self._remove_fault)
        self.add_route("/reset", ["POST"], self._post_reset)

    # -- building ----------------------------------------------------------------------------------

    def add_route(self, rule: str, methods: Sequence[str], handler: ControlHandler) -> None:
        """Serve ``handler`` at ``prefix + rule`` (werkzeug rule syntax) for ``methods``."""
        endpoint = f"{len(self._handlers)}:{rule}"
        self._map.add(Rule(self.prefix + rule, endpoint=endpoint, methods=list(methods)))
        self._handlers[endpoint] = handler

    def route(self, rule: str, methods: Sequence[str]) -> Callable[[ControlHandler], ControlHandler]:
        """Decorator form of :meth:`add_route`."""

        def register(handler: ControlHandler) -> ControlHandler:
            self.add_route(rule, methods, handler)
            return handler

        return register

    def mount(self, app: WSGIApp) -> WSGIApp:
        """A WSGI app sending requests under the prefix here and everything else to ``app``."""
        prefix = self.prefix

        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path == prefix or path.startswith(prefix + "/"):
                return self.handle(Request(environ))(environ, start_response)
            return app(environ, start_response)

        return wsgi

    # -- replies -----------------------------------------------------------------------------------

    def reply(self, payload: Any, status: int = 200) -> Response:
        """A JSON reply in the style's content type."""
        return Response(orjson.dumps(payload), status=status, content_type=self.style.content_type)

    def error(self, message: str, status: int = 400) -> Response:
        """A control error in the style's words."""
        return self.reply(self.style.error(message), status)

    def listing(self, items: list[Any]) -> Any:
        """A list in the style's envelope."""
        return {self.style.list_key: items} if self.style.list_key else items

    def _acknowledge(self) -> Response:
        return self.reply({"ok": True}) if self.style.acknowledge == "ok" else Response(status=204)

    # -- dispatch ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one control request."""
        try:
            endpoint, args = self._map.bind("emulator").match(request.path, method=request.method)
        except HTTPException:
            return self.error(f"unknown control route {request.method} {request.path}", 404)
        raw = request.get_data(cache=True)
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            return self.error("body must be JSON")
        try:
            return self._handlers[str(endpoint)](ControlRequest(request, dict(args), body))
        except Exception as exc:  # noqa: BLE001 - rendered below or re-raised
            for kind, render in self._errors.items():
                if isinstance(exc, kind):
                    return render(exc)
            if isinstance(exc, ValueError | TypeError | KeyError):
                return self.error(str(exc))
            raise

    # -- shared routes -----------------------------------------------------------------------------

    def _get_health(self, call: ControlRequest) -> Response:
        return self.reply({"ok": True, **(self._health() if self._health else {})})

    def _get_stats(self, call: ControlRequest) -> Response:
        if self._stats_view is not None:
            return self.reply(self._stats_view(call.request))
        return self.reply(self.stats.snapshot(int(call.request.args.get("recent", 50))))

    def _reset_stats(self, call: ControlRequest) -> Response:
        self.stats.reset()
        return self._acknowledge()

    def _list_faults(self, call: ControlRequest) -> Response:
        return self.reply(self.listing([self.style.fault_json(f) for f in self.faults.list()]))

    def _add_faults(self, call: ControlRequest) -> Response:
        items = call.body if isinstance(call.body, list) else [call.object_body()]
        for item in items:
            if not isinstance(item, dict):
                raise TypeError(f"a fault is a JSON object, got {type(item).__name__}")
        added = [self.style.fault_json(self.faults.add(**item)) for item in items]
        return self.reply(self.listing(added) if isinstance(call.body, list) else added[0], 201)

    def _clear_faults(self, call: ControlRequest) -> Response:
        self.faults.clear()
        return self._acknowledge()

    def _remove_fault(self, call: ControlRequest) -> Response:
        removed = self.faults.remove(call.args["fault_id"])
        if self.style.acknowledge == "ok":
            return self.reply({"removed": removed})
        return Response(status=204 if removed else 404)

    def _post_reset(self, call: ControlRequest) -> Response:
        self._reset(call.body if isinstance(call.body, dict) else {})
        return self.reply(dict(self.style.reset_reply))
