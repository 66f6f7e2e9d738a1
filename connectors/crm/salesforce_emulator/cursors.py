"""Query locators: the rows of a query already run, handed out a page at a time until they expire."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any

from connector_core.testing.emulator import Clock

from .errors import bad_request


@dataclass
class _Cursor:
    records: list[dict[str, Any]]
    batch: int
    last_used: float


class QueryCursors:
    """Open query locators of one org."""

    def __init__(self, clock: Clock, ttl: float) -> None:
        self.clock = clock
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cursors: dict[str, _Cursor] = {}

    def open(self, records: list[dict[str, Any]], batch: int) -> str:
        locator = "01g5g" + secrets.token_hex(5).upper()[:10]
        with self._lock:
            self._expire()
            self._cursors[locator] = _Cursor(records, batch, self.clock.now())
        return locator

    def take(self, locator: str, start: int) -> tuple[list[dict[str, Any]], int, int]:
        """Rows from ``start``; returns (page, next start, total)."""
        with self._lock:
            self._expire()
            cursor = self._cursors.get(locator)
            if cursor is None or start < 0 or start > len(cursor.records):
                raise bad_request("INVALID_QUERY_LOCATOR", "invalid query locator")
            cursor.last_used = self.clock.now()
            page = cursor.records[start : start + cursor.batch]
            end = start + len(page)
            if end >= len(cursor.records):
                del self._cursors[locator]
            return page, end, len(cursor.records)

    def _expire(self) -> None:
        edge = self.clock.now() - self.ttl
        for key in [k for k, c in self._cursors.items() if c.last_used < edge]:
            del self._cursors[key]

    def clear(self) -> None:
        with self._lock:
            self._cursors.clear()
