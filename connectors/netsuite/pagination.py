"""The ``suiteql`` paginator: SuiteQL's limit/offset pages, and keyset restarts past the row cap.

SuiteQL pages hold at most 1,000 rows, offsets must be multiples of the limit, and one query yields at
most 100,000 rows. This preset pages by offset (concurrently once ``totalResults`` is known) and, at
the cap, restarts with ``page.after`` = the last row's key, so the query must filter and sort on it::

    q: "SELECT id, … FROM customer WHERE id > {{ page.after }} ORDER BY id"
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connector_core.engine.pagination import OffsetPaginator, Paginator, PaginatorModel, Rewindow


class SuiteQLPaginator(PaginatorModel):
    """SuiteQL pages: limit ≤ 1,000, aligned offsets, keyset restart past the 100,000-row cap."""

    type: Literal["suiteql"] = "suiteql"
    limit: int = Field(1000, ge=1, le=1000, description="Rows per page (SuiteQL allows at most 1,000).")
    key: str = Field("id", description="Row key the query filters (`> page.after`) and sorts on, ascending.")
    first_key: int = Field(0, description="`page.after` in the first window (below every key).")
    row_cap: int = Field(100_000, ge=1, description="Rows one SuiteQL query can return (100,000).")

    def start_pagination(self) -> OffsetPaginator:
        # A page never spans the cap, and offsets stay multiples of the limit below it.
        limit = min(self.limit, self.row_cap)
        usable = self.row_cap - self.row_cap % limit
        return OffsetPaginator(
            type="offset",
            limit=limit,
            total="totalResults",
            # Not hasMore: at the cap NetSuite's hasMore turns false although rows remain past it, and the
            # offset paginator would take that for the end instead of restarting the window.
            has_more=None,
            max_records=usable,
            rewindow=Rewindow(key=self.key, start=self.first_key),
        )

    def start(self) -> Paginator:
        return self.start_pagination().start()


__all__ = ["SuiteQLPaginator"]
