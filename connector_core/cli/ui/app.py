"""The dashboard's WSGI application (Werkzeug routing, Jinja2 templates with autoescaping).

Pages: ``/`` the connections; ``/c/<connection>`` one connection (run history, cursors, ID map search,
dead letters by reason); ``/c/<connection>/jobs/<id>`` an action's progress and outcome (a dry run's
writes). Actions are POSTs: ``run``, ``dry-run`` and ``retry`` (one dead letter, a flow's, or all).
Every page needs a signed-in session (:mod:`.security`); every string a template prints passes the
secret mask as well as HTML escaping.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, NotFound
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from connector_core.cli.ui import charts
from connector_core.cli.ui.jobs import BusyError, Job, JobBoard
from connector_core.cli.ui.security import COOKIE, CSRF_FIELD, Guard
from connector_core.cli.ui.state_view import Connections, Entry, detail, overview
from connector_core.engine.redaction import redact
from connector_core.engine.registry import Registry

HERE = Path(__file__).resolve().parent
log = logging.getLogger("connector_core.ui")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes browsers send `Origin: null` on our own forms
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

URLS = Map(
    [
        Rule("/", endpoint="index", methods=["GET"]),
        Rule("/login", endpoint="login", methods=["GET", "POST"]),
        Rule("/logout", endpoint="logout", methods=["POST"]),
        Rule("/c/<slug>", endpoint="connection", methods=["GET"]),
        Rule("/c/<slug>/run", endpoint="run", methods=["POST"]),
        Rule("/c/<slug>/dry-run", endpoint="dry_run", methods=["POST"]),
        Rule("/c/<slug>/retry", endpoint="retry", methods=["POST"]),
        Rule("/c/<slug>/jobs/<int:job_id>", endpoint="job", methods=["GET"]),
    ],
    strict_slashes=False,
)


def _masked(value: Any) -> Any:
    """Jinja's finalize: every printed string passes the process's secret mask (markup a macro made
    stays markup: a mask is plain text)."""
    if isinstance(value, Markup):
        return Markup(redact(str(value)))
    return redact(value) if isinstance(value, str) else value


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, finalize=_masked, trim_blocks=True, lstrip_blocks=True)
    env.filters["as_json"] = lambda value: json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)
    env.globals.update(sparkline=charts.sparkline, history=charts.history, status_css=charts.STATUS_CLASS)
    return env


class Dashboard:
    """The WSGI application over the connection files of one directory."""

    def __init__(self, directory: Path, registry: Registry, guard: Guard, *, state: str | None = None) -> None:
        self.connections = Connections(directory, registry, state)
        self.jobs = JobBoard(registry, state)
        self.guard = guard
        self.env = _environment()
        self.wsgi: Callable[..., Iterable[bytes]] = SharedDataMiddleware(self._app, {"/static": str(HERE / "static")})

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.wsgi(environ, start_response)

    # -- plumbing ------------------------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except HTTPException as exc:
            response = self._page("error.html", request, None, status=exc.code or 500, code=exc.code, message=exc.description)
        except Exception as exc:  # a bug: one line on the page, the traceback in the log (masked), never on the page
            log.exception("internal error on %s %s", request.method, request.path)
            response = self._page("error.html", request, None, status=500, code=500, message=f"internal error: {type(exc).__name__}; the dashboard's log has the details")
        response.headers.update(SECURITY_HEADERS)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if not self.guard.host_ok(request):
            raise Forbidden("this dashboard answers on 127.0.0.1 or localhost only")
        endpoint, args = URLS.bind_to_environ(request.environ).match()
        if endpoint == "login":
            return self.login(request)
        session = self.guard.session_of(request)
        if session is None:
            if request.method == "POST":
                raise Forbidden("sign in first: this action needs the token the dashboard printed when it started, or its password")
            return redirect(f"/login?next={quote(request.path)}", 303)
        if request.method == "POST" and not self.guard.csrf_ok(request, session):
            raise Forbidden("the form was not this dashboard's (its CSRF token is missing or stale): reload the page and try again")
        handler: Callable[..., Response] = getattr(self, endpoint)
        return handler(request, session, **args)

    def _page(self, template: str, request: Request, session: str | None, *, status: int = 200, **context: Any) -> Response:
        page = self.env.get_template(template).render(
            request=request, signed_in=session is not None, csrf_field=CSRF_FIELD, csrf=self.guard.csrf_token(session) if session else "", **context
        )
        return Response(page, status=status, mimetype="text/html")

    def _entry(self, slug: str) -> Entry:
        entry = self.connections.get(slug)
        if entry is None:
            raise NotFound(f"no connection file '{slug}' in {self.connections.directory}")
        return entry

    # -- pages ---------------------------------------------------------------------------------------

    def login(self, request: Request) -> Response:
        target = request.values.get("next", "/")
        if not target.startswith("/") or target[1:2] in ("/", "\\"):
            target = "/"  # never off this site (browsers read "//host" and "/\host" alike: another host)
        given = request.form.get("secret") if request.method == "POST" else request.args.get("token")
        if request.method == "POST" and not self.guard.same_origin(request):
            raise Forbidden("the sign-in form was not this dashboard's")
        if given is not None:
            if self.guard.accepts(given):
                response = redirect(target, 303)
                response.set_cookie(COOKIE, self.guard.new_session(), httponly=True, samesite="Strict", path="/")
                return response
            return self._page("login.html", request, None, status=403, next=target, failed=True, password=bool(self.guard.password))
        return self._page("login.html", request, None, next=target, failed=False, password=bool(self.guard.password))

    def logout(self, request: Request, session: str) -> Response:
        self.guard.end_session(session)
        response = redirect("/login", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    def index(self, request: Request, session: str) -> Response:
        items = [overview(self.connections, entry) for entry in self.connections.all()]
        running = {job.slug for job in self.jobs.jobs() if not job.finished}
        return self._page("index.html", request, session, items=items, busy=running, directory=self.connections.directory)

    def connection(self, request: Request, session: str, slug: str) -> Response:
        entry = self._entry(slug)
        search = request.args.get("q")
        return self._page("connection.html", request, session, d=detail(self.connections, entry, search), search=search or "", jobs=self.jobs.jobs(slug)[:10])

    def job(self, request: Request, session: str, slug: str, job_id: int) -> Response:
        job = self.jobs.get(job_id)
        if job is None or job.slug != slug:
            raise NotFound(f"no job {job_id} of '{slug}' in this dashboard (jobs are kept until it stops)")
        # one moment of the job (its thread sets the result, then the end): read live, a job ending while the
        # page renders showed its final status without its summary, and the page stopped refreshing
        job = copy.copy(job)
        return self._page("job.html", request, session, job=job, summary=_summary(job))

    # -- actions -------------------------------------------------------------------------------------

    def _start(self, request: Request, slug: str, kind: Any, letters: Any = None, detail_text: str = "") -> Response:
        entry = self._entry(slug)
        if entry.loaded is None:
            raise BadRequest(f"{entry.path} does not load: {entry.error}")
        try:
            job = self.jobs.start(slug, entry.loaded, kind, letters, detail_text)
        except BusyError:
            busy = self.jobs.busy(slug)
            raise _Conflict(f"'{slug}' has a job running in this dashboard ({busy.title if busy else 'just now'}); wait for it to end") from None
        return redirect(f"/c/{slug}/jobs/{job.id}", 303)

    def run(self, request: Request, session: str, slug: str) -> Response:
        return self._start(request, slug, "run")

    def dry_run(self, request: Request, session: str, slug: str) -> Response:
        return self._start(request, slug, "dry_run")

    def retry(self, request: Request, session: str, slug: str) -> Response:
        entry = self._entry(slug)
        flows = [f.name for f in entry.loaded.connection.flows] if entry.loaded else []
        flow, source_id = request.form.get("flow"), request.form.get("source_id")
        if flow is None:
            return self._start(request, slug, "retry", dict.fromkeys(flows), "every dead letter")
        if flow not in flows:
            raise BadRequest(f"'{slug}' has no flow '{flow}' (flows: {', '.join(flows)})")
        if source_id:
            return self._start(request, slug, "retry", {flow: {source_id}}, f"{flow} record {source_id}")
        return self._start(request, slug, "retry", {flow: None}, f"every dead letter of {flow}")


class _Conflict(HTTPException):
    code = 409


def _summary(job: Job) -> str | None:
    """The runner's summary of a finished job, as ``run`` prints it."""
    if job.result is None:
        return None
    from connector_core.cli.run_report import reported, summary

    listing = "the connection's page lists every one" + ("" if job.kind == "dry_run" else "; each run retries them")
    return summary(reported(job.result, job.dead, listing))


__all__ = ["Dashboard"]
