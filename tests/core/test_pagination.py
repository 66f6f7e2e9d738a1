"""Built-in paginators, driven by hand-built page results (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

from connector_core.engine.pagination import (
    CursorPaginator,
    NextUrlPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    PageRequest,
    PageResult,
    Paginator,
    SinglePagePaginator,
)
from connector_core.errors import PaginationLoopError


def result(
    body: Any = None,
    records: int | list[Any] = 0,
    headers: dict[str, str] | None = None,
    links: dict[str, Any] | None = None,
    url: str = "",
) -> PageResult:
    rows = [{"id": i} for i in range(records)] if isinstance(records, int) else records
    return PageResult(
        body=body if body is not None else {},
        records=rows,
        headers=CaseInsensitiveDict(headers or {}),
        links=links or {},
        url=url,
    )


def walk(paginator: Paginator, results: list[PageResult]) -> list[dict[str, Any]]:
    """Feed results in order; return the pages requested (the first included)."""
    page = paginator.first_page()
    pages = [page]
    for res in results:
        following = paginator.next_page(page, res)
        if following is None:
            return pages
        page = following
        pages.append(page)
    raise AssertionError(f"still paginating after {len(results)} results: {pages[-1]}")


def applied(paginator: Paginator, page: dict[str, Any]) -> PageRequest:
    request = PageRequest(url="/items", params={"fixed": "1"})
    paginator.apply(page, request)
    return request


class TestOffsetPaginator:
    def test_first_page_sends_offset_and_limit(self) -> None:
        p = OffsetPaginator(limit=50).start()
        assert applied(p, p.first_page()).params == {"fixed": "1", "offset": 0, "limit": 50}

    def test_parameters_go_into_the_body_when_asked(self) -> None:
        p = OffsetPaginator(limit=10, offset_param="start", limit_param=None, **{"in": "body"}).start()
        request = applied(p, {"offset": 20, "limit": 10, "number": 2})
        assert request.json == {"start": 20} and request.params == {"fixed": "1"}

    def test_stops_at_total(self) -> None:
        p = OffsetPaginator(limit=10, total="total").start()
        pages = walk(p, [result({"total": 25}, 10), result({"total": 25}, 10), result({"total": 25}, 5)])
        assert [pg["offset"] for pg in pages] == [0, 10, 20]

    def test_stops_when_has_more_is_false_even_on_a_full_page(self) -> None:
        p = OffsetPaginator(limit=10, has_more="more").start()
        pages = walk(p, [result({"more": True}, 10), result({"more": "false"}, 10)])
        assert [pg["offset"] for pg in pages] == [0, 10]

    def test_has_more_true_continues_after_a_short_page(self) -> None:
        p = OffsetPaginator(limit=10, has_more="more").start()
        pages = walk(p, [result({"more": True}, 7), result({"more": False}, 3)])
        assert [pg["offset"] for pg in pages] == [0, 10]

    def test_missing_has_more_falls_back_to_the_short_page_rule(self) -> None:
        p = OffsetPaginator(limit=10, has_more="more").start()
        assert walk(p, [result({}, 4)]) == [p.first_page()]

    def test_stops_on_a_short_page_without_total(self) -> None:
        p = OffsetPaginator(limit=10).start()
        pages = walk(p, [result({}, 10), result({}, 9)])
        assert [pg["offset"] for pg in pages] == [0, 10]

    def test_stops_on_an_empty_page_even_when_total_says_more(self) -> None:
        p = OffsetPaginator(limit=10, total="total").start()
        assert len(walk(p, [result({"total": 100}, 10), result({"total": 100}, 0)])) == 2

    def test_stops_at_max_records_even_when_has_more_is_true(self) -> None:
        p = OffsetPaginator(limit=10, has_more="more", max_records=30).start()
        pages = walk(p, [result({"more": True}, 10)] * 5)
        assert [pg["offset"] for pg in pages] == [0, 10, 20]

    def test_max_records_caps_remaining_pages(self) -> None:
        p = OffsetPaginator(limit=10, total="total", max_records=35).start()
        planned = p.remaining_pages(p.first_page(), result({"total": 1000}, 10))
        assert [pg["offset"] for pg in planned or []] == [10, 20, 30]

    @pytest.mark.parametrize("total", [None, "n/a", True])
    def test_null_or_unreadable_total_is_treated_as_unknown(self, total: Any) -> None:
        p = OffsetPaginator(limit=10, total="total").start()
        assert p.remaining_pages(p.first_page(), result({"total": total}, 10)) is None
        pages = walk(p, [result({"total": total}, 10), result({"total": total}, 3)])
        assert [pg["offset"] for pg in pages] == [0, 10]

    def test_total_as_text_is_read(self) -> None:
        p = OffsetPaginator(limit=10, total="meta.count").start()
        planned = p.remaining_pages(p.first_page(), result({"meta": {"count": "42"}}, 10))
        assert [(pg["offset"], pg["number"]) for pg in planned or []] == [(10, 1), (20, 2), (30, 3), (40, 4)]

    def test_remaining_pages_of_a_single_page_result_is_empty(self) -> None:
        p = OffsetPaginator(limit=10, total="total").start()
        assert list(p.remaining_pages(p.first_page(), result({"total": 7}, 7)) or []) == []

    def test_start_offset(self) -> None:
        p = OffsetPaginator(limit=5, total="total", start=100).start()
        assert p.first_page()["offset"] == 100
        planned = p.remaining_pages(p.first_page(), result({"total": 112}, 5))
        assert [pg["offset"] for pg in planned or []] == [105, 110]


class TestPageNumberPaginator:
    def test_sends_page_and_size(self) -> None:
        p = PageNumberPaginator(size=25).start()
        assert applied(p, p.first_page()).params == {"fixed": "1", "page": 1, "per_page": 25}

    def test_stops_at_total_pages(self) -> None:
        p = PageNumberPaginator(size=10, total_pages="pages").start()
        pages = walk(p, [result({"pages": 3}, 10)] * 3)
        assert [pg["page"] for pg in pages] == [1, 2, 3]

    def test_total_pages_plans_every_remaining_page(self) -> None:
        p = PageNumberPaginator(size=10, total_pages="pages").start()
        planned = p.remaining_pages(p.first_page(), result({"pages": 4}, 10))
        assert [(pg["page"], pg["number"]) for pg in planned or []] == [(2, 1), (3, 2), (4, 3)]

    def test_total_records_gives_the_page_count(self) -> None:
        p = PageNumberPaginator(size=10, total="count", start=0).start()
        planned = p.remaining_pages(p.first_page(), result({"count": 21}, 10))
        assert [pg["page"] for pg in planned or []] == [1, 2]

    def test_stops_on_a_short_page_without_counts(self) -> None:
        p = PageNumberPaginator(size=10).start()
        assert [pg["page"] for pg in walk(p, [result({}, 10), result({}, 2)])] == [1, 2]

    def test_stops_when_has_more_is_false(self) -> None:
        p = PageNumberPaginator(size=10, has_more="has_more").start()
        assert [
            pg["page"] for pg in walk(p, [result({"has_more": True}, 10), result({"has_more": 0}, 10)])
        ] == [1, 2]

    @pytest.mark.parametrize("pages", [None, "unknown"])
    def test_null_or_unreadable_total_pages_is_treated_as_unknown(self, pages: Any) -> None:
        p = PageNumberPaginator(size=10, total_pages="pages").start()
        assert p.remaining_pages(p.first_page(), result({"pages": pages}, 10)) is None
        assert len(walk(p, [result({"pages": pages}, 10), result({"pages": pages}, 1)])) == 2


class TestCursorPaginator:
    def test_first_request_has_no_cursor(self) -> None:
        p = CursorPaginator(path="next", page_size=50).start()
        assert applied(p, p.first_page()).params == {"fixed": "1", "limit": 50}

    def test_follows_the_token_from_the_body(self) -> None:
        p = CursorPaginator(path="paging.next.after", param="after").start()
        pages = walk(p, [result({"paging": {"next": {"after": "abc"}}}, 3), result({"paging": {}}, 3)])
        assert [pg["cursor"] for pg in pages] == [None, "abc"]
        assert applied(p, pages[1]).params["after"] == "abc"

    def test_follows_the_token_from_a_header(self) -> None:
        p = CursorPaginator(header="X-Next-Cursor").start()
        pages = walk(p, [result({}, 2, headers={"x-next-cursor": "t2"}), result({}, 2)])
        assert [pg["cursor"] for pg in pages] == [None, "t2"]

    @pytest.mark.parametrize("token", [None, "", []])
    def test_stops_on_an_empty_token(self, token: Any) -> None:
        p = CursorPaginator(path="next").start()
        assert len(walk(p, [result({"next": token}, 5)])) == 1

    def test_stops_on_an_empty_page_even_with_a_token(self) -> None:
        p = CursorPaginator(path="next").start()
        assert len(walk(p, [result({"next": "more"}, 0)])) == 1

    def test_a_repeated_token_raises_a_loop_error(self) -> None:
        p = CursorPaginator(path="next").start()
        page = p.next_page(p.first_page(), result({"next": "same"}, 1))
        assert page is not None
        with pytest.raises(PaginationLoopError, match="'same' twice"):
            p.next_page(page, result({"next": "same"}, 1))

    def test_reset_forgets_seen_tokens(self) -> None:
        p = CursorPaginator(path="next").start()
        p.next_page(p.first_page(), result({"next": "t"}, 1))
        p.reset()
        again = p.next_page(p.first_page(), result({"next": "t"}, 1))
        assert again is not None and again["cursor"] == "t"

    def test_the_token_can_go_into_the_body(self) -> None:
        p = CursorPaginator(path="next", param="cursor", **{"in": "body"}).start()
        request = PageRequest(url="/q", params={}, json={"q": "select"})
        p.apply({"cursor": "c1", "number": 1}, request)
        assert request.json == {"q": "select", "cursor": "c1"}


class TestNextUrlPaginator:
    def test_follows_the_url_in_the_body_and_replaces_the_query(self) -> None:
        p = NextUrlPaginator(path="links.next").start()
        pages = walk(
            p,
            [
                result({"links": {"next": "https://api.test/v1/items?after=10"}}, 10),
                result({"links": {}}, 10),
            ],
        )
        request = applied(p, pages[1])
        assert request.url == "https://api.test/v1/items?after=10" and request.params == {}

    def test_follows_the_link_header(self) -> None:
        p = NextUrlPaginator().start()
        links = {"next": {"url": "https://api.test/items?page=2", "rel": "next"}}
        pages = walk(p, [result({}, 5, links=links), result({}, 5)])
        assert pages[1]["url"] == "https://api.test/items?page=2"

    def test_a_relative_link_resolves_against_the_page_url(self) -> None:
        p = NextUrlPaginator(path="next").start()
        page = p.next_page(
            p.first_page(), result({"next": "/v1/items?after=5"}, 5, url="https://api.test/v1/items?limit=5")
        )
        assert page is not None and page["url"] == "https://api.test/v1/items?after=5"

    def test_stops_without_a_next_url_or_records(self) -> None:
        p = NextUrlPaginator(path="next").start()
        assert len(walk(p, [result({"next": None}, 5)])) == 1
        assert len(walk(p, [result({"next": "https://api.test/x"}, 0)])) == 1

    def test_a_repeated_url_raises_a_loop_error(self) -> None:
        p = NextUrlPaginator(path="next").start()
        page = p.next_page(p.first_page(), result({"next": "https://api.test/x?p=2"}, 1))
        with pytest.raises(PaginationLoopError):
            p.next_page(page or {}, result({"next": "https://api.test/x?p=2"}, 1))


class TestSinglePagePaginator:
    def test_one_page_only(self) -> None:
        p = SinglePagePaginator().start()
        assert p.next_page(p.first_page(), result({}, 100)) is None
        assert applied(p, p.first_page()).params == {"fixed": "1"}
