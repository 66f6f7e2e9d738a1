"""A plugin contributing one of each stream component: a record extractor, a partition router and an
incremental slicer (tests/core/test_pipeline_hooks.py runs them against a local server; docs/plugins.md
quotes them).

* ``columnar`` extractor: an API that answers ``{"columns": [...], "rows": [[...], ...]}`` gives one
  record per row, keyed by the column names.
* ``cross_product`` router: every record of another stream paired with every value of a list from the
  config (account × region), as ``{"id": ..., "value": ...}``.
* ``calendar_months`` slicer: a datetime cursor's range cut at calendar month boundaries, each slice
  ``{"start": ISO, "end": ISO}`` (end exclusive), up to the cursor's ``end`` or now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import requests
from pydantic import Field

from connector_core.engine.paths import get_path
from connector_core.hookspecs import hookimpl
from connector_core.plugins import (
    ExtractorModel,
    PartitionContext,
    PartitionRouterModel,
    SliceContext,
    SlicerModel,
)


class ColumnarExtractor(ExtractorModel):
    """Rows of a columnar answer (`{"columns": [...], "rows": [[...]]}`) as records keyed by column name."""

    type: Literal["columnar"] = "columnar"
    columns: str = Field("columns", description="Dotted path of the column names in the body.")
    rows: str = Field("rows", description="Dotted path of the rows (lists of values) in the body.")

    def extract(self, response: requests.Response, body: Any) -> Iterable[Any]:
        names = get_path(body, self.columns) or []
        for row in get_path(body, self.rows) or []:
            yield dict(zip(names, row, strict=True))


class CrossProductRouter(PartitionRouterModel):
    """Each record of `stream` paired with each value of the list `values` gives (a template over config)."""

    type: Literal["cross_product"] = "cross_product"
    stream: str = Field(..., description="Stream whose records give the first half of each partition.")
    field: str = Field("id", description="Field of those records exposed as `partition.id`.")
    values: str = Field(..., description="Template giving the list of second halves, exposed as `partition.value`.")

    def partitions(self, ctx: PartitionContext) -> Iterator[Any]:
        values = ctx.render(self.values)
        for record in ctx.read(self.stream):
            for value in values:
                yield {"id": get_path(record, self.field), "value": value}


class CalendarMonthSlicer(SlicerModel):
    """A datetime cursor's range cut at calendar month boundaries: `{start, end}`, end exclusive."""

    type: Literal["calendar_months"] = "calendar_months"
    format: str = Field("%Y-%m-%dT%H:%M:%SZ", description="strftime format of the bounds given to templates.")

    def slices(self, ctx: SliceContext) -> Iterator[dict[str, Any]]:
        if ctx.cursor_type != "datetime" or ctx.lower is None:
            raise ValueError("calendar_months needs a datetime cursor with a start")
        end = ctx.upper or dt.datetime.fromtimestamp(ctx.now(), dt.UTC)
        start = ctx.lower
        while start < end:
            following = (start.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=32)).replace(day=1)
            stop = min(following, end)
            yield {"start": start.strftime(self.format), "end": stop.strftime(self.format)}
            start = stop


@hookimpl
def connector_register_extractors() -> list[type[ExtractorModel]]:
    return [ColumnarExtractor]


@hookimpl
def connector_register_partition_routers() -> list[type[PartitionRouterModel]]:
    return [CrossProductRouter]


@hookimpl
def connector_register_slicers() -> list[type[SlicerModel]]:
    return [CalendarMonthSlicer]
