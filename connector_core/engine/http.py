"""Sending requests: governance, signing on every attempt, retries, redirects and error interpretation.

Each attempt prepares the request anew, so signing auths (OAuth 1.0a) put a fresh nonce and
timestamp on every retry. Retries use tenacity: exponential backoff with jitter, ``Retry-After``
honoured, a bounded number of attempts, and a final error that says what was tried. Each retry is
logged as it happens (WARNING on ``connector_core.engine.http``: what failed, attempt n of m, the wait),
so a dead host is never a silent two-minute wait. Redirects are followed only on the same origin, and
re-signed; credentials never follow a redirect elsewhere.

``CONNECTOR_CORE_RETRIES`` (e.g. ``attempts=2,backoff=0.1,max_backoff=0.5``) replaces those settings of
every retry policy in the process: fail fast in a test or a smoke check without editing a spec.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import orjson
import requests
from requests.auth import AuthBase

from connector_core.engine.governance import Governor
from connector_core.engine.redaction import Redactor
from connector_core.engine.spec import RetryPolicy
from connector_core.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    FatalHTTPError,
    HTTPError,
    RetriableHTTPError,
)

if TYPE_CHECKING:
    from tenacity import RetryCallState
from connector_core.engine.urls import join_url, redact_url

log = logging.getLogger("connector_core.engine.http")

_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
_MAX_REDIRECTS = 5
_UNSET: Any = object()
RETRIES_ENV = "CONNECTOR_CORE_RETRIES"
_RETRY_OVERRIDES = ("attempts", "backoff", "max_backoff", "max_wait")

Interpreter = Callable[[requests.Response, Any], "ConnectorError | None"]


@runtime_checkable
class _Invalidates(Protocol):
    """An auth that caches a token and can be told to forget it (after a 401)."""

    def invalidate(self, request: requests.PreparedRequest | None = None) -> None: ...


@runtime_checkable
class _MovesBase(Protocol):
    """An auth whose token reply names the host to call (``base_url_from``, e.g. Salesforce's instance_url)."""

    def base_url(self, configured: str) -> str: ...


class _Transient(Exception):
    """One failed attempt that may succeed if tried again.

    ``refused`` marks failures where the server certainly did not apply the request (429, a 401 that
    renews the token): those are retried even for requests that are not idempotent.
    """

    def __init__(
        self,
        reason: str,
        *,
        response: requests.Response | None = None,
        retry_after: float | None = None,
        error: ConnectorError | None = None,
        refused: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.retry_after = retry_after
        self.error = error
        self.refused = refused
        self.throttled_in_a_row = 0  # this request's 429s in a row, this one included (0: not a 429)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def response_body(response: requests.Response) -> Any:
    """The JSON body, or the text when the body is not JSON (None when empty)."""
    content = response.content
    if not content:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return response.text


def network_reason(exc: BaseException, timeout: float | None = None) -> str:
    """A network failure in words, e.g. "connection refused (ConnectionError)".

    requests wraps the socket error two or three levels deep (MaxRetryError → NewConnectionError →
    ConnectionRefusedError); its own message is a paragraph of pool internals.
    """
    kind = type(exc).__name__
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"connecting timed out ({kind})"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g}s ({kind})" if timeout else f"timed out ({kind})"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"the connection dropped mid-response ({kind})"
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    innermost: BaseException | None = None  # the last cause that is not one of requests' or urllib3's wrappers
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and isinstance(current.strerror, str) and current.strerror:
            return f"{current.strerror[0].lower()}{current.strerror[1:]} ({kind})"
        if not type(current).__module__.startswith(("requests", "urllib3")) and str(current):
            innermost = current
        todo += [e for e in (getattr(current, "reason", None), current.__cause__, current.__context__, *current.args) if isinstance(e, BaseException)]
    if innermost is not None:
        text = str(innermost)
        return f"{text[0].lower()}{text[1:]} ({kind})"  # e.g. "remote end closed connection without response"
    return f"no response ({kind})"


@functools.lru_cache(maxsize=8)
def _parse_overrides(text: str) -> dict[str, float]:
    overrides: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        try:
            if name not in _RETRY_OVERRIDES:
                raise ValueError
            overrides[name] = int(value) if name == "attempts" else float(value)
        except ValueError:
            raise ConfigError(
                f"${RETRIES_ENV}: cannot use {part!r}; expected NAME=NUMBER pairs separated by commas, names: {', '.join(_RETRY_OVERRIDES)}"
                " (e.g. attempts=2,backoff=0.1)"
            ) from None
    if overrides.get("attempts", 1) < 1 or any(v < 0 for v in overrides.values()):
        raise ConfigError(f"${RETRIES_ENV}: {text!r}: attempts must be at least 1 and the times at least 0")
    return overrides


def effective_policy(policy: RetryPolicy) -> RetryPolicy:
    """``policy`` with the settings ``$CONNECTOR_CORE_RETRIES`` gives, if it is set."""
    text = os.environ.get(RETRIES_ENV, "").strip()
    if not text:
        return policy
    return policy.model_copy(update=_parse_overrides(text))


def _text(value: Any) -> str:
    """A header name or value as text: requests-oauthlib hands signed headers over as bytes."""
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


@dataclass
class HttpStats:
    requests: int = 0
    retries: int = 0
    auth_renewals: int = 0


class HttpClient:
    """Sends a connection's requests. Thread-safe; share one per connection."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: AuthBase | None,
        redactor: Redactor,
        governor: Governor,
        retry: RetryPolicy,
        timeout: float,
        headers: dict[str, str] | None = None,
        interpret: Interpreter | None = None,
        interpret_success: bool = False,
        success_statuses: frozenset[int] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url
        self.auth = auth
        self.redactor = redactor
        self.governor = governor
        self.retry = retry
        self.timeout = timeout
        self.interpret = interpret
        self.interpret_success = interpret_success
        # With interpret_success: the statuses below 400 the rules name (None: any, a rule has no status).
        # Others are never read here, so a streamed download is left for its reader.
        self.success_statuses = success_statuses
        self.sleep = sleep
        self.stats = HttpStats()
        self.session = session or requests.Session()
        self.session.trust_env = False  # no netrc or proxy credentials leaking into requests
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=max(governor.concurrency, 4), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if headers:
            self.session.headers.update(headers)

    def effective_base_url(self) -> str:
        """The base URL requests go to: the configured one, moved by the auth when its token says where."""
        auth = self.auth
        return auth.base_url(self.base_url) if auth is not None and isinstance(auth, _MovesBase) else self.base_url

    def url(self, path: str) -> str:
        return join_url(self.effective_base_url(), path)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json: Any = _UNSET,
        data: Any = None,
        files: Any = None,
        timeout: float | None = None,
        retry: bool = True,
        retry_policy: RetryPolicy | None = None,
        bucket: str | None = None,
        interpret: Interpreter | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send one request with retries; return the response or raise an HTTPError subclass.

        ``bucket`` names an extra rate window of the governor the request counts against;
        ``interpret`` replaces the client's error interpreter for this request; with ``stream``, a
        successful response's body is left unread for the caller to iterate (and close).
        """
        policy = effective_policy(retry_policy or self.retry)
        url = self.url(path)
        attempts = policy.attempts
        started = time.monotonic()
        state: dict[str, Any] = {"reauthenticated": False, "throttled": 0, "bucket": bucket, "interpret": interpret, "stream": stream}

        def attempt() -> requests.Response:
            return self._attempt(method, url, params, headers, json, data, files, timeout or self.timeout, policy, state)

        # The first attempt is made directly: most requests succeed, and tenacity (whose import costs
        # more than the rest of a short command's work) is only needed once one has failed.
        try:
            return attempt()
        except _Transient as failure:
            first = failure
        made = 1
        last = first
        if attempts > 1 and (retry or first.refused):
            from tenacity import Retrying, retry_if_exception, stop_after_attempt

            where = f"{method} {redact_url(url, self.redactor)}"
            wait = self._wait(policy, offset=1)
            delay = self._first_delay(policy, first)
            self._log_retry(where, 1, attempts, first, delay)

            def before_sleep(state: RetryCallState) -> None:
                failure = state.outcome.exception() if state.outcome else None
                pause = state.next_action.sleep if state.next_action else 0
                self._log_retry(where, state.attempt_number + 1, attempts, failure, pause)  # tenacity takes over after the first attempt

            self.sleep(delay)
            retrying = Retrying(
                stop=stop_after_attempt(attempts - 1),
                wait=wait,
                retry=retry_if_exception(lambda exc: isinstance(exc, _Transient) and (retry or exc.refused)),
                reraise=True,
                sleep=self.sleep,
                before_sleep=before_sleep,
            )
            try:
                return retrying(attempt)
            except _Transient as failure:
                last = failure
                made = 1 + int(retrying.statistics.get("attempt_number", 1))
        full_url = requests.PreparedRequest()
        full_url.prepare_url(url, params)  # the message names the URL with its (redacted) query
        raise self._exhausted(method, full_url.url or url, last, made, time.monotonic() - started, retry) from None

    # -- one attempt -------------------------------------------------------------------------------

    def _attempt(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        json: Any,
        data: Any,
        files: Any,
        timeout: float,
        policy: RetryPolicy,
        state: dict[str, Any],
    ) -> requests.Response:
        for _ in range(_MAX_REDIRECTS + 1):
            request = requests.Request(
                method,
                url,
                params=params,
                headers=headers,
                json=None if json is _UNSET else json,
                data=data,
                files=files,
                auth=self.auth,
            )
            with self.governor.slot(state.get("bucket")):
                try:
                    prepared = self.session.prepare_request(request)
                except ConnectorError:
                    raise
                self._log_request(prepared)
                try:
                    response = self.session.send(prepared, timeout=timeout, allow_redirects=False, stream=state["stream"])
                except _NETWORK_ERRORS as exc:
                    self.stats.requests += 1
                    self.governor.failed()
                    state["throttled"] = 0
                    raise _Transient(self.redactor.text(network_reason(exc, timeout))) from None
                self.stats.requests += 1
                self.governor.observe(response.headers)
            self._log_response(response, streamed=state["stream"])
            if response.is_redirect and response.headers.get("Location"):
                url = join_url(self.effective_base_url(), requests.compat.urljoin(url, response.headers["Location"]))
                params = None
                if response.status_code in (301, 302, 303) and method != "HEAD":
                    method, json, data, files = "GET", _UNSET, None, None
                continue
            try:
                classified = self._classify(response, policy, state)
            except _Transient as failure:
                if failure.response is None or failure.response.status_code != 401:  # a token renewal is no failure of the API
                    self.governor.failed()
                throttled = failure.response is not None and failure.response.status_code == 429
                state["throttled"] = failure.throttled_in_a_row = state.get("throttled", 0) + 1 if throttled else 0
                raise
            except BaseException:
                self.governor.answered()
                raise
            self.governor.answered()
            return classified
        raise FatalHTTPError(f"{method} {redact_url(url, self.redactor)}: more than {_MAX_REDIRECTS} redirects")

    def _classify(self, response: requests.Response, policy: RetryPolicy, state: dict[str, Any]) -> requests.Response:
        status = response.status_code
        interpret = state.get("interpret") or self.interpret
        if status < 400 and not (self.interpret_success and interpret and (self.success_statuses is None or status in self.success_statuses)):
            return response
        body = response_body(response)
        error = interpret(response, body) if interpret else None
        if error is None and status < 400:
            return response
        if isinstance(error, _Ignore):
            return response
        retry_after = parse_retry_after(response.headers.get("Retry-After")) if policy.respect_retry_after else None
        if retry_after is None and policy.reset is not None and (status in policy.statuses or isinstance(error, RetriableHTTPError)):
            retry_after = self._until_reset(response, policy)
        if status == 429 and retry_after:
            self.governor.pause(min(retry_after, policy.max_wait))
        if isinstance(error, RetriableHTTPError):
            # a 429 was refused, not applied: safe to retry even for a non-idempotent write
            raise _Transient(error.message, response=response, retry_after=retry_after, error=error, refused=status == 429)
        if error is not None and status in policy.statuses and status != 401 and not getattr(error, "final", False):
            # an interpreted error on a status the policy retries: keep the message, retry anyway
            raise _Transient(error.message, response=response, retry_after=retry_after, error=error)
        # (the None test first: mypy does not narrow `AuthBase | None` to a protocol directly)
        if status == 401 and not state["reauthenticated"] and self.auth is not None and isinstance(self.auth, _Invalidates):
            # Renew the token once even when a rule explains the 401: the rule's message is for a second 401.
            state["reauthenticated"] = True
            self.auth.invalidate(response.request)
            raise _Transient("HTTP 401: renewing the access token once", response=response, retry_after=0, refused=True)
        if error is not None:
            raise self._with_context(error, response, body)
        if status in policy.statuses:
            raise _Transient(f"HTTP {status} {response.reason}", response=response, retry_after=retry_after, refused=status == 429)
        detail = self._detail(body)
        where = f"{response.request.method} {redact_url(response.url, self.redactor)}"
        if status in (401, 403):
            raise AuthError(
                f"{where} was refused: HTTP {status} {response.reason}{detail}",
                method=response.request.method or "",
                url=redact_url(response.url, self.redactor),
                status=status,
                body=self.redactor.data(body),
                hint="check the credentials in your config and the permissions of the account they belong to",
            )
        raise FatalHTTPError(
            f"{where} failed: HTTP {status} {response.reason}{detail}",
            method=response.request.method or "",
            url=redact_url(response.url, self.redactor),
            status=status,
            body=self.redactor.data(body),
        )

    def _until_reset(self, response: requests.Response, policy: RetryPolicy) -> float | None:
        """Seconds until the rate limit resets by the policy's reset header; past max_wait, stop now."""
        from connector_core.engine.ratelimits import reset_wait

        assert policy.reset is not None
        wait = reset_wait(response.headers, policy.reset, time.time())
        if wait is None or wait <= policy.max_wait:
            return wait
        where = f"{response.request.method} {redact_url(response.url, self.redactor)}"
        raise RetriableHTTPError(
            f"{where} was throttled (HTTP {response.status_code}) until the rate limit resets in {wait:,.0f} s "
            f"({policy.reset.header}: {response.headers.get(policy.reset.header)}), longer than retries.max_wait ({policy.max_wait:g} s); "
            "stopped instead of retrying before then",
            method=response.request.method or "",
            url=redact_url(response.url, self.redactor),
            status=response.status_code,
            hint="run again after the reset, or raise defaults.retries.max_wait to wait it out",
        )

    def _with_context(self, error: ConnectorError, response: requests.Response, body: Any) -> ConnectorError:
        if isinstance(error, HTTPError):
            error.method = error.method or (response.request.method or "")
            error.url = error.url or redact_url(response.url, self.redactor)
            error.status = error.status or response.status_code
            error.body = error.body if error.body is not None else self.redactor.data(body)
        error.message = self.redactor.text(error.message)
        error.hint = self.redactor.text(error.hint) if error.hint else error.hint
        return error

    def _detail(self, body: Any) -> str:
        if body is None:
            return ""
        text = body if isinstance(body, str) else orjson.dumps(body).decode()
        text = self.redactor.text(" ".join(text.split()))
        return f": {text[:300]}{'...' if len(text) > 300 else ''}"

    # -- retries ---------------------------------------------------------------------------------

    def _delay(self, policy: RetryPolicy, failure: BaseException | None, attempt_number: int) -> float:
        """Seconds to wait after failed attempt ``attempt_number`` (1-based).

        Exponential backoff with "equal jitter": between half and all of backoff * 2^(n-1), capped. After a
        429 (the API asks us to slow down: its window must pass) n counts this request's 429s in a row: a
        5xx before them says nothing of the rate window. After a 5xx or a network error, n counts this
        request's failed attempts while the API as a whole is failing, and is 1 while it answers (see
        :meth:`~connector_core.engine.governance.Governor.backoff_steps`): backing off exponentially
        relieves a failing API, while on one that answers, it only holds a record back.
        """
        if isinstance(failure, _Transient) and failure.retry_after is not None:
            return min(failure.retry_after, policy.max_wait)
        if policy.backoff == policy.max_backoff:
            return float(policy.backoff)  # a fixed delay (an operation's `retries.delay`) is kept exactly
        throttled = failure.throttled_in_a_row if isinstance(failure, _Transient) else 0
        steps = throttled if throttled else self.governor.backoff_steps(attempt_number)
        exponential = min(policy.max_backoff, policy.backoff * 2 ** min(steps - 1, 30))
        return float(exponential * random.uniform(0.5, 1.0))

    def _first_delay(self, policy: RetryPolicy, failure: _Transient) -> float:
        return self._delay(policy, failure, 1)

    def _wait(self, policy: RetryPolicy, offset: int = 0) -> Callable[[RetryCallState], float]:
        """tenacity's wait; ``offset`` counts attempts made before tenacity took over."""

        def wait(state: RetryCallState) -> float:
            failure = state.outcome.exception() if state.outcome else None
            return self._delay(policy, failure, state.attempt_number + offset)

        return wait

    def _log_retry(self, where: str, attempt_number: int, attempts: int, failure: BaseException | None, wait: float) -> None:
        """One line per retry, as it happens: what failed, attempt n of m, and when the next one starts."""
        self.stats.retries += 1
        reason = self.redactor.text(str(getattr(failure, "reason", failure)))
        # Routine, not worth a warning: renewing an expired token, and a first 429 (the API pacing us; the
        # governor slows down). A 429 that repeats, and every other failure, is a warning.
        routine = isinstance(failure, _Transient) and (
            failure.reason.startswith("HTTP 401: renewing") or (attempt_number == 1 and failure.response is not None and failure.response.status_code == 429)
        )
        level = logging.INFO if routine else logging.WARNING
        log.log(level, "%s: %s; attempt %d of %d failed, next in %.1fs", where, reason, attempt_number, attempts, wait)

    def _exhausted(self, method: str, url: str, last: _Transient, attempts: int, elapsed: float, retry: bool) -> HTTPError:
        where = f"{method} {redact_url(url, self.redactor)}"
        response = last.response
        status = response.status_code if response is not None else None
        body = response_body(response) if response is not None else None
        detail = last.error.message if last.error else last.reason + self._detail(body)
        if attempts > 1 and response is None:
            message = (
                f"{where}: nothing answered at {self.effective_base_url()} after {attempts} attempts over {elapsed:.{0 if elapsed >= 10 else 1}f} s; last: {detail}. "
                "Is the API up, and is the base_url right?"
            )
            hint = "check the config's base_url (and any proxy or VPN on the way), and that the service is running"
        elif attempts > 1:
            message = f"{where} failed after {attempts} attempts over {elapsed:.1f}s; last: {detail}"
            hint = "the service kept failing or throttling; try again later, or raise defaults.retries.attempts"
        else:
            message = f"{where} failed: {detail}"
            hint = None
        if not retry and not last.refused:
            message = f"{where} failed and was not retried: {detail}"
            hint = (
                "this request is not idempotent (no idempotency key), so it is not retried automatically: "
                "it may or may not have been applied; check before sending it again"
            )
        if last.error is not None and last.error.hint:
            hint = last.error.hint
        return RetriableHTTPError(
            self.redactor.text(message),
            method=method,
            url=redact_url(url, self.redactor),
            status=status,
            body=self.redactor.data(body),
            attempts=attempts,
            hint=self.redactor.text(hint) if hint else None,  # the hint may name the base URL, with its userinfo
        )

    # -- debug logging -----------------------------------------------------------------------------

    def _log_request(self, prepared: requests.PreparedRequest) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        body = prepared.body
        if isinstance(body, bytes):
            body = body[:2000].decode("utf-8", "replace")
        log.debug(
            "request %s %s headers=%s body=%s",
            prepared.method,
            redact_url(prepared.url or "", self.redactor),
            self._headers(prepared.headers),
            self.redactor.text(str(body)[:2000]) if body else "",
        )

    def _log_response(self, response: requests.Response, *, streamed: bool = False) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        if streamed and response.status_code < 400:
            log.debug("response %s %s headers=%s body=(streamed)", response.status_code, response.reason, self._headers(response.headers))
            return
        log.debug(
            "response %s %s in %.3fs headers=%s body=%s",
            response.status_code,
            response.reason,
            response.elapsed.total_seconds(),
            self._headers(response.headers),
            self.redactor.text(response.text[:2000]) if response.content else "",
        )

    def _headers(self, headers: Any) -> dict[str, str]:
        """Headers for the debug log: names and values as text (never ``b'...'``), secrets masked by name or value."""
        return self.redactor.headers({_text(name): _text(value) for name, value in dict(headers).items()})


class _Ignore(ConnectorError):
    """Returned by an interpreter to treat an error response as success (spec rule action: ignore)."""

    def __init__(self) -> None:
        super().__init__("ignored")


IGNORE = _Ignore()

__all__ = ["IGNORE", "HttpClient", "HttpStats", "parse_retry_after", "response_body"]
