"""Per-connection limits on requests in flight and requests started per time window.

One :class:`Governor` is shared by every stream and operation of a connection, so the limits hold for
the connection as a whole. After a 429 the governor can pause all new requests for a while, so one
throttled request slows the whole connection instead of each thread discovering the limit alone.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


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

    def pause(self, seconds: float) -> None:
        """Hold back every new request for ``seconds`` (e.g. after a 429 with Retry-After)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when requests may start)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    def _wait_for_window(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                wait = self._paused_until - now
                if wait <= 0 and self._rate_requests:
                    while self._starts and self._starts[0] <= now - self._rate_per:
                        self._starts.popleft()
                    if len(self._starts) >= self._rate_requests:
                        wait = self._starts[0] + self._rate_per - now
                if wait <= 0:
                    if self._rate_requests:
                        self._starts.append(now)
                    return
                self.waited_seconds += min(wait, 5.0)
            self._sleep(min(wait, 5.0))

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the connection's request slots for the duration of a request."""
        self._slots.acquire()
        try:
            self._wait_for_window()
            with self._lock:
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


__all__ = ["Governor"]
