"""Unauthenticated ``/_emulator/`` control API: faults, reset, stats, clock, records, tokens.

Built on the emulator kit's :class:`~connector_core.testing.emulator.ControlAPI` (shared routes for
health, stats, faults and reset); this module adds HubSpot's own routes and keeps the reply shapes the
emulator has always had (``{"results": [...]}``, 204s, ``{"status": "error", "message": ...}``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from werkzeug.wrappers import Request, Response

from connector_core.testing.emulator import ControlAPI, ControlRequest, ControlStyle, Fault

from ..errors import ApiError, validation
from ..objecttypes import OBJECT_TYPES, canonical_type
from ..store import CrmObject
from ..values import iso_from_ms

if TYPE_CHECKING:
    from ..app import HubSpotApp


def _fault_json(fault: Fault) -> dict[str, Any]:
    extra: dict[str, Any] = {k: v for k, v in (("retry_after", fault.retry_after), ("code", fault.code),
                                                ("detail", fault.detail)) if v is not None}
    if fault.when != "before":
        extra["when"] = fault.when
    return {"kind": fault.kind, "status": fault.status, "count": fault.count, "path_prefix": fault.path_prefix,
            "method": fault.method, "seconds": fault.seconds, "id": fault.id, "served": fault.fired,
            "extra": extra}


STYLE = ControlStyle(
    content_type="application/json;charset=utf-8",
    reset_reply={"status": "reset"},
    error=lambda message: {"status": "error", "message": message},
    fault_json=_fault_json,
)


def raw_object(obj: CrmObject) -> dict[str, Any]:
    """A record as stored (no property selection), as the control API and the Python helpers show it."""
    out = {"id": str(obj.id), "properties": dict(obj.props), "createdAt": obj.created_iso,
           "updatedAt": iso_from_ms(obj.updated_ms), "archived": obj.archived}
    if obj.archived_ms is not None:
        out["archivedAt"] = iso_from_ms(obj.archived_ms)
    return out


def _api_error(exc: ApiError) -> Response:
    return Response(orjson.dumps(exc.body("control")), status=exc.status, content_type=STYLE.content_type)


def _otype(name: str) -> str:
    t = canonical_type(name)
    if t is None:
        raise validation(f"Unknown object type {name}; expected one of {OBJECT_TYPES}")
    return t


def build_control(app: HubSpotApp) -> ControlAPI:
    """The control API of one emulated portal; mount it in front of ``app``."""

    def stats_view(request: Request) -> dict[str, Any]:
        state = app.state
        snap = app.stats.snapshot()
        snap["faults_by_kind"] = dict(app.faults.fired_by_kind)
        snap["objects"] = {t: state.stores[t].count() for t in OBJECT_TYPES}
        snap["archived"] = {t: state.stores[t].count(archived=True) for t in OBJECT_TYPES}
        return snap

    control = ControlAPI(app.faults, app.stats, lambda body: app.reset(**body), style=STYLE,
                         stats_view=stats_view, errors={ApiError: _api_error})
    reply = control.reply

    @control.route("/time", ["GET"])
    def get_time(call: ControlRequest) -> Response:
        clock = app.state.clock
        return reply({"now": clock.now(), "iso": iso_from_ms(clock.now_ms())})

    @control.route("/time", ["POST"])
    def advance_time(call: ControlRequest) -> Response:
        body = call.object_body()
        now = app.state.clock.advance(float(body.get("seconds", body.get("advance", 0))))
        return reply({"now": now, "iso": iso_from_ms(int(now * 1000))})

    @control.route("/credentials", ["GET"])
    def credentials(call: ControlRequest) -> Response:
        return reply(app.credentials)

    @control.route("/tokens", ["POST"])
    def issue_token(call: ControlRequest) -> Response:
        return reply({"access_token": app.tokens.issue_access_token(),
                      "expires_in": app.settings.access_token_ttl}, 201)

    @control.route("/objects/<otype>", ["GET"])
    def list_objects(call: ControlRequest) -> Response:
        t = _otype(call.args["otype"])
        offset = int(call.request.args.get("offset", 0))
        limit = int(call.request.args.get("limit", 100))
        with app.state.lock:
            store = app.state.stores[t]
            ids = store.sorted_ids[offset:offset + limit]
            return reply({"total": len(store.objects), "results": [raw_object(store.objects[i]) for i in ids]})

    @control.route("/objects/<otype>", ["POST"])
    def insert_objects(call: ControlRequest) -> Response:
        t = _otype(call.args["otype"])
        items = call.body if isinstance(call.body, list) else [call.body]
        out = []
        with app.state.lock:
            for item in items:
                out.append(raw_object(app.insert(
                    t, item.get("properties") or {}, obj_id=item.get("id"), created=item.get("createdAt"),
                    updated=item.get("updatedAt"), validate=bool(item.get("validate", False)))))
        return reply(out[0] if not isinstance(call.body, list) else {"results": out}, 201)

    @control.route("/objects/<otype>/<int:oid>", ["GET"])
    def get_object(call: ControlRequest) -> Response:
        t = _otype(call.args["otype"])
        with app.state.lock:
            obj = app.state.stores[t].get(call.args["oid"])
            return reply(raw_object(obj)) if obj else control.error("not found", 404)

    @control.route("/associations/<otype>/<int:oid>", ["GET"])
    def get_associations(call: ControlRequest) -> Response:
        t = _otype(call.args["otype"])
        with app.state.lock:
            edges = app.state.associations.edges.get((t, call.args["oid"]), {})
            return reply({to: {str(i): sorted(ts) for i, ts in targets.items()} for to, targets in edges.items()})

    return control
