"""Built-in paginators.

A paginator is a spec model (discriminated on ``type``) whose :meth:`PaginatorModel.start` returns a
fresh :class:`Paginator` for one pass over a stream. A paginator

* says what the first page is (:meth:`Paginator.first_page`),
* puts the page into the request (:meth:`Paginator.apply`),
* reads the next page from a response (:meth:`Paginator.next_page`), and
* when the response tells the total, may plan every remaining page at once
  (:meth:`Paginator.remaining_pages`) so they can be fetched concurrently.

Pages are plain dicts, also visible to templates as ``page``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

from pydantic import Field

from connector_core.engine.paths import get_path
from connector_core.engine.spec import SpecModel
from connector_core.errors import PaginationLoopError

Page = dict[str, Any]


@dataclass
class PageRequest:
    """The parts of a request a paginator may change."""

    url: str
    params: dict[str, Any]
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class PageResult:
    """What a paginator sees of a response (``url``: the URL requested, against which relative links resolve)."""

    body: Any
    records: list[Any]
    headers: Any
    links: dict[str, Any]
    url: str = ""


class Paginator(ABC):
    """One pass of pagination over a stream (or one partition of it)."""

    @abstractmethod
    def first_page(self) -> Page:
        """The page of the first request."""

    def apply(self, page: Page, request: PageRequest) -> None:
        """Put ``page`` into the request (query parameters, body or URL). Default: nothing."""
        return None

    @abstractmethod
    def next_page(self, page: Page, result: PageResult) -> Page | None:
        """The page after ``page``, or None when ``page`` was the last one."""

    def remaining_pages(self, page: Page, result: PageResult) -> list[Page] | None:
        """Every page after the first, when the first response tells how many there are."""
        return None

    def reset(self) -> None:
        """Forget what this pass has seen (used when a stream restarts a window)."""
        return None


class PaginatorModel(SpecModel):
    """Base of paginator spec models: subclasses declare ``type: Literal[...]`` and implement start()."""

    def start(self) -> Paginator:  # pragma: no cover - abstract
        raise NotImplementedError


class Rewindow(SpecModel):
    """Go past an API's cap on one result set by restarting from the last record's key.

    When ``max_records`` is reached, pagination starts again at the first page with ``page.after`` set
    to the key of the last record read; the request must filter on it (``WHERE id > {{ page.after }}``)
    and sort by the key, ascending.
    """

    key: str = Field(..., description="Dotted path of the sort key in each record, e.g. 'id'.")
    start: Any = Field(None, description="Value of `page.after` in the first window.")


def _put(request: PageRequest, where: str, name: str, value: Any) -> None:
    if where == "body":
        body = dict(request.json or {})
        body[name] = value
        request.json = body
    else:
        request.params[name] = value


# --- single page ---------------------------------------------------------------------------------


class _SinglePage(Paginator):
    def first_page(self) -> Page:
        return {}

    def next_page(self, page: Page, result: PageResult) -> Page | None:
        return None


class SinglePagePaginator(PaginatorModel):
    """No pagination: one request returns every record."""

    type: Literal["none"] = "none"

    def start(self) -> Paginator:
        return _SinglePage()


# --- offset / limit ------------------------------------------------------------------------------


class OffsetPaginator(PaginatorModel):
    """``offset`` and ``limit`` parameters; stops on a short page, the total, a has-more flag, or a cap."""

    type: Literal["offset"] = "offset"
    limit: int = Field(100, ge=1, description="Records per page.")
    limit_param: str | None = Field("limit", description="Name of the page-size parameter (null: not sent).")
    offset_param: str = Field("offset", description="Name of the offset parameter.")
    location: Literal["query", "body"] = Field("query", alias="in", description="Where the parameters go.")
    start_offset: int = Field(0, ge=0, alias="start", description="Offset of the first page.")
    total: str | None = Field(None, description="Dotted path of the total record count in the body; enables concurrent pages.")
    has_more: str | None = Field(None, description="Dotted path of a boolean that is false on the last page.")
    max_records: int | None = Field(None, ge=1, description="The API's cap on records per result set: never page past it.")
    rewindow: Rewindow | None = Field(None, description="At the cap, restart from the last record's key instead of stopping.")

    def start(self) -> Paginator:
        return _Offset(self)


class _Offset(Paginator):
    def __init__(self, spec: OffsetPaginator) -> None:
        self.spec = spec

    def first_page(self) -> Page:
        after = self.spec.rewindow.start if self.spec.rewindow else None
        return {"offset": self.spec.start_offset, "limit": self.spec.limit, "number": 0, "after": after}

    def apply(self, page: Page, request: PageRequest) -> None:
        _put(request, self.spec.location, self.spec.offset_param, page["offset"])
        if self.spec.limit_param:
            _put(request, self.spec.location, self.spec.limit_param, page["limit"])

    def _total(self, result: PageResult) -> int | None:
        return _count(result.body, self.spec.total)

    def _end(self, result: PageResult) -> int | None:
        ends = [n for n in (self._total(result), self.spec.max_records) if n is not None]
        return min(ends) if ends else None

    def next_page(self, page: Page, result: PageResult) -> Page | None:
        if not result.records:
            return None
        following = page["offset"] + page["limit"]
        cap = self.spec.max_records
        if cap is not None and following >= cap:
            return self._rewindow(page, result, following)
        end = self._end(result)
        if end is not None and following >= end:
            return None
        more = _flag(result.body, self.spec.has_more)
        if more is False:
            return None
        # A short page ends the stream unless a total or an explicit has-more flag says otherwise.
        if more is None and end is None and len(result.records) < page["limit"]:
            return None
        return {"offset": following, "limit": page["limit"], "number": page["number"] + 1, "after": page.get("after")}

    def _rewindow(self, page: Page, result: PageResult, following: int) -> Page | None:
        """The cap is reached: restart past the last key if more records exist, else stop."""
        rewindow = self.spec.rewindow
        if rewindow is None:
            return None
        # a has-more flag is not evidence here: APIs that cap a result set (SuiteQL) report "no more"
        # at the cap itself; the total, or a short page, says whether the data really ended
        total = self._total(result)
        if (total is not None and total <= following) or len(result.records) < page["limit"]:
            return None
        last_key = get_path(result.records[-1], rewindow.key)
        if last_key is None or last_key == page.get("after"):
            raise PaginationLoopError(f"cannot restart past the cap: records carry no new '{rewindow.key}' (got {last_key!r})")
        return {"offset": self.spec.start_offset, "limit": page["limit"], "number": page["number"] + 1, "after": last_key}

    def remaining_pages(self, page: Page, result: PageResult) -> list[Page] | None:
        total = self._total(result)
        if total is None:
            return None
        end = min(total, self.spec.max_records or total)
        limit = page["limit"]
        first = page["offset"] + limit
        return [
            {"offset": offset, "limit": limit, "number": page["number"] + 1 + i, "after": page.get("after")}
            for i, offset in enumerate(range(first, end, limit))
        ]


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "t", "1", "yes"}
    return bool(value)


def _count(body: Any, path: str | None) -> int | None:
    """An integer count at ``path`` in the body; None when unset, missing, null or not a number."""
    if not path:
        return None
    value = get_path(body, path)
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _flag(body: Any, path: str | None) -> bool | None:
    """A has-more flag at ``path``; None when unset, missing or null (other stop rules decide then)."""
    if not path:
        return None
    value = get_path(body, path)
    return None if value is None else _truthy(value)


# --- page number ---------------------------------------------------------------------------------


class PageNumberPaginator(PaginatorModel):
    """A page number parameter (1, 2, 3…); stops on a short or empty page, or the page count."""

    type: Literal["page"] = "page"
    size: int = Field(100, ge=1, description="Records per page.")
    page_param: str = Field("page", description="Name of the page-number parameter.")
    size_param: str | None = Field("per_page", description="Name of the page-size parameter (null: not sent).")
    location: Literal["query", "body"] = Field("query", alias="in", description="Where the parameters go.")
    start_page: int = Field(1, ge=0, alias="start", description="Number of the first page.")
    total_pages: str | None = Field(None, description="Dotted path of the page count in the body; enables concurrent pages.")
    total: str | None = Field(None, description="Dotted path of the total record count in the body; enables concurrent pages.")
    has_more: str | None = Field(None, description="Dotted path of a boolean that is false on the last page.")

    def start(self) -> Paginator:
        return _PageNumber(self)


class _PageNumber(Paginator):
    def __init__(self, spec: PageNumberPaginator) -> None:
        self.spec = spec

    def first_page(self) -> Page:
        return {"page": self.spec.start_page, "size": self.spec.size, "number": 0}

    def apply(self, page: Page, request: PageRequest) -> None:
        _put(request, self.spec.location, self.spec.page_param, page["page"])
        if self.spec.size_param:
            _put(request, self.spec.location, self.spec.size_param, page["size"])

    def _last_page(self, result: PageResult) -> int | None:
        pages = _count(result.body, self.spec.total_pages)
        if pages is not None:
            return self.spec.start_page + pages - 1
        total = _count(result.body, self.spec.total)
        if total is not None:
            return self.spec.start_page + math.ceil(total / self.spec.size) - 1
        return None

    def next_page(self, page: Page, result: PageResult) -> Page | None:
        if not result.records:
            return None
        last = self._last_page(result)
        if last is not None and page["page"] >= last:
            return None
        more = _flag(result.body, self.spec.has_more)
        if more is False:
            return None
        if more is None and last is None and len(result.records) < page["size"]:
            return None
        return {"page": page["page"] + 1, "size": page["size"], "number": page["number"] + 1}

    def remaining_pages(self, page: Page, result: PageResult) -> list[Page] | None:
        last = self._last_page(result)
        if last is None:
            return None
        return [
            {"page": n, "size": page["size"], "number": page["number"] + i + 1}
            for i, n in enumerate(range(page["page"] + 1, last + 1))
        ]


# --- cursor / token ------------------------------------------------------------------------------


class CursorPaginator(PaginatorModel):
    """An opaque next-page token read from the body (or a header) and sent back as a parameter."""

    type: Literal["cursor"] = "cursor"
    path: str | None = Field(None, description="Dotted path of the next token in the body.")
    header: str | None = Field(None, description="Or: response header holding the next token.")
    param: str = Field("cursor", description="Name of the parameter the token is sent in.")
    location: Literal["query", "body"] = Field("query", alias="in", description="Where the token goes.")
    page_size: int | None = Field(None, ge=1, description="Page size to send, if any.")
    size_param: str = Field("limit", description="Name of the page-size parameter.")
    max_records: int | None = Field(None, ge=1, description="The API's cap on records per result set: never page past it.")
    rewindow: Rewindow | None = Field(None, description="At the cap, restart from the last record's key instead of stopping.")

    def start(self) -> Paginator:
        return _Cursor(self)


class _Cursor(Paginator):
    def __init__(self, spec: CursorPaginator) -> None:
        self.spec = spec
        self.seen: set[str] = set()

    def first_page(self) -> Page:
        after = self.spec.rewindow.start if self.spec.rewindow else None
        return {"cursor": None, "number": 0, "after": after, "read": 0}

    def apply(self, page: Page, request: PageRequest) -> None:
        if page["cursor"] is not None:
            _put(request, self.spec.location, self.spec.param, page["cursor"])
        if self.spec.page_size:
            _put(request, self.spec.location, self.spec.size_param, self.spec.page_size)

    def next_page(self, page: Page, result: PageResult) -> Page | None:
        if self.spec.header:
            token = result.headers.get(self.spec.header)
        else:
            token = get_path(result.body, self.spec.path or "next")
        if token in (None, "", []) or not result.records:
            return None
        read = page.get("read", 0) + len(result.records)
        cap = self.spec.max_records
        if cap is not None and read + (self.spec.page_size or len(result.records)) > cap:
            rewindow = self.spec.rewindow
            if rewindow is None:
                return None
            last_key = get_path(result.records[-1], rewindow.key)
            if last_key is None or last_key == page.get("after"):
                raise PaginationLoopError(f"cannot restart past the cap: records carry no new '{rewindow.key}' (got {last_key!r})")
            self.seen.clear()
            return {"cursor": None, "number": page["number"] + 1, "after": last_key, "read": 0}
        key = str(token)
        if key in self.seen:
            raise PaginationLoopError(f"the API returned the page token {key[:40]!r} twice; stopping to avoid a loop")
        self.seen.add(key)
        return {"cursor": token, "number": page["number"] + 1, "after": page.get("after"), "read": read}

    def reset(self) -> None:
        self.seen.clear()


# --- next URL ------------------------------------------------------------------------------------


class NextUrlPaginator(PaginatorModel):
    """Follows a next-page URL from the body or from the ``Link: <…>; rel="next"`` header."""

    type: Literal["next_url"] = "next_url"
    path: str | None = Field(None, description="Dotted path of the next URL in the body; omit to use the Link header.")

    def start(self) -> Paginator:
        return _NextUrl(self)


class _NextUrl(Paginator):
    def __init__(self, spec: NextUrlPaginator) -> None:
        self.spec = spec
        self.seen: set[str] = set()

    def first_page(self) -> Page:
        return {"url": None, "number": 0}

    def apply(self, page: Page, request: PageRequest) -> None:
        if page["url"]:
            # The next URL carries its own query string; the HTTP layer checks it stays on the base host.
            request.url = page["url"]
            request.params.clear()

    def next_page(self, page: Page, result: PageResult) -> Page | None:
        if self.spec.path:
            url = get_path(result.body, self.spec.path)
        else:
            url = (result.links.get("next") or {}).get("url")
        if not url or not result.records:
            return None
        if result.url:
            url = urljoin(result.url, str(url))  # a relative link is relative to the page it came in
        if url in self.seen:
            raise PaginationLoopError(f"the API returned the next URL {url!r} twice; stopping to avoid a loop")
        self.seen.add(url)
        return {"url": url, "number": page["number"] + 1}

    def reset(self) -> None:
        self.seen.clear()


BUILTIN_PAGINATORS: list[type[PaginatorModel]] = [
    SinglePagePaginator,
    OffsetPaginator,
    PageNumberPaginator,
    CursorPaginator,
    NextUrlPaginator,
]

__all__ = [
    "BUILTIN_PAGINATORS",
    "CursorPaginator",
    "NextUrlPaginator",
    "OffsetPaginator",
    "Page",
    "PageNumberPaginator",
    "PageRequest",
    "PageResult",
    "Paginator",
    "PaginatorModel",
    "Rewindow",
    "SinglePagePaginator",
]
