"""The `link` paginator: the Link header's attributes (Sentry's cursor and results), the header parser,
and a Sentry-like API over real HTTP read with no request for the empty page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, open_connector, reply
from requests.structures import CaseInsensitiveDict
from werkzeug.wrappers import Request, Response

from connector_core.engine.link_pagination import LinkHeaderPaginator, find_link, parse_link_header
from connector_core.engine.pagination import PageRequest, PageResult
from connector_core.errors import PaginationLoopError


def sentry_link(base: str, start: int, size: int, total: int) -> str:
    """The Link header Sentry sends: a previous and a next link, each with results and cursor attributes."""
    following = start + size
    previous = f'<{base}?cursor=0:{max(start - size, 0)}:1>; rel="previous"; results="{"true" if start else "false"}"; cursor="0:{max(start - size, 0)}:1"'
    more = "true" if following < total else "false"
    return f'{previous}, <{base}?cursor=0:{following}:0>; rel="next"; results="{more}"; cursor="0:{following}:0"'


def result(link: str | None, records: int = 1, url: str = "") -> PageResult:
    headers = CaseInsensitiveDict({"Link": link} if link is not None else {})
    return PageResult(body=[], records=[{"id": i} for i in range(records)], headers=headers, links={}, url=url)


class TestParser:
    def test_attributes_with_quotes_commas_and_equals_signs(self) -> None:
        header = '<https://a/x?c=1>; rel="next"; cursor="YWJj=="; note="a, b; c", <https://a/y>; rel=prev; Title=plain'
        assert parse_link_header(header) == [
            {"url": "https://a/x?c=1", "rel": "next", "cursor": "YWJj==", "note": "a, b; c"},
            {"url": "https://a/y", "rel": "prev", "title": "plain"},
        ]

    def test_rel_may_list_several_relations(self) -> None:
        link = find_link('<https://a/z>; rel="last next"', "next")
        assert link is not None and link["url"] == "https://a/z"
        assert find_link('<https://a/z>; rel="previous"', "next") is None


class TestLinkPaginator:
    def test_token_from_an_attribute_and_stop_on_results_false(self) -> None:
        p = LinkHeaderPaginator(token="cursor", more="results").start()
        page = p.first_page()
        following = p.next_page(page, result(sentry_link("https://s/api/issues/", 0, 100, 150)))
        assert following is not None and following["token"] == "0:100:0"
        request = PageRequest(url="/api/issues/", params={"query": "is:unresolved"})
        p.apply(following, request)
        assert request.params == {"query": "is:unresolved", "cursor": "0:100:0"}
        assert p.next_page(following, result(sentry_link("https://s/api/issues/", 100, 100, 150))) is None

    def test_the_param_may_differ_from_the_attribute(self) -> None:
        p = LinkHeaderPaginator(token="cursor", param="after").start()
        page = p.next_page(p.first_page(), result('<https://s/x>; rel="next"; cursor="abc"'))
        request = PageRequest(url="/x", params={})
        assert page is not None
        p.apply(page, request)
        assert request.params == {"after": "abc"}

    def test_without_a_token_the_url_is_followed_relative_to_the_page(self) -> None:
        p = LinkHeaderPaginator().start()
        page = p.next_page(p.first_page(), result('</x?page=2>; rel="next"', url="https://s/api/x?page=1"))
        request = PageRequest(url="/x", params={"page": 1})
        assert page is not None
        p.apply(page, request)
        assert request.url == "https://s/x?page=2" and request.params == {}

    def test_no_link_or_an_empty_page_stops(self) -> None:
        p = LinkHeaderPaginator(token="cursor").start()
        assert p.next_page(p.first_page(), result(None)) is None
        assert p.next_page(p.first_page(), result('<https://s/x>; rel="next"; cursor="a"', records=0)) is None

    def test_a_repeated_token_is_a_loop(self) -> None:
        p = LinkHeaderPaginator(token="cursor").start()
        page = p.next_page(p.first_page(), result('<https://s/x>; rel="next"; cursor="same"'))
        assert page is not None
        with pytest.raises(PaginationLoopError, match="twice"):
            p.next_page(page, result('<https://s/x>; rel="next"; cursor="same"'))


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


class TestSentryOverHttp:
    def serve(self, api: FakeAPI, total: int, size: int = 100) -> None:
        def issues(request: Request) -> Response:
            start = int((request.args.get("cursor") or "0:0:0").split(":")[1])
            rows = [{"id": str(i)} for i in range(start, min(start + size, total))]
            return reply(rows, headers={"Link": sentry_link(f"{api.url}/api/0/projects/acme/web/issues/", start, size, total)})

        api.route("/api/0/projects/acme/web/issues/", issues)

    def read(self, tmp_path: Path, api: FakeAPI) -> list[dict[str, Any]]:
        spec = {
            "name": "sentry",
            "base_url": api.url,
            "streams": {
                "issues": {
                    "request": {"path": "/api/0/projects/acme/web/issues/", "query": {"query": "is:unresolved"}},
                    "paginate": {"type": "link", "token": "cursor", "more": "results"},
                }
            },
        }
        with open_connector(tmp_path, spec) as c:
            return list(c.read("issues"))

    def test_every_page_and_no_request_for_the_empty_one(self, tmp_path: Path, api: FakeAPI) -> None:
        self.serve(api, total=250)
        assert len(self.read(tmp_path, api)) == 250
        sent = api.received("/api/0/projects/acme/web/issues/")
        assert [r.query.get("cursor") for r in sent] == [None, "0:100:0", "0:200:0"]
        assert all(r.query["query"] == "is:unresolved" for r in sent)

    def test_an_exact_multiple_of_the_page_size_stops_too(self, tmp_path: Path, api: FakeAPI) -> None:
        self.serve(api, total=200)
        assert len(self.read(tmp_path, api)) == 200
        assert len(api.received("/api/0/projects/acme/web/issues/")) == 2
