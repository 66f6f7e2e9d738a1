"""Request accounting: counts by route and status, named tallies, requests in flight, a recent-request log."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from typing import Any


class RequestStats:
    """Thread-safe counters of the requests an emulator served (``GET /_emulator/stats``).

    Args:
        tallies: Names of extra tallies, each counting the values of one request tag (e.g. ``"auth"``
            counts requests by auth method). They show in :meth:`snapshot` as ``by_<name>``.
        keep: How many recent requests :meth:`snapshot` can show.
    """

    def __init__(self, tallies: Iterable[str] = (), keep: int = 2000) -> None:
        self._lock = threading.Lock()
        self._tally_names = tuple(tallies)
        self._keep = keep
        self.reset()

    def reset(self) -> None:
        """Zero every counter and forget the recent requests."""
        with self._lock:
            self.total = 0
            self.by_route: Counter[str] = Counter()
            self.by_status: Counter[int] = Counter()
            self.tallies: dict[str, Counter[str]] = {name: Counter() for name in self._tally_names}
            self.in_flight = 0
            self.max_in_flight = 0
            self.peak_attempted = 0
            self.rejected_concurrency = 0
            self.faults = 0
            self.recent: deque[dict[str, Any]] = deque(maxlen=self._keep)

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
        """A request counted by :meth:`enter` is done."""
        with self._lock:
            self.in_flight -= 1

    def record(self, route: str, status: int, *, method: str = "", path: str = "", query: str = "",
               tags: Mapping[str, str | None] | None = None) -> None:
        """Count one served request (status 0: its connection was dropped).

        ``tags`` values count in the tallies of the same name (None values are not counted).
        """
        with self._lock:
            self.total += 1
            self.by_route[route] += 1
            self.by_status[status] += 1
            for name, value in (tags or {}).items():
                if value:
                    self.tallies.setdefault(name, Counter())[value] += 1
            self.recent.append({"method": method, "path": path, "query": query, "status": status,
                                "route": route, **(tags or {})})

    def tally(self, name: str, value: str) -> None:
        """Count ``value`` in the tally ``name`` (outside :meth:`record`, e.g. why a request got a 429)."""
        with self._lock:
            self.tallies.setdefault(name, Counter())[value] += 1

    def count_faults(self, n: int) -> None:
        """Count injected faults."""
        if n:
            with self._lock:
                self.faults += n

    def snapshot(self, recent: int = 50) -> dict[str, Any]:
        """Every counter as JSON-ready data, with the last ``recent`` requests."""
        with self._lock:
            out: dict[str, Any] = {
                "total": self.total,
                "by_route": dict(self.by_route),
                "by_status": {str(k): v for k, v in self.by_status.items()},
            }
            out.update({f"by_{name}": dict(counts) for name, counts in self.tallies.items()})
            out.update({
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "peak_attempted": self.peak_attempted,
                "rejected_concurrency": self.rejected_concurrency,
                "faults": self.faults,
                "recent": list(self.recent)[-recent:] if recent else [],
            })
            return out
