"""Unauthenticated control API under ``/_emulator/`` for tests, benchmarks and the CLI.

Routes:
    GET    /_emulator/health                       liveness
    GET    /_emulator/credentials                  credentials for every auth method
    GET    /_emulator/stats?recent=N               counters, in-flight, recent requests
    POST   /_emulator/stats/reset
    GET    /_emulator/faults                       active faults
    POST   /_emulator/faults                       {"kind": "status", "status": 503, "count": 2, ...}
    DELETE /_emulator/faults[/<id>]
    POST   /_emulator/reset                        reseed and clear tokens, nonces, jobs, faults, stats
    POST   /_emulator/time/advance                 {"seconds": 3600}
    PATCH  /_emulator/settings                     {"concurrency_limit": 2, "denied_record_types": [...]}
    POST   /_emulator/token                        {"scopes": [...]} → a valid bearer token
    POST   /_emulator/suiteql?limit&offset         {"q": ...} run SuiteQL without auth or governance
    GET    /_emulator/records/<type>/<id>          a record as the record API would serialise it
    POST   /_emulator/records/<type>               create via record rules → {"id": ...}
    PATCH  /_emulator/records/<type>/<id>          update via record rules
    DELETE /_emulator/records/<type>/<id>
    POST   /_emulator/invoices/<id>/pay            {"amount": 10.0} (omit to pay in full)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from werkzeug.wrappers import Request, Response

from .errors import NsError
from .records import Validation

if TYPE_CHECKING:
    from .app import EmulatorApp

#: Settings that may be changed at runtime through ``PATCH /_emulator/settings``.
MUTABLE_SETTINGS = {
    "concurrency_limit": int,
    "concurrency_retry_after": (int, type(None)),
    "page_cap": int,
    "row_cap": int,
    "row_cap_offset_behavior": str,
    "require_prefer_transient": bool,
    "date_format": str,
    "denied_record_types": list,
    "case_insensitive_fields": bool,
    "auto_entity_id": bool,
    "async_pending_polls": int,
    "access_token_ttl": int,
    "refresh_token_ttl": int,
    "expires_in_as_string": bool,
    "timestamp_skew_seconds": int,
    "missing_transaction_as_400": bool,
}


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status=status, content_type="application/json")


class ControlAPI:
    """Dispatches ``/_emulator/`` requests against an :class:`EmulatorApp`."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app

    def handle(self, request: Request) -> Response:
        parts = [p for p in request.path.split("/") if p][1:]
        method = request.method
        try:
            body = orjson.loads(request.get_data()) if request.get_data().strip() else {}
        except orjson.JSONDecodeError:
            return _json({"error": "body must be JSON"}, 400)
        try:
            return self._route(method, parts, body, request)
        except NsError as err:
            return Response(err.body(), status=err.status, content_type="application/json")
        except (ValueError, TypeError, KeyError) as err:
            return _json({"error": str(err)}, 400)

    def _route(self, method: str, parts: list[str], body: Any, request: Request) -> Response:
        app = self.app
        head = parts[0] if parts else ""
        if head == "health":
            return _json({"ok": True, "account_id": app.settings.account_id})
        if head == "credentials":
            return _json(credentials(app, _base(request)))
        if head == "stats":
            if method == "POST" and parts[1:] == ["reset"]:
                app.stats.reset()
                return _json({"ok": True})
            return _json(app.stats.snapshot(int(request.args.get("recent", 50))))
        if head == "faults":
            if method == "GET":
                return _json([f.to_dict() for f in app.faults.list()])
            if method == "POST":
                fault = app.faults.add(**body)
                return _json(fault.to_dict(), 201)
            if method == "DELETE":
                if len(parts) > 1:
                    return _json({"removed": app.faults.remove(int(parts[1]))})
                app.faults.clear()
                return _json({"ok": True})
        if head == "reset" and method == "POST":
            app.reset()
            return _json({"ok": True})
        if head == "time" and parts[1:] == ["advance"] and method == "POST":
            app.settings.clock.advance(float(body["seconds"]))
            return _json({"now": app.settings.clock.now()})
        if head == "settings":
            if method == "PATCH":
                apply_settings(app, body)
            return _json({k: _plain(getattr(app.settings, k)) for k in MUTABLE_SETTINGS})
        if head == "token" and method == "POST":
            scopes = frozenset(body.get("scopes") or ["rest_webservices"])
            return _json({"access_token": app.oauth2.issue_access_token(scopes=scopes)})
        if head == "suiteql" and method == "POST":
            limit = int(request.args.get("limit", 1000))
            offset = int(request.args.get("offset", 0))
            page = app.suiteql.run(body["q"], limit, offset)
            return _json({"items": page.items, "totalResults": page.total, "hasMore": page.has_more})
        if head == "records" and len(parts) >= 2:
            return self._records(method, parts[1:], body, request)
        if head == "invoices" and len(parts) == 3 and parts[2] == "pay" and method == "POST":
            app.records.pay_invoice(int(parts[1]), body.get("amount"))
            return _json({"ok": True})
        return _json({"error": f"unknown control route {method} /{'/'.join(parts)}"}, 404)

    def _records(self, method: str, parts: list[str], body: Any, request: Request) -> Response:
        recs = self.app.records
        saved = self.app.settings.denied_record_types
        self.app.settings.denied_record_types = frozenset()  # the control API is never denied
        try:
            rt = recs.record_type(parts[0])
        finally:
            self.app.settings.denied_record_types = saved
        if len(parts) == 1 and method == "POST":
            result = recs.create(rt, body, Validation())
            return _json({"id": str(result.id), "warnings": result.warnings}, 201)
        if len(parts) == 2:
            rid = recs.resolve_id(rt, parts[1])
            if method == "GET":
                row = recs.load(rt, rid)
                return _json(recs.serialize(rt, row, _base(request), expand=True))
            if method == "PATCH":
                recs.update(rt, rid, body, Validation())
                return _json({"id": str(rid)})
            if method == "DELETE":
                recs.delete(rt, rid)
                return _json({"id": str(rid)})
        return _json({"error": "unsupported records route"}, 404)


