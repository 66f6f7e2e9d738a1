"""The WSGI application: governance, faults, authentication and routing of protocol paths.

Request pipeline for ``/services/rest/…`` and the authorize page:
concurrency check (429) → faults (latency, status, drop, slow) → authentication (401) →
handler. The control API (:mod:`.control`) is mounted in front of this app by
:class:`~.server.NetSuiteEmulator`, so ``/_emulator/…`` never reaches it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import orjson
from werkzeug.wrappers import Request, Response

from connector_core.testing.emulator import DropConnection, Fault, FaultRegistry, RequestStats, apply_faults

from .auth_oauth2 import AUTHORIZE_PATH, TOKEN_PATH, OAuth2Server
from .auth_tba import TbaVerifier
from .errors import NsError, OAuthError, invalid_content, invalid_login, invalid_parameter
from .jobs import JobStore, StoredReply
from .metadata import catalog, json_schema, openapi
from .record_bodies import Validation
from .record_reads import RECORD_PATH, collection_href, parse_paging, record_location
from .records import RecordService, WriteResult
from .responses import (
    COLLECTION_CONTENT_TYPE,
    SINGULAR_CONTENT_TYPE,
    error_reply,
    json_reply,
    no_content,
    oauth_error_reply,
    raw_reply,
)
from .schema import RECORD_TYPES
from .seed import seed
from .settings import EmulatorSettings
from .store import Store
from .suiteql import SuiteQLEngine

SUITEQL_PATH = "/services/rest/query/v1/suiteql"
ASYNC_PATH = "/services/rest/async/v1/job"
REST_PREFIX = "/services/rest/"


def _route(path: str) -> str:
    if path.startswith(SUITEQL_PATH):
        return "suiteql"
    if path.startswith(RECORD_PATH):
        return "record"
    if path.startswith(TOKEN_PATH):
        return "token"
    if path.startswith(ASYNC_PATH):
        return "async"
    if path.startswith(AUTHORIZE_PATH):
        return "authorize"
    return "other"


class EmulatorApp:
    """Stateful NetSuite look-alike as a WSGI callable."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.store = Store()
        self.store.set_clock(settings.clock.now)
        seed(self.store, settings)
        self.records = RecordService(self.store, settings)
        self.suiteql = SuiteQLEngine(self.store, lambda: self.settings.row_cap, lambda: self.settings.date_format)
        self.tba = TbaVerifier(settings)
        self.oauth2 = OAuth2Server(settings)
        self.faults = FaultRegistry(path_prefix="/services/", count=None, status=503, seconds=0.0)
        self.stats = RequestStats(tallies=("auth",))
        self.jobs = JobStore()

    def reset(self, reseed: bool = True) -> None:
        """Back to the freshly seeded state: data, tokens, nonces, jobs, faults and stats."""
        with self.store.lock:
            self.store.create_schema()
            if reseed:
                seed(self.store, self.settings)
            else:
                self.store.create_indexes()
        self.oauth2.reset()
        self.tba.nonces.clear()
        self.jobs.reset()
        self.faults.reset()
        self.stats.reset()

    # ------------------------------------------------------------------ WSGI entry

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._protocol(Request(environ))(environ, start_response)

    def _protocol(self, request: Request) -> Response:
        path = request.path
        route = _route(path)
        governed = path.startswith(REST_PREFIX) and route != "token"
        auth_kind: list[str | None] = [None]
        status = 500
        query = request.query_string.decode()
        if not self.stats.enter(self.settings.concurrency_limit if governed else None):
            response = self._concurrency_reply()
            self.stats.record(route, 429, method=request.method, path=path, query=query, tags={"auth": None})
            return response
        try:
            plan = self.faults.plan(request.method, path)
            self.stats.count_faults(len(plan.applied))
            response = apply_faults(plan, request.environ, lambda: self._dispatch(request, route, auth_kind),
                                    self._fault_reply, reset=False)
            status = response.status_code
            return response
        except DropConnection:
            status = 0
            raise
        finally:
            self.stats.leave()
            self.stats.record(route, status, method=request.method, path=path, query=query,
                              tags={"auth": auth_kind[0]})

    def _concurrency_reply(self) -> Response:
        err = NsError(429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked.")
        if self.settings.concurrency_retry_after is not None:
            err.headers["Retry-After"] = str(self.settings.concurrency_retry_after)
        return error_reply(err)

    @staticmethod
    def _fault_reply(fault: Fault) -> Response:
        if fault.status == 429:
            code = fault.code or "CONCURRENCY_LIMIT_EXCEEDED"
            detail = fault.detail or "Concurrent request limit exceeded. Request blocked."
        elif fault.status >= 500:
            code = fault.code or "UNEXPECTED_ERROR"
            detail = fault.detail or "An unexpected error occurred. Error ID: emulator-fault"
        else:
            code = fault.code or "USER_ERROR"
            detail = fault.detail or "Error while accessing a resource. Injected fault."
        err = NsError(fault.status, code, detail)
        if fault.retry_after is not None:
            err.headers["Retry-After"] = str(fault.retry_after)
        return error_reply(err)

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, request: Request, route: str, auth_kind: list[str | None]) -> Response:
        try:
            if route == "token":
                return self._token(request)
            if route == "authorize":
                return self._authorize(request)
            auth_kind[0] = self._authenticate(request)
            if request.method == "OPTIONS":
                return no_content()
            if route == "suiteql":
                return self._suiteql(request)
            if route == "record":
                return self._record(request)
            if route == "async":
                return self._async(request)
            raise NsError(404, "NONEXISTENT_ID", f"The requested resource {request.path} does not exist.")
        except NsError as err:
            return error_reply(err)
        except OAuthError as err:
            return oauth_error_reply(err)

    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("Authorization", "")
        scheme = header.split(" ", 1)[0].lower()
        if scheme == "oauth":
            uri = self._signed_uri(request)
            ok = self.tba.verify(
                request.method, uri, dict(request.headers), request.get_data(cache=True),
                request.headers.get("Content-Type", ""),
            )
            if ok:
                return "tba"
        elif scheme == "bearer":
            if self.oauth2.check_bearer(header[7:].strip()):
                return "oauth2"
        raise invalid_login()

    @staticmethod
    def _signed_uri(request: Request) -> str:
        raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")
        if not raw:
            raw = quote(request.path)
            if request.query_string:
                raw += "?" + request.query_string.decode()
        if raw.startswith("http://") or raw.startswith("https://"):
            return raw
        return f"{request.scheme}://{request.host}{raw}"

    @staticmethod
    def base_url(request: Request) -> str:
        return f"{request.scheme}://{request.host}"

    # ------------------------------------------------------------------ OAuth 2.0

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            raise NsError(405, "INVALID_REQUEST", "Method not allowed.")
        base = self.base_url(request)
        token_urls = [
            f"{base}{TOKEN_PATH}",
            f"https://{self.settings.host_prefix}.suitetalk.api.netsuite.com{TOKEN_PATH}",
        ]
        form = {k: v for k, v in request.form.items()}
        reply = self.oauth2.token(form, request.headers.get("Authorization"), token_urls)
        return json_reply(reply)

    def _authorize(self, request: Request) -> Response:
        status, target = self.oauth2.authorize(dict(request.args.items()))
        if status == 302:
            resp = Response(status=302)
            resp.headers["Location"] = target
            return resp
        return Response(f"<html><body>{target}</body></html>", status=400, content_type="text/html")

    # ------------------------------------------------------------------ SuiteQL

    def _suiteql(self, request: Request) -> Response:
        if request.method != "POST":
            raise NsError(405, "INVALID_REQUEST", f"Method {request.method} is not allowed for SuiteQL.")
        prefer = request.headers.get("Prefer", "")
        transient = "transient" in prefer.lower()
        if self.settings.require_prefer_transient and not transient:
            raise NsError(
                400, "INVALID_HEADER", "The request must include the header 'Prefer: transient'.",
                error_header="Prefer",
            )
        limit, offset, given = parse_paging(request.args, self.settings.page_cap)
        body = _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("q"), str) or not body["q"].strip():
            raise invalid_content("Invalid content in the request body. The body must contain a 'q' string.")
        if offset >= self.settings.row_cap and self.settings.row_cap_offset_behavior == "error":
            raise invalid_parameter(
                f"Invalid value for query parameter 'offset'. SuiteQL returns at most "
                f"{self.settings.row_cap} rows per query; use keyset paging (WHERE id > …) instead.",
                query_param="offset",
            )
        page = self.suiteql.run(body["q"], limit, offset)
        base = self.base_url(request)
        return self._collection(
            base, SUITEQL_PATH, page.items, page.total, page.has_more, limit, offset, given, None,
            {"Preference-Applied": "transient"} if transient else None,
        )

    @staticmethod
    def _collection(
        base: str, path: str, items: list[dict[str, Any]], total: int, has_more: bool, limit: int,
        offset: int, given: bool, q: str | None, headers: dict[str, str] | None,
    ) -> Response:
        self_href = collection_href(base, path, limit, offset, q) if given or q else f"{base}{path}"
        links = []
        if has_more:
            links.append({"rel": "next", "href": collection_href(base, path, limit, offset + limit, q)})
        links.append({"rel": "self", "href": self_href})
        payload = {
            "links": links,
            "count": len(items),
            "hasMore": has_more,
            "items": items,
            "offset": offset,
            "totalResults": total,
        }
        return raw_reply(orjson.dumps(payload), 200, COLLECTION_CONTENT_TYPE, headers)

    # ------------------------------------------------------------------ record API

    def _record(self, request: Request) -> Response:
        rest = request.path[len(RECORD_PATH):].strip("/")
        parts = [p for p in rest.split("/") if p] if rest else []
        base = self.base_url(request)
        method = request.method
        if not parts:
            raise NsError(404, "NONEXISTENT_ID", "Record type '' does not exist.")
        if parts[0] == "metadata-catalog":
            return self._metadata(request, parts[1:], base)
        rt = self.records.record_type(parts[0])
        validation = Validation(
            names=_validation_mode(request.headers.get("X-NetSuite-PropertyNameValidation"), "Warning"),
            values=_validation_mode(request.headers.get("X-NetSuite-PropertyValueValidation"), "Error"),
        )
        if len(parts) == 1:
            if method == "GET":
                return self._list(request, rt, base, parts[0])
            if method == "POST":
                return self._write(request, lambda: self.records.create(rt, _json_body(request), validation))
            raise _method_not_allowed(method)
        token = parts[1]
        if len(parts) == 2:
            if method == "GET":
                rid = self.records.resolve_id(rt, token)
                fields_arg = request.args.get("fields")
                fields = {f.strip().lower() for f in fields_arg.split(",")} if fields_arg else None
                body = self.records.serialize(
                    rt, self.records.load(rt, rid), base,
                    expand=_truthy(request.args.get("expandSubResources")),
                    simple_enum=_truthy(request.args.get("simpleEnumFormat")),
                    fields=fields,
                )
                return json_reply(body, content_type=SINGULAR_CONTENT_TYPE)
            if method == "PATCH":
                replace = {r.strip() for r in request.args.get("replace", "").split(",") if r.strip()}
                selected = _truthy(request.args.get("replaceSelectedFields"))

                def patch() -> WriteResult:
                    rid = self.records.resolve_id(rt, token)
                    return self.records.update(rt, rid, _json_body(request), validation, replace, selected)

                return self._write(request, patch)
            if method == "PUT":
                if not token.lower().startswith("eid:"):
                    raise NsError(405, "INVALID_REQUEST", "PUT is supported only with an external ID (eid:).")
                return self._write(
                    request, lambda: self.records.upsert(rt, token[4:], _json_body(request), validation)
                )
            if method == "DELETE":

                def delete() -> WriteResult:
                    rid = self.records.resolve_id(rt, token)
                    self.records.delete(rt, rid)
                    return WriteResult(rt, rid)

                return self._write(request, delete, location=False)
            raise _method_not_allowed(method)
        if parts[2] == "!transform" and len(parts) == 4:
            if method != "POST":
                raise _method_not_allowed(method)

            def transform() -> WriteResult:
                rid = self.records.resolve_id(rt, token)
                raw = request.get_data(cache=True)
                return self.records.transform(rt, rid, parts[3], _json_body(request) if raw.strip() else None,
                                              validation)

            return self._write(request, transform)
        if method == "GET" and parts[2] in ("item", "addressbook") and len(parts) <= 4:
            return self._sublist(rt, token, parts[2:], base)
        raise NsError(404, "NONEXISTENT_ID", f"The requested resource {request.path} does not exist.")

    def _sublist(self, rt: Any, token: str, parts: list[str], base: str) -> Response:
        rid = self.records.resolve_id(rt, token)
        row = self.records.load(rt, rid)
        field = rt.field(parts[0])
        if field is None or field.kind != "sublist":
            raise NsError(404, "NONEXISTENT_ID", f"Sublist '{parts[0]}' does not exist.")
        self_href = f"{base}{RECORD_PATH}/{rt.name}/{rid}"
        sub = self.records.sublist(rt, field, row, self_href, base, True, False)
        if len(parts) == 1:
            return json_reply(sub, content_type=COLLECTION_CONTENT_TYPE)
        for line in sub["items"]:
            if str(line.get("line")) == parts[1]:
                return json_reply(line, content_type=SINGULAR_CONTENT_TYPE)
        raise NsError(404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid record instance ID.")

    def _list(self, request: Request, rt: Any, base: str, type_segment: str) -> Response:
        limit, offset, given = parse_paging(request.args, self.settings.page_cap)
        q = request.args.get("q")
        if offset >= self.settings.row_cap:
            if self.settings.row_cap_offset_behavior == "error":
                raise invalid_parameter(
                    f"Invalid value for query parameter 'offset'. At most {self.settings.row_cap} records "
                    "can be listed.", query_param="offset",
                )
            ids: list[int] = []
            total = int(self.records.list(rt, q, 1, 0)[1])
        else:
            limit_here = max(0, min(limit, self.settings.row_cap - offset))
            ids, total = self.records.list(rt, q, limit_here, offset)
        capped = min(total, self.settings.row_cap)
        has_more = offset + len(ids) < capped
        items = [
            {"links": [{"rel": "self", "href": record_location(base, rt, i)}], "id": str(i)} for i in ids
        ]
        path = f"{RECORD_PATH}/{type_segment}"
        return self._collection(base, path, items, total, has_more, limit, offset, given, q, None)

    def _write(self, request: Request, action: Callable[[], WriteResult], location: bool = True) -> Response:
        """Run a write synchronously, or as an async job under ``Prefer: respond-async``."""
        base = self.base_url(request)
        prefer = request.headers.get("Prefer", "").lower()
        if "respond-async" not in prefer:
            return self._write_reply(action(), base, location)
        key = request.headers.get("X-NetSuite-Idempotency-Key")
        if key:
            first = self.jobs.job_for_key(key)
            if first is not None:
                raise NsError(
                    400, "IDEMPOTENCY_ERROR",
                    f"A request with the idempotency key {key} has already been submitted.",
                    title="Conflict", headers={"Location": f"{base}{ASYNC_PATH}/{first}"},
                )
        job_id = self.jobs.reserve(key)
        try:
            resp = self._write_reply(action(), base, location)
            stored = StoredReply(resp.status_code, resp.get_data(), resp.headers.get("Content-Type"),
                                 {k: v for k, v in resp.headers.items()
                                  if k in ("Location", "X-NetSuite-PropertyValidation")})
        except NsError as err:
            stored = StoredReply(err.status, err.body(), "application/vnd.oracle.resource+json; type=error; "
                                 "charset=UTF-8")
        self.jobs.finish(job_id, stored)
        return no_content(
            f"{base}{ASYNC_PATH}/{job_id}", {"Preference-Applied": "respond-async"}, status=202
        )

    @staticmethod
    def _write_reply(result: WriteResult, base: str, location: bool) -> Response:
        headers = {}
        if result.warnings:
            headers["X-NetSuite-PropertyValidation"] = " ".join(result.warnings)
        return no_content(record_location(base, result.rt, result.id) if location else None, headers)

    def _metadata(self, request: Request, parts: list[str], base: str) -> Response:
        accept = request.headers.get("Accept", "")
        if not parts:
            select = request.args.get("select")
            names = [s.strip() for s in select.split(",")] if select else None
            if "swagger+json" in accept:
                types = [rt for rt in RECORD_TYPES.values() if names is None or rt.name.lower() in
                         {n.lower() for n in names}]
                return json_reply(openapi(types, base), content_type="application/swagger+json")
            return json_reply(catalog(base, names))
        rt = self.records.record_type(parts[0])
        if "swagger+json" in accept:
            return json_reply(openapi([rt], base), content_type="application/swagger+json")
        return json_reply(json_schema(rt), content_type="application/schema+json")

    # ------------------------------------------------------------------ async jobs

    def _async(self, request: Request) -> Response:
        base = self.base_url(request)
        parts = [p for p in request.path[len(ASYNC_PATH):].split("/") if p]
        if request.method != "GET" or not parts or not parts[0].isdigit():
            raise NsError(404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid record "
                          "instance ID.")
        job_id = int(parts[0])
        job_href = f"{base}{ASYNC_PATH}/{job_id}"
        if len(parts) == 1:
            polled = self.jobs.poll(job_id, self.settings.async_pending_polls)
            if polled is None:
                raise NsError(404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid "
                              "record instance ID.")
            polled_job, done = polled
            progress = ("succeeded" if polled_job.reply.status < 400 else "failed") if done else "pending"
            return json_reply({
                "links": [{"rel": "self", "href": job_href}],
                "completed": done,
                "id": str(job_id),
                "progress": progress,
                "task": {"links": [{"rel": "related", "href": f"{job_href}/task"}]},
            })
        job = self.jobs.get(job_id)
        if job is None or parts[1] != "task":
            raise NsError(404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid record "
                          "instance ID.")
        task_href = f"{job_href}/task/{job_id}"
        if len(parts) == 2:
            return json_reply({
                "links": [{"rel": "self", "href": f"{job_href}/task"}],
                "count": 1, "hasMore": False,
                "items": [{"links": [{"rel": "self", "href": task_href}], "id": str(job_id)}],
                "offset": 0, "totalResults": 1,
            }, content_type=COLLECTION_CONTENT_TYPE)
        if len(parts) == 3:
            return json_reply({
                "links": [{"rel": "self", "href": task_href},
                          {"rel": "related", "href": f"{task_href}/result"}],
                "completed": True, "id": str(job_id),
                "progress": "succeeded" if job.reply.status < 400 else "failed",
            })
        reply = job.reply
        resp = Response(reply.body, status=reply.status)
        if reply.content_type:
            resp.headers["Content-Type"] = reply.content_type
        else:
            resp.headers.pop("Content-Type", None)
        resp.headers.update(reply.headers)
        return resp


def _json_body(request: Request) -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid_content("Invalid content in the request body.") from None


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "t", "1", "yes")


def _validation_mode(value: str | None, default: str) -> str:
    if value and value.strip().capitalize() in ("Error", "Warning", "Ignore"):
        return value.strip().capitalize()
    return default


def _method_not_allowed(method: str) -> NsError:
    return NsError(405, "INVALID_REQUEST", f"The HTTP method {method} is not allowed for this resource.")

