"""Unauthenticated ``/_emulator/`` control API: faults, reset, stats, clock, records, tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..errors import ApiError, validation
from ..objecttypes import OBJECT_TYPES, canonical_type
from ..values import iso_from_ms

if TYPE_CHECKING:
    from ..app import HubSpotApp

CONTROL_RULES = Map([
    Rule("/_emulator/stats", endpoint="stats", methods=["GET"]),
    Rule("/_emulator/reset", endpoint="reset", methods=["POST"]),
    Rule("/_emulator/faults", endpoint="faults_list", methods=["GET"]),
    Rule("/_emulator/faults", endpoint="faults_add", methods=["POST"]),
    Rule("/_emulator/faults", endpoint="faults_clear", methods=["DELETE"]),
    Rule("/_emulator/faults/<int:fid>", endpoint="faults_remove", methods=["DELETE"]),
    Rule("/_emulator/time", endpoint="time_get", methods=["GET"]),
    Rule("/_emulator/time", endpoint="time_advance", methods=["POST"]),
    Rule("/_emulator/credentials", endpoint="credentials", methods=["GET"]),
    Rule("/_emulator/tokens", endpoint="token_issue", methods=["POST"]),
    Rule("/_emulator/objects/<otype>", endpoint="objects_list", methods=["GET"]),
    Rule("/_emulator/objects/<otype>", endpoint="objects_insert", methods=["POST"]),
    Rule("/_emulator/objects/<otype>/<int:oid>", endpoint="objects_get", methods=["GET"]),
    Rule("/_emulator/associations/<otype>/<int:oid>", endpoint="associations_get", methods=["GET"]),
])


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status=status, content_type="application/json;charset=utf-8")


def _raw(obj: Any) -> dict[str, Any]:
    out = {"id": str(obj.id), "properties": dict(obj.props), "createdAt": obj.created_iso,
           "updatedAt": iso_from_ms(obj.updated_ms), "archived": obj.archived}
    if obj.archived_ms is not None:
        out["archivedAt"] = iso_from_ms(obj.archived_ms)
    return out


def _otype(name: str) -> str:
    t = canonical_type(name)
    if t is None:
        raise validation(f"Unknown object type {name}; expected one of {OBJECT_TYPES}")
    return t


def dispatch(app: HubSpotApp, request: Request) -> Response:
    """Handle one control request; errors come back as JSON."""
    try:
        endpoint, args = CONTROL_RULES.bind_to_environ(request.environ).match()
    except Exception:  # NotFound / MethodNotAllowed
        return _json(404, {"status": "error", "message": f"unknown control endpoint {request.method} {request.path}"})
    try:
        return _handle(app, request, endpoint, args)
    except ApiError as exc:
        return _json(exc.status, exc.body("control"))
    except (ValueError, TypeError, KeyError) as exc:
        return _json(400, {"status": "error", "message": str(exc)})


def _body(request: Request) -> Any:
    raw = request.get_data()
    return orjson.loads(raw) if raw.strip() else {}


def _handle(app: HubSpotApp, request: Request, endpoint: str, args: dict[str, Any]) -> Response:
    emu = app
    state = emu.state
    if endpoint == "stats":
        snap = emu.stats.snapshot()
        snap["faults_by_kind"] = dict(emu.faults.served_by_kind)
        snap["objects"] = {t: state.stores[t].count() for t in OBJECT_TYPES}
        snap["archived"] = {t: state.stores[t].count(archived=True) for t in OBJECT_TYPES}
        return _json(200, snap)
    if endpoint == "reset":
        body = _body(request)
        emu.reset(**(body if isinstance(body, dict) else {}))
        return _json(200, {"status": "reset"})
    if endpoint == "faults_list":
        return _json(200, {"results": [f.to_json() for f in emu.faults.list()]})
    if endpoint == "faults_add":
        body = _body(request)
        items = body if isinstance(body, list) else [body]
        added = [emu.faults.add(**item).to_json() for item in items]
        return _json(201, added[0] if not isinstance(body, list) else {"results": added})
    if endpoint == "faults_clear":
        emu.faults.clear()
        return Response(status=204)
    if endpoint == "faults_remove":
        return Response(status=204 if emu.faults.remove(args["fid"]) else 404)
    if endpoint == "time_get":
        return _json(200, {"now": state.clock.now(), "iso": iso_from_ms(state.clock.now_ms())})
    if endpoint == "time_advance":
        body = _body(request)
        now = state.clock.advance(float(body.get("seconds", body.get("advance", 0))))
        return _json(200, {"now": now, "iso": iso_from_ms(int(now * 1000))})
    if endpoint == "credentials":
        return _json(200, emu.credentials)
    if endpoint == "token_issue":
        return _json(201, {"access_token": emu.tokens.issue_access_token(),
                           "expires_in": emu.settings.access_token_ttl})
    if endpoint == "objects_list":
        t = _otype(args["otype"])
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", 100))
        with state.lock:
            store = state.stores[t]
            ids = store.sorted_ids[offset:offset + limit]
            return _json(200, {"total": len(store.objects), "results": [_raw(store.objects[i]) for i in ids]})
    if endpoint == "objects_get":
        t = _otype(args["otype"])
        with state.lock:
            obj = state.stores[t].get(args["oid"])
            return _json(200, _raw(obj)) if obj else _json(404, {"status": "error", "message": "not found"})
    if endpoint == "objects_insert":
        t = _otype(args["otype"])
        body = _body(request)
        items = body if isinstance(body, list) else [body]
        out = []
        with state.lock:
            for item in items:
                out.append(_raw(emu.insert(t, item.get("properties") or {}, obj_id=item.get("id"),
                                           created=item.get("createdAt"), updated=item.get("updatedAt"),
                                           validate=bool(item.get("validate", False)))))
        return _json(201, out[0] if not isinstance(body, list) else {"results": out})
    if endpoint == "associations_get":
        t = _otype(args["otype"])
        with state.lock:
            edges = state.associations.edges.get((t, args["oid"]), {})
            return _json(200, {to: {str(i): sorted(ts) for i, ts in targets.items()} for to, targets in edges.items()})
    raise validation(f"unhandled control endpoint {endpoint}")

