"""A spec bound to a config: its HTTP client, auth, governor, templates and error rules.

The reader, the write operations and discovery work on a :class:`ConnectorSession`; the public
:class:`~connector_core.engine.connector.Connector` adds the verbs on top of it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from connector_core.engine.auth import AuthContext, MemoryTokenStore, TokenStore
from connector_core.engine.clock import EngineClock
from connector_core.engine.config import masked_config, prepare_config
from connector_core.engine.governance import Governor
from connector_core.engine.http import IGNORE, HttpClient
from connector_core.engine.interpolation import Interpolator
from connector_core.engine.loader import LoadedSpec
from connector_core.engine.redaction import Redactor
from connector_core.engine.registry import Registry
from connector_core.engine.spec import HTTP_METHODS, ErrorRule, RequestSpec
from connector_core.engine.urls import check_transport
from connector_core.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    FatalHTTPError,
    InterpolationError,
    RetriableHTTPError,
    SpecError,
)


@dataclass
class RequestArgs:
    """A rendered request, ready for the HTTP client (after a paginator had its say)."""

    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    json: Any = None
    data: Any = None
    files: Any = None
    timeout: float | None = None
    has_json: bool = False
    bucket: str | None = None


class ConnectorSession:
    """A connector spec bound to a config: what reading, writing and discovery build their requests with."""

    def __init__(
        self,
        loaded: LoadedSpec,
        config: Mapping[str, Any] | str | Path | None,
        registry: Registry,
        *,
        tokens: TokenStore | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        now: dt.datetime | str | None = None,
    ) -> None:
        self.loaded = loaded
        registry = loaded.registry or registry  # with the spec's own `plugins` (engine/spec_plugins.py)
        self.spec = loaded.spec
        self.name = self.spec.name
        self.registry = registry
        self.clock = clock  # seconds since the epoch for waits and token expiry; tests pin it
        # what templates, windows and slicers see as "now": `now` (or CONNECTOR_CORE_NOW) pins it for a run
        self.now = EngineClock(now, clock)
        self.redactor = Redactor()
        self.config = prepare_config(self.spec.config, config, self.redactor)
        # what templates whose result stays here (records, outputs, messages) see as `config`
        self.visible_config: dict[str, Any] = masked_config(self.spec.config, self.config, self.redactor)
        self.interpolator = Interpolator(registry.filters, now=self.now.now)
        self.base_url = str(self.render(self.spec.base_url, {}, "base_url")).rstrip("/")
        check_transport(self.base_url)
        defaults = self.spec.defaults
        rate = defaults.rate_limit
        concurrency = _positive_int(self.render(defaults.concurrency, {}, "defaults.concurrency"), "defaults.concurrency")
        self.governor = Governor(
            concurrency,
            self._rate_requests(rate, "defaults.rate_limit") if rate else None,
            rate.per if rate else 1.0,
            sleep=sleep,
            clock=time.monotonic if clock is time.time else clock,
            buckets={name: (self._rate_requests(limit, f"defaults.rate_limits.{name}"), limit.per) for name, limit in defaults.rate_limits.items()},
            budget_headers=_budget_headers(defaults.rate_limit_headers, defaults.retries.max_wait),
            quota=self._quota(defaults.quota),
        )
        self._check_buckets()
        self.session = session or requests.Session()
        auth = None
        self.auth_spec = self._choose_auth()
        if self.auth_spec is not None:
            ctx = AuthContext(
                render=lambda value: self.render(value, {}, "auth"),
                redactor=self.redactor,
                session=self.session,
                check_url=lambda url: check_transport(url, "token URL"),
                tokens=tokens or MemoryTokenStore(),
                connector=self.name,
                now=clock,
            )
            auth = self.auth_spec.build(ctx)
        self.auth = auth
        self.http = HttpClient(
            base_url=self.base_url,
            auth=auth,
            redactor=self.redactor,
            governor=self.governor,
            retry=defaults.retries,
            timeout=defaults.timeout,
            headers={k: str(v) for k, v in self.render(defaults.headers, {}, "defaults.headers").items()},
            interpret=self.interpret,
            interpret_success=any(_rule_sees_success(rule) for rule in self.spec.errors),
            success_statuses=_success_statuses(self.spec.errors),
            session=self.session,
            sleep=sleep,
        )
        self._default_query = self.render(defaults.query, {}, "defaults.query")
        self._executor: ThreadPoolExecutor | None = None

    def _rate_requests(self, limit: Any, where: str) -> int:
        value = self.render(limit.requests, {}, f"{where}.requests")
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if number < 1:
            raise ConfigError(f"{where}.requests must be a whole number of at least 1, got {value!r}")
        return number

    def _quota(self, spec: Any) -> Any:
        if spec is None:
            return None
        import re

        from connector_core.engine.governance import Quota

        value = self.render(spec.reserve, {}, "defaults.quota.reserve")
        try:
            reserve = int(value)
        except (TypeError, ValueError):
            reserve = -1
        if reserve < 0:
            raise ConfigError(f"defaults.quota.reserve must be a whole number of at least 0, got {value!r}")
        hint = str(self.render_visible(spec.hint, {}, "defaults.quota.hint")) if spec.hint else None
        return Quota(spec.header, re.compile(spec.pattern), reserve, hint)

    def _check_buckets(self) -> None:
        known = self.spec.defaults.rate_limits
        requests_: list[tuple[str, RequestSpec]] = [(f"streams.{n}.request", s.request) for n, s in self.spec.streams.items()]
        requests_ += [(f"streams.{n}.enrich[{i}].request", e.request) for n, s in self.spec.streams.items() for i, e in enumerate(s.enrich)]
        requests_ += [(f"operations.{n}.request", o.request) for n, o in self.spec.operations.items()]
        for where, request in requests_:
            if request.rate_limit is not None and request.rate_limit not in known:
                raise SpecError(
                    f"{where}.rate_limit names '{request.rate_limit}', which defaults.rate_limits does not define",
                    hint=f"defined: {', '.join(known) or '(none)'}",
                )

    def _choose_auth(self) -> Any:
        """The spec's auth; from a list of choices, the first whose `when` holds."""
        auth = self.spec.auth
        if not isinstance(auth, list):
            return auth
        for index, choice in enumerate(auth):
            if choice.when is None or _truthy(self.render(choice.when, {}, f"auth[{index}].when")):
                return choice.use
        raise ConfigError(
            "none of the spec's auth choices applies to this config",
            hint="the config lacks the credentials every auth choice needs; see the connector's documentation",
        )

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            from connector_core.engine.arenas import limit_malloc_arenas

            limit_malloc_arenas()
            self._executor = ThreadPoolExecutor(max_workers=self.governor.concurrency, thread_name_prefix=f"{self.name}-page")
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self.session.close()

    def __enter__(self) -> ConnectorSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- templates and requests ------------------------------------------------------------------

    def context(self, **values: Any) -> dict[str, Any]:
        return {"config": self.config, **values}

    def render(self, value: Any, values: Mapping[str, Any], where: str = "") -> Any:
        """Render a template whose result goes to the API (requests, auth) or stays internal."""
        return self.interpolator.render(value, {"config": self.config, **values}, where)

    def render_visible(self, value: Any, values: Mapping[str, Any], where: str = "") -> Any:
        """Render a template whose result is shown or stored (records, outputs, messages): its
        ``config`` has every secret masked (``***``), so no transform of a secret can leak it."""
        return self.interpolator.render(value, {"config": self.visible_config, **values}, where)

    def build_request(self, request: RequestSpec, values: Mapping[str, Any], where: str) -> RequestArgs:
        """Render a request spec; query parameters whose value renders to None are left out."""
        ctx = {"config": self.config, **values}
        render = self.interpolator.render

        def mapping(value: Any, part: str) -> dict[str, Any]:
            rendered = render(value, ctx, f"{where}.{part}")
            if rendered is None:
                return {}
            if not isinstance(rendered, dict):
                raise InterpolationError(f"{where}.{part} must give a mapping, got {type(rendered).__name__}")
            return rendered

        path = self.interpolator.render_path(request.path, ctx, f"{where}.path")
        query = {**self._default_query, **mapping(request.query, "query")}
        params = {k: _query_value(v) for k, v in query.items() if v is not None}
        headers = {k: str(v) for k, v in mapping(request.headers, "headers").items() if v is not None}
        timeout = render(request.timeout, ctx, f"{where}.timeout") if request.timeout is not None else None
        method = str(render(request.method, ctx, f"{where}.method")).upper()
        if method not in HTTP_METHODS:
            raise InterpolationError(f"{where}.method gave {method!r}, which is not an HTTP method ({', '.join(HTTP_METHODS)})")
        args = RequestArgs(
            method=method, path=path, params=params, headers=headers, timeout=float(timeout) if timeout else None, bucket=request.rate_limit
        )
        if request.json_body is not None:
            args.json = render(request.json_body, ctx, f"{where}.json")
            args.has_json = args.json is not None
        elif request.form is not None:
            args.data = {k: v for k, v in mapping(request.form, "form").items() if v is not None}
        elif request.body is not None:
            args.data = render(request.body, ctx, f"{where}.body")
        if request.multipart is not None or request.files is not None:
            files: dict[str, Any] = {}
            for name, value in mapping(request.multipart, "multipart").items():
                if value is not None:
                    files[name] = (None, str(value))
            parts = request.files if isinstance(request.files, dict) else mapping(request.files, "files")
            for name, part in parts.items():
                fields = part.model_dump() if hasattr(part, "model_dump") else dict(part if isinstance(part, dict) else {"content": part})
                content = render(fields.get("content"), ctx, f"{where}.files.{name}.content")
                filename = render(fields.get("filename"), ctx, f"{where}.files.{name}.filename") or name
                content_bytes = content if isinstance(content, bytes) else str(content if content is not None else "").encode()
                files[name] = (filename, content_bytes, fields.get("content_type") or "application/octet-stream")
            if files:
                args.files = files
        return args

    def send(self, args: RequestArgs, *, retry: bool = True, stream: bool = False) -> requests.Response:
        """Send a rendered request; with ``stream``, the body is left for the caller to read as it arrives."""
        return self.http.send(
            args.method,
            args.path,
            params=args.params,
            headers=args.headers,
            json=args.json if args.has_json else _unset(),
            data=args.data,
            files=args.files,
            timeout=args.timeout,
            retry=retry,
            bucket=args.bucket,
            stream=stream,
        )

    # -- errors ------------------------------------------------------------------------------------

    def interpreter(self, rules: list[ErrorRule], where: str) -> Callable[[requests.Response, Any], ConnectorError | None]:
        """An interpreter trying ``rules`` (e.g. an operation's own) before the connector's."""

        def interpret(response: requests.Response, body: Any) -> ConnectorError | None:
            return self.interpret(response, body, rules=rules, where=where)

        return interpret

    def interpret(
        self, response: requests.Response, body: Any, *, rules: list[ErrorRule] | None = None, where: str = "errors"
    ) -> ConnectorError | None:
        """Spec error rules first, then plugins; None leaves the default classification."""
        context: dict[str, Any] | None = None
        ordered = [(f"{where}[{i}]", rule) for i, rule in enumerate(rules or [])] + [(f"errors[{i}]", rule) for i, rule in enumerate(self.spec.errors)]
        for label, rule in ordered:
            if not _status_matches(rule, response.status_code):
                continue
            if rule.contains and rule.contains not in (response.text or ""):
                continue
            if context is None:
                context = {"response": {"status": response.status_code, "body": body, "headers": dict(response.headers), "text": response.text[:5000]}}
            if rule.when and not self.render(rule.when, context, f"{label}.when"):
                continue
            if rule.action == "ignore":
                return IGNORE
            message = self.redactor.text(str(self.render_visible(rule.message, context, f"{label}.message"))) if rule.message else f"HTTP {response.status_code} {response.reason}"
            hint = self.redactor.text(str(self.render_visible(rule.hint, context, f"{label}.hint"))) if rule.hint else None
            if rule.action == "retry":
                return RetriableHTTPError(message, status=response.status_code, hint=hint)
            error: FatalHTTPError = (
                AuthError(message, status=response.status_code, hint=hint)
                if response.status_code in (401, 403)
                else FatalHTTPError(message, status=response.status_code, hint=hint)
            )
            error.final = True  # the spec said fail: never retried
            return error
        if response.status_code < 400:
            return None
        result: ConnectorError | None = self.registry.pm.hook.connector_interpret_error(connector=self.name, response=response, body=body)
        return result


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in {"", "false", "0", "no", "off", "none"}
    return bool(value)


