"""Request counters exposed through the control API."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """Counts requests by status and endpoint, plus 429s and faults served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.total = 0
        self.by_status: Counter[int] = Counter()
        self.by_endpoint: Counter[str] = Counter()
        self.rate_limited = 0
        self.rate_limited_by_policy: Counter[str] = Counter()
        self.faults = 0

    def record(self, endpoint: str, status: int) -> None:
        with self._lock:
            self.total += 1
            self.by_status[status] += 1
            self.by_endpoint[endpoint] += 1
            if status == 429:
                self.rate_limited += 1

    def record_policy(self, policy: str) -> None:
        with self._lock:
            self.rate_limited_by_policy[policy] += 1

    def record_fault(self) -> None:
        with self._lock:
            self.faults += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.total,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                "by_endpoint": dict(sorted(self.by_endpoint.items())),
                "rate_limited": self.rate_limited,
                "rate_limited_by_policy": dict(self.rate_limited_by_policy),
                "faults": self.faults,
            }
