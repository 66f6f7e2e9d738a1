"""The WSGI application: faults, auth, rate limits, routing, error rendering.

The control API (:mod:`.api.control_api`) is mounted in front of this app by
:class:`~.emulator.HubSpotEmulator`, so ``/_emulator/…`` never reaches it.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from typing import Any

import orjson
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from connector_core.testing.emulator import (
    Clock,
    DropConnection,
    Fault,
    FaultRegistry,
    RequestStats,
    apply_faults,
)

from .api.context import Ctx
from .auth import OAuthError, TokenRegistry
from .errors import ApiError, EmptyNotFound, new_correlation_id
from .objecttypes import canonical_type
from .ratelimit import RateLimiter, RateLimitError, rate_limit_error
from .routes import HANDLERS, OAUTH_HANDLERS, URL_MAP
from .search import SearchEngine
from .seed import seed_state
from .service import ObjectService
from .settings import HubSpotSettings
from .state import HubSpotState
from .store import CrmObject
from .values import ms_from_text

JSON_TYPE = "application/json;charset=utf-8"
_FAULT_CATEGORIES = {400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES",
                     404: "OBJECT_NOT_FOUND", 409: "CONFLICT"}


class HubSpotStats(RequestStats):
    """Request counters in this emulator's shape: requests, by status and endpoint, 429s by policy, faults."""

    def __init__(self) -> None:
        super().__init__(tallies=("policy",))

    def snapshot(self, recent: int = 0) -> dict[str, Any]:
        counts = super().snapshot(recent)
        by_status: dict[str, int] = counts["by_status"]
        return {
            "requests": counts["total"],
            "by_status": dict(sorted(by_status.items(), key=lambda item: int(item[0]))),
            "by_endpoint": dict(sorted(counts["by_route"].items())),
            "rate_limited": by_status.get("429", 0),
            "rate_limited_by_policy": counts["by_policy"],
            "faults": counts["faults"],
        }


