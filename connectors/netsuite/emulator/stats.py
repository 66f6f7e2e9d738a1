"""Request accounting: counts per route and status, in-flight tracking, recent request log."""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any


class Stats:
    """Thread-safe counters exposed at ``GET /_emulator/stats``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_route: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.by_auth: Counter[str] = Counter()
            self.in_flight = 0
            self.max_in_flight = 0
            self.peak_attempted = 0
            self.rejected_concurrency = 0
            self.faults_applied = 0
            self.recent: deque[dict[str, Any]] = deque(maxlen=2000)

    def enter(self, limit: int | None) -> bool:
        """Count a request in flight; False (and not counted) when it would exceed ``limit``."""
        with self._lock:
            attempted = self.in_flight + 1
            self.peak_attempted = max(self.peak_attempted, attempted)
            if limit is not None and attempted > limit:
                self.rejected_concurrency += 1
                return False
            self.in_flight = attempted
            self.max_in_flight = max(self.max_in_flight, attempted)
            return True

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def record(self, route: str, method: str, path: str, query: str, status: int, auth: str | None) -> None:
        with self._lock:
            self.total += 1
            self.by_route[route] += 1
            self.by_status[str(status)] += 1
            if auth:
                self.by_auth[auth] += 1
            self.recent.append({"method": method, "path": path, "query": query, "status": status,
                                "route": route, "auth": auth})

    def snapshot(self, recent: int = 50) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total,
                "by_route": dict(self.by_route),
                "by_status": dict(self.by_status),
                "by_auth": dict(self.by_auth),
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "peak_attempted": self.peak_attempted,
                "rejected_concurrency": self.rejected_concurrency,
                "faults_applied": self.faults_applied,
                "recent": list(self.recent)[-recent:] if recent else [],
            }