def _budget_headers(spec: Any, max_wait: float) -> Any:
    if spec is None:
        return None
    from connector_core.engine.governance import BudgetHeaders

    until_reset = None
    if spec.reset is not None:
        from connector_core.engine.ratelimits import reset_wait

        reset = spec.reset

        def until_reset(headers: Any) -> float | None:
            return reset_wait(headers, reset, time.time())

    return BudgetHeaders(
        remaining=spec.remaining,
        limit=spec.limit,
        window=spec.window,
        window_scale=0.001 if spec.window_unit == "ms" else 1.0,
        default_window=spec.default_window,
        reserve=spec.reserve,
        until_reset=until_reset,
        max_hold=max_wait,
    )


def _positive_int(value: Any, where: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= 256:
        raise ConfigError(f"{where} must be a whole number from 1 to 256, got {value!r}")
    return number


def _unset() -> Any:
    from connector_core.engine.http import _UNSET

    return _UNSET


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list) and not (isinstance(value, list) and all(isinstance(v, str | int | float) for v in value)):
        import orjson

        return orjson.dumps(value).decode()
    return value


def _statuses(rule: ErrorRule) -> list[int] | None:
    if rule.status is None:
        return None
    return rule.status if isinstance(rule.status, list) else [rule.status]


def _status_matches(rule: ErrorRule, status: int) -> bool:
    statuses = _statuses(rule)
    if statuses is None:
        return status >= 400 or rule.when is not None
    return status in statuses


def _success_statuses(rules: list[ErrorRule]) -> frozenset[int] | None:
    """The statuses below 400 that error rules name; None when a rule without statuses may match any."""
    if any(_statuses(rule) is None and rule.when is not None for rule in rules):
        return None
    return frozenset(s for rule in rules for s in _statuses(rule) or [] if s < 400)


def _rule_sees_success(rule: ErrorRule) -> bool:
    statuses = _statuses(rule)
    return (statuses is None and rule.when is not None) or any(s < 400 for s in statuses or [])


__all__ = ["ConnectorSession", "RequestArgs"]
