"""``query`` and ``queryAll``: SOQL results in pages, continued through ``nextRecordsUrl`` until ``done``.

A query runs once; its rows are kept under a query locator and handed out ``batchSize`` at a time
(2,000 at most; the ``Sforce-Query-Options: batchSize=N`` header asks for fewer, 200 at least). An
unused locator expires after ``query_locator_ttl`` seconds (``INVALID_QUERY_LOCATOR``).
"""

from __future__ import annotations

import re
from typing import Any

from .call import Call, Reply
from .errors import SalesforceError, bad_request
from .soql_exec import QueryResult, QueryRunner
from .soql_parser import SoqlSyntaxError, parse, pointer_message
from .values import from_epoch

_BATCH_SIZE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def run_soql(call: Call, text: str, *, include_deleted: bool) -> QueryResult:
    """Parse and run a query (the store lock held by the caller); a 400 naming the position on errors."""
    try:
        parsed = parse(text)
    except SoqlSyntaxError as exc:
        raise SalesforceError(
            400, "MALFORMED_QUERY", pointer_message(text, exc.line, exc.column, exc.detail)
        ) from None
    runner = QueryRunner(call.org.store, call.version, lambda: from_epoch(call.org.clock.now()))
    return runner.run(text, parsed, include_deleted=include_deleted)


def _batch_size(call: Call) -> int:
    settings = call.org.settings
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
    locator = call.org.cursors.open(result.records, batch)
    return _page(call, locator, 0)


def next_page(call: Call, locator: str) -> Reply:
    cursor, _, start = locator.rpartition("-")
    if not cursor or not start.isdigit():
        raise bad_request("INVALID_QUERY_LOCATOR", "invalid query locator")
    return _page(call, cursor, int(start))


def _page(call: Call, cursor: str, start: int) -> Reply:
    page, end, total = call.org.cursors.take(cursor, start)
    body: dict[str, Any] = {"totalSize": total, "done": end >= total}
    if end < total:
        body["nextRecordsUrl"] = f"{call.data_path}/query/{cursor}-{end}"
    body["records"] = page
    return Reply(200, body)