def _base(request: Request) -> str:
    return f"{request.scheme}://{request.host}"


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set | tuple):
        return sorted(value)
    return value


def apply_settings(app: EmulatorApp, changes: dict[str, Any]) -> None:
    """Change runtime-tunable settings; unknown names or wrong types raise ValueError."""
    for name, value in changes.items():
        expected = MUTABLE_SETTINGS.get(name)
        if expected is None:
            raise ValueError(f"setting {name!r} cannot be changed at runtime; changeable: "
                             f"{', '.join(sorted(MUTABLE_SETTINGS))}")
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ValueError(f"setting {name!r} has the wrong type: {type(value).__name__}")
        if name == "denied_record_types":
            value = frozenset(value)
        setattr(app.settings, name, value)


def credentials(app: EmulatorApp, base: str) -> dict[str, Any]:
    """Everything a client needs to authenticate against this emulator (no private keys)."""
    s = app.settings
    return {
        "base_url": base,
        "account_id": s.account_id,
        "realm": s.realm,
        "tba": {
            "consumer_key": s.consumer_key,
            "consumer_secret": s.consumer_secret,
            "token_id": s.token_id,
            "token_secret": s.token_secret,
        },
        "m2m": {
            "client_id": s.m2m_client_id,
            "certificate_id": s.certificate_id,
            "token_url": f"{base}/services/rest/auth/oauth2/v1/token",
            "enabled": s.m2m_public_key_pem is not None,
        },
        "authorization_code": {
            "client_id": s.oauth2_client_id,
            "client_secret": s.oauth2_client_secret,
            "authorize_url": f"{base}/app/login/oauth2/authorize.nl",
            "token_url": f"{base}/services/rest/auth/oauth2/v1/token",
        },
    }
