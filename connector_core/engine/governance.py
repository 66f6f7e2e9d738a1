"""Per-connection limits on requests in flight and requests started per time window.

One :class:`Governor` is shared by every stream and operation of a connection, so the limits hold for
the connection as a whole. After a 429 the governor can pause all new requests for a while, so one
throttled request slows the whole connection instead of each thread discovering the limit alone.

Named windows (``buckets``) add limits that only some requests count against, e.g. a search endpoint
with a lower rate than the rest of the API. :meth:`Governor.observe` reads the budget an API announces
in response headers: it paces the connection to that budget and, when the budget is nearly spent,
holds new requests until the window has passed, so the API never has to answer 429. An allowance over
a long window (a daily quota, :class:`Quota`) is not waited out: once it is down to its reserve, new
requests fail at once, so a run stops cleanly instead of spending what other integrations need.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from connector_core.errors import RetriableHTTPError


@dataclass(frozen=True)
class BudgetHeaders:
    """Names of the response headers announcing a rate budget (see :class:`~connector_core.engine.spec.RateLimitHeaders`)."""

    remaining: str
    limit: str | None = None
    window: str | None = None
    window_scale: float = 1.0  # seconds per unit of the window header (0.001 for milliseconds)
    default_window: float = 1.0
    reserve: int = 1
    until_reset: Callable[[Any], float | None] | None = None  # seconds until the window resets, by a reset header
    max_hold: float = 300.0  # the longest a reset time may hold requests back (retries.max_wait)


@dataclass(frozen=True)
class Quota:
    """A long-window allowance announced in a response header (see :class:`~connector_core.engine.spec.QuotaHeader`)."""

    header: str
    pattern: re.Pattern[str]
    reserve: int = 0
    hint: str | None = None

    def left(self, headers: Any) -> tuple[int, int | None] | None:
        """(requests left, allowance) from a response's headers; None when they do not say."""
        value = headers.get(self.header) if headers is not None else None
        match = self.pattern.search(value) if isinstance(value, str) else None
        if match is None:
            return None
        groups = match.groupdict()
        limit = int(groups["limit"]) if groups.get("limit") else None
        if groups.get("remaining") is not None:
            return int(groups["remaining"]), limit
        if groups.get("used") is not None and limit is not None:
            return limit - int(groups["used"]), limit
        return None


class _Window:
    """A sliding window of request start times: at most ``requests`` per ``per`` seconds."""

    def __init__(self, requests: int, per: float) -> None:
        self.requests = requests
        self.per = per
        self.starts: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.starts and self.starts[0] <= now - self.per:
            self.starts.popleft()
        if len(self.starts) >= self.requests:
            return self.starts[0] + self.per - now
        return 0.0


#: Outcomes of the latest requests that decide whether an API is failing (see Governor.backoff_steps).
RECENT_OUTCOMES = 20


