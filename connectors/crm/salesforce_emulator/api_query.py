"""``query`` and ``queryAll``: SOQL results in pages, continued through ``nextRecordsUrl`` until ``done``.

A query runs once; its rows are kept under a query locator and handed out ``batchSize`` at a time
(2,000 at most; the ``Sforce-Query-Options: batchSize=N`` header asks for fewer, 200 at least). An
unused locator expires after ``query_locator_ttl`` seconds (``INVALID_QUERY_LOCATOR``).
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from connector_core.testing.emulator import Clock

from .call import Call, Reply
from .errors import SalesforceError, bad_request
from .soql_exec import QueryResult, QueryRunner
from .soql_parser import SoqlSyntaxError, parse, pointer_message
from .values import from_epoch

_BATCH_SIZE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


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
            page = cursor.records[start:start + cursor.batch]
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


def run_soql(call: Call, text: str, *, include_deleted: bool) -> QueryResult:
    """Parse and run a query (the store lock held by the caller); a 400 naming the position on errors."""
    try:
        parsed = parse(text)
    except SoqlSyntaxError as exc:
        raise SalesforceError(400, "MALFORMED_QUERY", pointer_message(text, exc.line, exc.column, exc.detail)) from None
    runner = QueryRunner(call.app.store, call.version, lambda: from_epoch(call.app.clock.now()))
    return runner.run(text, parsed, include_deleted=include_deleted)


def _batch_size(call: Call) -> int:
    settings = call.app.settings
    options = call.request.headers.get("Sforce-Query-Options", "")
    match = _BATCH_SIZE.search(options)
    size = settings.max_page_size
    if match:
        size = max(settings.min_page_size, min(int(match.group(1)), settings.max_page_size))
    return size


def query(call: Call) -> Reply:
    return _first_page(call, include_deleted=False)


def query_all(call: Call) -> Reply:
    return _first_page(call, include_deleted=True)


def _first_page(call: Call, *, include_deleted: bool) -> Reply:
    text = call.request.args.get("q")
    if text is None or not text.strip():
        raise bad_request("MALFORMED_QUERY", "A query string has to be specified")
    result = run_soql(call, text, include_deleted=include_deleted)
    batch = _batch_size(call)
    if len(result.records) <= batch:  # (COUNT() has a total and no records)
        return Reply(200, {"totalSize": result.total_size, "done": True, "records": result.records})
    locator = call.app.cursors.open(result.records, batch)
    return _page(call, locator, 0)


def next_page(call: Call, locator: str) -> Reply:
    cursor, _, start = locator.rpartition("-")
    if not cursor or not start.isdigit():
        raise bad_request("INVALID_QUERY_LOCATOR", "invalid query locator")
    return _page(call, cursor, int(start))


def _page(call: Call, cursor: str, start: int) -> Reply:
    page, end, total = call.app.cursors.take(cursor, start)
    body: dict[str, Any] = {"totalSize": total, "done": end >= total}
    if end < total:
        body["nextRecordsUrl"] = f"{call.data_path}/query/{cursor}-{end}"
    body["records"] = page
    return Reply(200, body)
