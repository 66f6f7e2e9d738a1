"""Unauthenticated control API under ``/_emulator/`` for tests, benchmarks and the CLI.

Built on the emulator kit's :class:`~connector_core.testing.emulator.ControlAPI`, which serves the
shared routes (health, stats, faults, reset); this module adds NetSuite's own and keeps the reply
shapes the emulator has always had (bare lists, ``{"ok": true}``, ``{"error": ...}``).

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
    GET    /_emulator/settings                     the runtime-tunable settings
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

from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Response

from connector_core.testing.emulator import ControlAPI, ControlRequest, ControlStyle, RequestStats

from .app import EmulatorApp
from .errors import NsError
from .record_bodies import Validation
from .schema import RecordType

#: Settings that may be changed at runtime through ``PATCH /_emulator/settings``.
MUTABLE_SETTINGS: dict[str, type | tuple[type, ...]] = {
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

STYLE = ControlStyle(list_key=None, acknowledge="ok")


def snapshot(stats: RequestStats, recent: int = 50) -> dict[str, Any]:
    """The request counters in this emulator's shape (``faults_applied``, not ``faults``)."""
    out = stats.snapshot(recent)
    out["faults_applied"] = out.pop("faults")
    return out


def build_control(app: EmulatorApp) -> ControlAPI:
    """The control API of one emulated account; mount it in front of ``app``."""
    control = ControlAPI(
        app.faults, app.stats, lambda body: app.reset(), style=STYLE,
        stats_view=lambda request: snapshot(app.stats, int(request.args.get("recent", 50))),
        health=lambda: {"account_id": app.settings.account_id},
        errors={NsError: _ns_error},
    )
    reply = control.reply

    @control.route("/credentials", ["GET"])
    def get_credentials(call: ControlRequest) -> Response:
        return reply(credentials(app, call.base_url))

    @control.route("/time/advance", ["POST"])
    def advance_time(call: ControlRequest) -> Response:
        app.settings.clock.advance(float(call.object_body()["seconds"]))
        return reply({"now": app.settings.clock.now()})

    @control.route("/settings", ["GET", "PATCH"])
    def settings(call: ControlRequest) -> Response:
        if call.request.method == "PATCH":
            apply_settings(app, call.object_body())
        return reply({k: _plain(getattr(app.settings, k)) for k in MUTABLE_SETTINGS})

    @control.route("/token", ["POST"])
    def issue_token(call: ControlRequest) -> Response:
        scopes = frozenset(call.object_body().get("scopes") or ["rest_webservices"])
        return reply({"access_token": app.oauth2.issue_access_token(scopes=scopes)})

    @control.route("/suiteql", ["POST"])
    def run_suiteql(call: ControlRequest) -> Response:
        args = call.request.args
        page = app.suiteql.run(call.body["q"], int(args.get("limit", 1000)), int(args.get("offset", 0)))
        return reply({"items": page.items, "totalResults": page.total, "hasMore": page.has_more})

    @control.route("/records/<record_type>", ["POST"])
    def create_record(call: ControlRequest) -> Response:
        result = app.records.create(_record_type(app, call), call.body, Validation())
        return reply({"id": str(result.id), "warnings": result.warnings}, 201)

    @control.route("/records/<record_type>/<record_id>", ["GET", "PATCH", "DELETE"])
    def one_record(call: ControlRequest) -> Response:
        recs = app.records
        rt = _record_type(app, call)
        rid = recs.resolve_id(rt, call.args["record_id"])
        method = call.request.method
        if method == "GET":
            return reply(recs.serialize(rt, recs.load(rt, rid), call.base_url, expand=True))
        if method == "PATCH":
            recs.update(rt, rid, call.body, Validation())
        else:
            recs.delete(rt, rid)
        return reply({"id": str(rid)})

    @control.route("/invoices/<int:invoice_id>/pay", ["POST"])
    def pay_invoice(call: ControlRequest) -> Response:
        app.records.pay_invoice(call.args["invoice_id"], call.object_body().get("amount"))
        return reply({"ok": True})

    return control


def _ns_error(exc: NsError) -> Response:
    return Response(exc.body(), status=exc.status, content_type="application/json")


def _record_type(app: EmulatorApp, call: ControlRequest) -> RecordType:
    """The record type named in the URL; the control API is never denied a type."""
    saved = app.settings.denied_record_types
    app.settings.denied_record_types = frozenset()
    try:
        return app.records.record_type(call.args["record_type"])
    finally:
        app.settings.denied_record_types = saved


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set | tuple):
        return sorted(value)
    return value


def _has_type(value: object, expected: type | tuple[type, ...]) -> bool:
    """``isinstance``, except that a bool is no int here."""
    return isinstance(value, expected) and not (expected is int and isinstance(value, bool))


def apply_settings(app: EmulatorApp, changes: Mapping[str, Any]) -> None:
    """Change runtime-tunable settings; unknown names or wrong types raise ValueError."""
    for name, value in changes.items():
        expected = MUTABLE_SETTINGS.get(name)
        if expected is None:
            raise ValueError(f"setting {name!r} cannot be changed at runtime; changeable: "
                             f"{', '.join(sorted(MUTABLE_SETTINGS))}")
        if not _has_type(value, expected):
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
