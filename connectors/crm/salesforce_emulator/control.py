"""The unauthenticated ``/_emulator/`` control API: the kit's shared routes plus Salesforce's own.

Shared (from :class:`~connector_core.testing.emulator.ControlAPI`): ``GET /health``, ``GET /stats``,
``POST /stats/reset``, ``GET|POST|DELETE /faults``, ``DELETE /faults/<id>``, ``POST /reset``.

Added here:

    GET   /credentials                 consumer key/secret, username, refresh token, private key PEM
    POST  /tokens                      a session without an OAuth flow: {"access_token", "instance_url"}
    POST  /sessions/expire             end every session (the next call gets INVALID_SESSION_ID)
    GET   /time, POST /time            the clock; POST {"seconds": N} moves it
    GET   /limits, POST /limits        API usage; POST {"used": N, "limit": M} sets it
    GET   /records/<Type>              every record of a type, deleted ones included, as the REST API shows them
    POST  /records/<Type>              create records (validated); {"SystemModstamp": ...} etc. may be planted
    PATCH /records/<Type>/<Id>         set fields as stored, audit fields included (a "system change")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from werkzeug.wrappers import Request, Response

from connector_core.testing.emulator import ControlAPI, ControlRequest

from .errors import SalesforceError
from .values import coerce, format_datetime, from_epoch, to_json

if TYPE_CHECKING:
    from .app import SalesforceApp
    from .schema import SObjectType
    from .store import Record

_AUDIT = ("CreatedDate", "LastModifiedDate", "SystemModstamp", "IsDeleted")


def credentials(app: SalesforceApp, url: str) -> dict[str, Any]:
    """How to connect: URL, connected app, user, refresh token, and the JWT signing key if the emulator made it."""
    s = app.settings
    return {"instance_url": url, "login_url": url, "api_version": s.api_version, "consumer_key": s.consumer_key,
            "consumer_secret": s.consumer_secret, "username": s.username,
            "refresh_token": s.refresh_tokens[0] if s.refresh_tokens else None,
            "private_key_pem": app.jwt_private_key_pem, "certificate_pem": app.tokens.certificate_pem}


def raw_record(sobject: SObjectType, record: Record) -> dict[str, Any]:
    return {"attributes": {"type": sobject.name},
            **{name: to_json(field, record.get(name)) for name, field in sobject.fields.items()}}


def _render_error(exc: SalesforceError) -> Response:
    return Response(orjson.dumps(exc.body()), status=exc.status, content_type="application/json")


def build_control(app: SalesforceApp) -> ControlAPI:
    """The control API of one emulated org; mount it in front of ``app``."""

    def stats_view(request: Request) -> dict[str, Any]:
        snap = app.stats.snapshot(int(request.args.get("recent", 50)))
        snap["faults_by_kind"] = dict(app.faults.fired_by_kind)
        snap["api_usage"] = {"used": app.usage.used(), "limit": app.usage.limit}
        with app.store.lock:
            snap["records"] = {name: sum(1 for r in recs.values() if not r["IsDeleted"])
                               for name, recs in app.store.records.items()}
        return snap

    control = ControlAPI(app.faults, app.stats, lambda body: app.reset(bool(body.get("reseed", True))),
                         stats_view=stats_view, errors={SalesforceError: _render_error},
                         health=lambda: {"emulator": "salesforce"})
    reply = control.reply

    @control.route("/credentials", ["GET"])
    def get_credentials(call: ControlRequest) -> Response:
        return reply(credentials(app, call.base_url))

    @control.route("/tokens", ["POST"])
    def issue_token(call: ControlRequest) -> Response:
        return reply({"access_token": app.tokens.issue("control"), "instance_url": call.base_url}, 201)

    @control.route("/sessions/expire", ["POST"])
    def expire_sessions(call: ControlRequest) -> Response:
        return reply({"expired": app.tokens.expire_all()})

    @control.route("/time", ["GET"])
    def get_time(call: ControlRequest) -> Response:
        now = app.clock.now()
        return reply({"now": now, "iso": format_datetime(from_epoch(now))})

    @control.route("/time", ["POST"])
    def move_time(call: ControlRequest) -> Response:
        now = app.clock.advance(float(call.object_body().get("seconds", 0)))
        return reply({"now": now, "iso": format_datetime(from_epoch(now))})

    @control.route("/limits", ["GET"])
    def get_limits(call: ControlRequest) -> Response:
        return reply({"used": app.usage.used(), "limit": app.usage.limit})

    @control.route("/limits", ["POST"])
    def set_limits(call: ControlRequest) -> Response:
        body = call.object_body()
        limit = body.get("limit")
        app.usage.set_used(int(body.get("used", app.usage.used())), int(limit) if limit is not None else None)
        return reply({"used": app.usage.used(), "limit": app.usage.limit})

    @control.route("/records/<type_name>", ["GET"])
    def list_records(call: ControlRequest) -> Response:
        with app.store.lock:
            sobject = app.store.sobject(call.args["type_name"])
            rows = [raw_record(sobject, r) for r in app.store.records[sobject.name].values()]
        return reply({"totalSize": len(rows), "records": rows})

    @control.route("/records/<type_name>", ["POST"])
    def create_records(call: ControlRequest) -> Response:
        items = call.body if isinstance(call.body, list) else [call.object_body()]
        out = []
        with app.store.lock:
            sobject = app.store.sobject(call.args["type_name"])
            for item in items:
                if not isinstance(item, dict):
                    raise TypeError("each record is a JSON object")
                fields = {k: v for k, v in item.items() if k not in _AUDIT}
                record = app.store.create(sobject, fields)
                _plant(sobject, record, {k: v for k, v in item.items() if k in _AUDIT})
                out.append(raw_record(sobject, record))
        return reply(out if isinstance(call.body, list) else out[0], 201)

    @control.route("/records/<type_name>/<record_id>", ["PATCH"])
    def plant_fields(call: ControlRequest) -> Response:
        with app.store.lock:
            sobject = app.store.sobject(call.args["type_name"])
            record = app.store.get(sobject, call.args["record_id"], deleted_ok=True)
            _plant(sobject, record, call.object_body())
            return reply(raw_record(sobject, record))

    return control


def _plant(sobject: SObjectType, record: Record, values: dict[str, Any]) -> None:
    """Set stored values directly (no createable/updateable checks, no audit-field update)."""
    for name, value in values.items():
        field = sobject.field(name)
        if field is None:
            raise ValueError(f"no field {name} on {sobject.name}")
        record[field.name] = coerce(field, value)
