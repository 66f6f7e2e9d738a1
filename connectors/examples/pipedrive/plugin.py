"""The ``pipedrive_recents`` record extractor for Pipedrive's ``/recents`` endpoint.

Each item of ``/recents`` wraps a record: ``{"item": "deal", "id": 7, "data": {...}}``. When the
record was deleted, ``data`` is null, and the wrapper itself (with the id) is the record to emit, so
a deletion still reaches the destination. A records path (``data.*.data``) would drop those items.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import requests
from pydantic import Field

from connector_core.engine.paths import get_path
from connector_core.hookspecs import hookimpl
from connector_core.plugins import ExtractorModel


class RecentsExtractor(ExtractorModel):
    """Each item's nested record, or the item itself when its record is null."""

    type: Literal["pipedrive_recents"] = "pipedrive_recents"
    items: str = Field("data", description="Dotted path of the list of wrapped items in the body.")
    nested: str = Field(
        "data", description="Field of each item holding its record (null for a deleted record)."
    )

    def extract(self, response: requests.Response, body: Any) -> Iterable[Any]:
        for item in get_path(body, self.items) or []:
            yield item.get(self.nested) or item


@hookimpl
def connector_register_extractors() -> list[type[ExtractorModel]]:
    return [RecentsExtractor]
