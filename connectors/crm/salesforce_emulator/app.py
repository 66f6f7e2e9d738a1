"""The WSGI application: faults, routing, sessions, the API allowance, handlers, error rendering.

Every authenticated reply carries ``Sforce-Limit-Info: api-usage=N/M``. The control API
(:mod:`.control`) is mounted in front of this app by :class:`~.emulator.SalesforceEmulator`, so
``/_emulator/…`` never reaches it.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from typing import Any

import orjson
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from connector_core.testing.emulator import (
    Clock,
    DropConnection,
    Fault,
    FaultRegistry,
    RequestStats,
    apply_faults,
)

from . import api_oauth, api_org
from .auth import TokenRegistry
from .bulk_jobs import BulkJobs
from .call import JSON_TYPE, Call, Reply
from .cursors import QueryCursors
from .errors import OAuthError, SalesforceError
from .limits import ApiUsage
from .routes import API_HANDLERS, URL_MAP, endpoint_args
from .seed import seed_org
from .settings import SalesforceSettings
from .store import OrgStore

_FAULT_CODES = {
    400: ("INVALID_FIELD", "Injected bad request"),
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    404: ("NOT_FOUND", "The requested resource does not exist"),
    500: (
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you "
        "contact support: 1093582446-51364 (-1340712312)",
    ),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable, please try again later"),
}
_CONCURRENCY = ("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")


class SalesforceApp:
    """A stateful Salesforce org behind a WSGI callable."""

    def __init__(self, settings: SalesforceSettings | None = None) -> None:
        self.settings = settings or SalesforceSettings()
        self.clock = Clock(self.settings.start_time, self.settings.frozen_clock)
        self.faults = FaultRegistry()
        self.stats = RequestStats(tallies=("grant", "error_code"))
        self.store = OrgStore(self.clock)
        self.tokens = TokenRegistry(self.settings, self.clock)
        self.usage = ApiUsage(self.settings.daily_api_limit, self.clock)
        self.cursors = QueryCursors(self.clock, self.settings.query_locator_ttl)
        self.bulk = BulkJobs(self.settings)
        self.tokens.user_id = seed_org(self.store, self.settings)

    @property
    def jwt_private_key_pem(self) -> str | None:
        """The private key matching the connected app's certificate, when the emulator made the pair."""
        return self.tokens.private_key_pem

    def reset(self, reseed: bool = True) -> None:
        """Back to the seeded org: records, sessions, the allowance, cursors, jobs, faults and stats."""
        with self.store.lock:
            self.store.clear()
            if reseed:
                self.tokens.user_id = seed_org(self.store, self.settings)
        self.tokens.expire_all()
        self.usage.reset()
        self.cursors.clear()
        self.bulk.clear()
        self.faults.reset()
        self.stats.reset()

    # -- WSGI --------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        plan = self.faults.plan(request.method, request.path)
        self.stats.count_faults(len(plan.applied))
        seen = {"endpoint": "unknown"}

        def run() -> Response:
            seen["endpoint"], response = self.dispatch(request)
            return response

        try:
            response = apply_faults(plan, environ, run, self._fault_reply)
        except DropConnection:
            self.stats.record("fault.drop", 0, method=request.method, path=request.path)
            raise
        self.stats.record(
            seen["endpoint"],
            response.status_code,
            method=request.method,
            path=request.path,
            query=request.query_string.decode("latin-1"),
        )
        return response(environ, start_response)

    def dispatch(self, request: Request) -> tuple[str, Response]:
        """Route, authenticate, count and run one request; errors in Salesforce's shapes."""
        try:
            endpoint, args = URL_MAP.bind_to_environ(request.environ).match()
        except NotFound:
            return "not_found", _error_response(
                SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
            )
        except MethodNotAllowed as exc:
            allowed = ", ".join(exc.valid_methods or [])
            return "method_not_allowed", _error_response(
                SalesforceError(
                    405,
                    "METHOD_NOT_ALLOWED",
                    f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}",
                )
            )
        endpoint = str(endpoint)
        base_url = f"{request.scheme}://{request.host}"
        try:
            if endpoint == "versions":
                return endpoint, _render(api_org.versions(request))
            if endpoint.startswith("oauth."):
                return endpoint, self._oauth(endpoint, request, base_url)
            version, handler_args = endpoint_args(args)
            if version not in api_org.VERSIONS:
                raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
            session = self.tokens.authenticate(request.headers.get("Authorization"))
            limit = self.settings.concurrent_request_limit
            if not self.stats.enter(limit):
                raise SalesforceError(403, *_CONCURRENCY)
            try:
                self.usage.count_call()
                call = Call(self, request, version, session)
                with self.store.lock:
                    reply = API_HANDLERS[endpoint](call, **handler_args)
            finally:
                self.stats.leave()
            reply.headers["Sforce-Limit-Info"] = self.usage.header()
            return endpoint, _render(reply)
        except SalesforceError as exc:
            self.stats.tally("error_code", exc.error_code)
            response = _error_response(exc)
            if exc.status != 401:
                response.headers["Sforce-Limit-Info"] = self.usage.header()
            return endpoint, response
        except OAuthError as exc:
            return endpoint, _render(Reply(exc.status, exc.body()))
        except Exception:  # an emulator bug: answer as Salesforce does, keep the trace on stderr
            traceback.print_exc()
            return endpoint, _error_response(SalesforceError(500, *_FAULT_CODES[500]))

    def _oauth(self, endpoint: str, request: Request, base_url: str) -> Response:
        if endpoint == "oauth.authorize":
            return api_oauth.authorize(request, self.tokens)
        if endpoint == "oauth.revoke":
            return _render(api_oauth.revoke(request, self.tokens))
        reply = api_oauth.token(request, self.tokens, base_url)
        self.stats.tally("grant", str(request.form.get("grant_type", "")))
        return _render(reply)

    def _fault_reply(self, fault: Fault) -> Response:
        code, message = _FAULT_CODES.get(
            fault.status, ("UNKNOWN_EXCEPTION", f"Injected {fault.status} error")
        )
        self.stats.tally("error_code", fault.code or code)
        response = _error_response(SalesforceError(fault.status, fault.code or code, fault.detail or message))
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response


def _render(reply: Reply) -> Response:
    if reply.status == 204 or (reply.body is None and reply.status != 200):
        response = Response(status=reply.status)
        response.headers.pop("Content-Type", None)
    elif isinstance(reply.body, bytes | str):
        response = Response(reply.body, status=reply.status, content_type=reply.content_type)
    else:
        response = Response(orjson.dumps(reply.body), status=reply.status, content_type=reply.content_type)
    for key, value in reply.headers.items():
        response.headers[key] = value
    return response


def _error_response(exc: SalesforceError) -> Response:
    return Response(orjson.dumps(exc.body()), status=exc.status, content_type=JSON_TYPE)
