"""Enriching pages of records with batched second requests (``enrich:`` in a stream spec).

Some APIs keep related data behind a second endpoint: a deal's companies, an order's lines. Asking for
it record by record costs one request per record (the N+1 pattern). An enrichment asks once per page
(or per ``batch`` records of it), matches the result items to the records by key, and sets fields on
the records from templates over ``record`` and ``result``. It runs on the page as the API returned it,
before the cursor, the record filter and the transforms, and inside the page fetch, so pages fetched
concurrently are enriched concurrently too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from connector_core.engine.paths import get_path, set_path
from connector_core.engine.spec import Enrich
from connector_core.errors import ConnectorError

if TYPE_CHECKING:
    from connector_core.engine.session import ConnectorSession


def enrich_records(
    connector: ConnectorSession, stream: str, steps: list[Enrich], records: list[Any], values: dict[str, Any]
) -> None:
    """Apply every enrichment step to ``records`` (changed in place); ``values`` are the page's template values."""
    rows = [record for record in records if isinstance(record, dict)]
    if not rows:
        return
    for index, step in enumerate(steps):
        where = f"streams.{stream}.enrich[{index}]"
        for start in range(0, len(rows), step.batch):
            chunk = rows[start : start + step.batch]
            found = _fetch(connector, step, chunk, values, where)
            for record in chunk:
                key = get_path(record, step.key)
                result = found.get(_key(key)) if key is not None else None
                context = {**values, "record": record, "result": result}
                for path, template in step.set.items():
                    set_path(record, path, connector.render_visible(template, context, f"{where}.set.{path}"))


def _fetch(
    connector: ConnectorSession, step: Enrich, chunk: list[dict[str, Any]], values: dict[str, Any], where: str
) -> dict[str, Any]:
    """Send one enrichment request; its result items by the key they belong to."""
    args = connector.build_request(step.request, {**values, "records": chunk}, f"{where}.request")
    response = connector.send(args)
    if not response.content:
        return {}
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise ConnectorError(f"{where}: the enrichment request returned a body that is not JSON") from None
    items = get_path(body, step.results)
    if items is None:
        return {}
    if not isinstance(items, list):
        items = [items]
    found: dict[str, Any] = {}
    for item in items:
        key = get_path(item, step.match)
        if key is not None:
            found.setdefault(_key(key), item)
    return found


def _key(value: Any) -> str:
    """Keys compare as text: APIs return the same id as a number in one place and a string in another."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


__all__ = ["enrich_records"]