class HubSpotApp:
    """A stateful HubSpot account behind a WSGI callable."""

    def __init__(self, settings: HubSpotSettings | None = None) -> None:
        self.settings = settings or HubSpotSettings()
        self.clock = Clock(self.settings.start_time, self.settings.frozen_clock)
        self.faults = FaultRegistry()
        self.stats = HubSpotStats()
        self.tokens = TokenRegistry(self.settings, self.clock)
        self.limiter = RateLimiter(self.settings, self.clock)
        self.engine = SearchEngine()
        self.state = HubSpotState(self.settings, self.clock)
        self.service = ObjectService(self.state)
        seed_state(self.state)

    # -- Python-side helpers (also used by the control API) --------------------------------
    @property
    def credentials(self) -> dict[str, Any]:
        s = self.settings
        return {
            "private_app_token": s.private_app_tokens[0] if s.private_app_tokens else None,
            "client_id": s.client_id,
            "client_secret": s.client_secret,
            "refresh_token": s.refresh_tokens[0] if s.refresh_tokens else None,
            "authorization_code": s.authorization_codes[0] if s.authorization_codes else None,
            "portal_id": s.portal_id,
        }

    def reset(self, reseed: bool = True, **_: Any) -> None:
        """Back to the seeded state: data, tokens, rate-limit windows, faults and stats."""
        with self.state.lock:
            self.state.build()
            self.service = ObjectService(self.state)
            self.engine.clear()
            if reseed:
                seed_state(self.state)
        self.tokens = TokenRegistry(self.settings, self.clock)
        self.limiter.reset()
        self.faults.reset()
        self.stats.reset()

    def insert(self, object_type: str, properties: dict[str, Any], obj_id: int | None = None,
               created: Any = None, updated: Any = None, validate: bool = False,
               associations: list[dict[str, Any]] | None = None) -> CrmObject:
        """Insert a record directly (no auth, no rate limit). Without ``validate`` values are
        stored as given (stringified), so read-only properties and odd values can be planted."""
        t = canonical_type(object_type)
        if t is None:
            raise ValueError(f"unknown object type {object_type}")
        with self.state.lock:
            if validate:
                clean = self.service.clean_properties(t, properties, None)
                self.service.check_unique(t, clean, None)
            else:
                clean = {k: (None if v is None else _plain(v)) for k, v in properties.items()}
            edges = self.service.resolve_associations(t, associations) if associations else []
            return self.service.insert_clean(
                t, clean, edges, obj_id=int(obj_id) if obj_id is not None else None,
                created_ms=_ms(created), updated_ms=_ms(updated))

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return self.handle(Request(environ), environ)(environ, start_response)

    def handle(self, request: Request, environ: dict[str, Any]) -> Response:
        cid = new_correlation_id()
        plan = self.faults.plan(request.method, request.path)
        self.stats.count_faults(len(plan.applied))
        endpoint = ["unknown"]

        def run() -> Response:
            endpoint[0], response = self.dispatch(request, cid)
            return response

        try:
            response = apply_faults(plan, environ, run, lambda fault: self._fault_response(fault, cid))
        except DropConnection:
            self.stats.record("fault.drop", 0, method=request.method, path=request.path)
            raise
        if plan.action is None or plan.action.kind != "status":  # a status fault counts as "fault.status"
            self.stats.record(endpoint[0], response.status_code, method=request.method, path=request.path)
        return response

    def dispatch(self, request: Request, cid: str) -> tuple[str, Response]:
        """Route, authenticate, rate-limit and run one API request."""
        endpoint = "unknown"
        headers: dict[str, str] = {}
        try:
            try:
                endpoint, args = URL_MAP.bind_to_environ(request.environ).match()
            except NotFound:
                return "not_found", self._plain_404(cid)
            except MethodNotAllowed:
                return "method_not_allowed", _json(405, {"status": "error", "message": "Method not allowed",
                                                          "correlationId": cid, "category": "VALIDATION_ERROR"},
                                                    cid, {})
            ctx = Ctx(self.state, self.service, self.engine, request)
            if endpoint in OAUTH_HANDLERS:
                status, body = OAUTH_HANDLERS[endpoint](ctx, self.tokens, **args)
                return endpoint, _json(status, body, cid, {})
            principal = self.tokens.authenticate(request.headers.get("Authorization"))
            headers = self.limiter.admit(principal, endpoint == "objects.search")
            with self.state.lock:
                status, body = HANDLERS[endpoint](ctx, **args)
            return endpoint, _json(status, body, cid, headers)
        except RateLimitError as exc:
            self.stats.tally("policy", exc.policy)
            return endpoint, _json(429, exc.body(cid), cid, exc.headers)
        except ApiError as exc:
            return endpoint, _json(exc.status, exc.body(cid), cid, {**headers, **exc.headers})
        except OAuthError as exc:
            return endpoint, _json(exc.status, {"status": exc.code, "message": exc.message, "correlationId": cid},
                                   cid, {})
        except EmptyNotFound:
            return endpoint, self._plain_404(cid, headers)
        except HTTPException as exc:
            return endpoint, _json(exc.code or 500, {"status": "error", "message": exc.description,
                                                     "correlationId": cid, "category": "VALIDATION_ERROR"}, cid, {})
        except Exception:  # pragma: no cover - emulator bug; surface it like HubSpot's 500
            traceback.print_exc()
            return endpoint, _json(500, {"status": "error", "message": "internal error", "correlationId": cid,
                                         "category": "INTERNAL_ERROR"}, cid, headers)

    def _plain_404(self, cid: str, headers: dict[str, str] | None = None) -> Response:
        html = self.settings.missing_get_body == "html"
        body = b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>" if html else b""
        resp = Response(body, status=404, content_type="text/html;charset=utf-8")
        for k, v in (headers or {}).items():
            resp.headers[k] = v
        resp.headers["x-hubspot-correlation-id"] = cid
        return resp

    def _fault_response(self, fault: Fault, cid: str) -> Response:
        status = fault.status
        self.stats.record("fault.status", status)
        if status == 429:
            exc = rate_limit_error(self.settings, "TEN_SECONDLY_ROLLING", "injected-ten-secondly-rolling", None)
            return _json(429, exc.body(cid), cid, exc.headers)
        if status in (502, 503, 504):
            text = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[status]
            body = f"<html><head><title>{status} {text}</title></head><body><h1>{status} {text}</h1></body></html>"
            resp = Response(body, status=status, content_type="text/html;charset=utf-8")
            resp.headers["x-hubspot-correlation-id"] = cid
            return resp
        category = _FAULT_CATEGORIES.get(status, "INTERNAL_ERROR")
        message = "internal error" if status >= 500 else f"Injected {status} error"
        return _json(status, {"status": "error", "message": message, "correlationId": cid, "category": category},
                     cid, {})


def _json(status: int, body: Any, cid: str, headers: dict[str, str]) -> Response:
    if status == 204:
        resp = Response(status=204)
        resp.headers.pop("Content-Type", None)
    else:
        resp = Response(orjson.dumps(body), status=status, content_type=JSON_TYPE)
    h = resp.headers
    for k, v in headers.items():
        h[k] = v
    h["x-hubspot-correlation-id"] = cid
    h["x-request-id"] = cid
    return resp


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ms(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    return ms_from_text(str(value))