class Governor:
    """Bounds concurrency (a semaphore) and rate (a sliding window of request start times)."""

    def __init__(
        self,
        concurrency: int,
        rate_requests: int | None = None,
        rate_per: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        buckets: dict[str, tuple[int, float]] | None = None,
        budget_headers: BudgetHeaders | None = None,
        quota: Quota | None = None,
    ) -> None:
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._rate_requests = rate_requests
        self._rate_per = rate_per
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0
        self._in_flight = 0
        self.max_in_flight = 0
        self.waited_seconds = 0.0
        self.requests = 0
        self._buckets = {name: _Window(n, per) for name, (n, per) in (buckets or {}).items()}
        self._budget_headers = budget_headers
        self._announced: _Window | None = None  # the pace the API's headers announced
        self.budget_pauses = 0
        self._quota = quota
        self.quota_left: tuple[int, int | None] | None = None  # (requests left, allowance) by the latest reply
        self.failures_in_a_row = 0  # transient failures (5xx, 429, network) since the API last answered
        self._outcomes: deque[bool] = deque(maxlen=RECENT_OUTCOMES)  # of the latest requests: answered?

    def failed(self) -> None:
        """A request met a transient failure (5xx, 429, a network error)."""
        with self._lock:
            self.failures_in_a_row += 1
            self._outcomes.append(False)

    def answered(self) -> None:
        """The API answered a request (success, or an error that is not transient)."""
        with self._lock:
            self.failures_in_a_row = 0
            self._outcomes.append(True)

    def backoff_steps(self, attempt_number: int) -> int:
        """How many times a retry's backoff doubles after failed attempt ``attempt_number`` (1: not at all).

        By the attempts of the request while the API is failing: most of the latest requests failed
        and none was answered since. Otherwise the failures are this request's bad luck on an API that
        answers (its others, or most of the latest): a longer wait would relieve nothing, since the
        concurrency bound already limits what the API gets, and would only hold this record back.
        """
        with self._lock:
            failing = self._outcomes.count(False) * 2 > len(self._outcomes)
            return max(1, min(attempt_number, self.failures_in_a_row)) if failing else 1

    def pause(self, seconds: float) -> None:
        """Hold back every new request for ``seconds`` (e.g. after a 429 with Retry-After)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when requests may start)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    @property
    def bucket_names(self) -> list[str]:
        return list(self._buckets)

    def observe(self, headers: Any) -> None:
        """Read the rate budget announced in a response's headers (called while the request holds its slot)."""
        if self._quota is not None:
            left = self._quota.left(headers)
            if left is not None:
                with self._lock:
                    self.quota_left = left
        spec = self._budget_headers
        if spec is None or headers is None:
            return
        remaining = _header_number(headers, spec.remaining)
        if remaining is None:
            return
        limit = _header_number(headers, spec.limit) if spec.limit else None
        window = _header_number(headers, spec.window) if spec.window else None
        per = window * spec.window_scale if window else spec.default_window
        with self._lock:
            now = self._clock()
            if limit is not None and limit > spec.reserve:
                pace = int(limit) - spec.reserve
                if self._announced is None:
                    self._announced = _Window(pace, per)
                else:
                    self._announced.requests, self._announced.per = pace, per
            others = max(self._in_flight - 1, 0)  # requests sent but not answered yet spend budget too
            reset = spec.until_reset(headers) if spec.until_reset is not None else None
            hold = per if reset is None else min(reset, spec.max_hold)  # a reset time says exactly how long
            if remaining - others < max(spec.reserve, 1) and self._paused_until < now + hold:
                # Nearly spent: the window must pass before the budget is back (a rolling window frees
                # requests one by one, but what else spends the budget is unknown; wait it out).
                self._paused_until = now + hold
                self.budget_pauses += 1

    def _wait_for_window(self, bucket: str | None = None) -> None:
        window = self._buckets.get(bucket) if bucket else None
        while True:
            with self._lock:
                now = self._clock()
                wait = self._paused_until - now
                if wait <= 0 and self._rate_requests:
                    while self._starts and self._starts[0] <= now - self._rate_per:
                        self._starts.popleft()
                    if len(self._starts) >= self._rate_requests:
                        wait = self._starts[0] + self._rate_per - now
                if wait <= 0 and self._announced is not None:
                    wait = self._announced.wait(now)
                if wait <= 0 and window is not None:
                    wait = window.wait(now)
                if wait <= 0:
                    if self._rate_requests:
                        self._starts.append(now)
                    if self._announced is not None:
                        self._announced.starts.append(now)
                    if window is not None:
                        window.starts.append(now)
                    return
                self.waited_seconds += min(wait, 5.0)
            self._sleep(min(wait, 5.0))

    @contextmanager
    def slot(self, bucket: str | None = None) -> Iterator[None]:
        """Hold one of the connection's request slots for the duration of a request.

        Args:
            bucket: name of an extra window (``buckets``) this request counts against.
        """
        if bucket is not None and bucket not in self._buckets:
            raise KeyError(f"no rate-limit bucket {bucket!r}; known: {', '.join(self._buckets) or '(none)'}")
        self._slots.acquire()
        try:
            self._wait_for_window(bucket)
            with self._lock:
                self._check_quota()
                self._in_flight += 1
                self.requests += 1
                self.max_in_flight = max(self.max_in_flight, self._in_flight)
            try:
                yield
            finally:
                with self._lock:
                    self._in_flight -= 1
        finally:
            self._slots.release()

    def _check_quota(self) -> None:
        """Refuse a new request once the allowance, less the requests in flight, is down to the reserve (lock held)."""
        quota, known = self._quota, self.quota_left
        if quota is None or known is None:
            return
        left, limit = known
        if left - self._in_flight > quota.reserve:
            return
        of = f" of {limit:,}" if limit is not None else ""
        raise RetriableHTTPError(
            f"stopped before the API's allowance is spent: {max(left, 0):,} requests{of} left ({quota.header}), "
            f"and {quota.reserve:,} are kept in reserve; no further request was sent",
            hint=quota.hint or "run again once the allowance has recovered, or lower the reserve in the config",
        )


def _header_number(headers: Any, name: str | None) -> float | None:
    if not name:
        return None
    value = headers.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


__all__ = ["BudgetHeaders", "Governor", "Quota"]
