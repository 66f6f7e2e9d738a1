"""Pagination by the ``Link`` response header, reading the attributes of the link, not only its URL.

Sentry, for one, sends ``Link: <…&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"`` on
every page, the last included, where ``results="false"`` says the next page is empty. The ``link``
paginator can take the token from an attribute (``token: cursor``) and send it as a parameter, or follow
the link's URL, and stops when an attribute says so (``more: results``) without asking for the empty
page. The header is parsed here rather than with ``requests``' ``links``, which drops every attribute
after one whose quoted value holds ``=`` (common in base64 cursors).
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urljoin

from pydantic import Field

from connector_core.engine.pagination import Page, PageRequest, PageResult, Paginator, PaginatorModel
from connector_core.errors import PaginationLoopError

_LINK = re.compile(r"<(?P<url>[^>]*)>(?P<params>(?:\s*;\s*[^\s=;,]+\s*(?:=\s*(?:\"(?:[^\"\\]|\\.)*\"|[^;,]*))?)*)")
_PARAM = re.compile(r";\s*(?P<name>[^\s=;,]+)\s*(?:=\s*(?:\"(?P<quoted>(?:[^\"\\]|\\.)*)\"|(?P<bare>[^;,]*)))?")
_FALSE = {"false", "0", "no", "off", ""}


def parse_link_header(value: str) -> list[dict[str, str]]:
    """Every link of a ``Link`` header: ``url`` and each attribute (names lower-cased, quotes removed)."""
    links: list[dict[str, str]] = []
    for match in _LINK.finditer(value or ""):
        link = {"url": match["url"].strip()}
        for param in _PARAM.finditer(match["params"]):
            quoted = param["quoted"]
            text = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else (param["bare"] or "").strip()
            link.setdefault(param["name"].lower(), text)
        links.append(link)
    return links


def find_link(value: str, rel: str) -> dict[str, str] | None:
    """The first link whose ``rel`` (a space-separated list) includes ``rel``."""
    for link in parse_link_header(value):
        if rel.lower() in link.get("rel", "").lower().split():
            return link
    return None


class LinkHeaderPaginator(PaginatorModel):
    """Follows the ``Link`` header's link of a relation (``rel="next"``): its URL, or a token taken from
    one of its attributes, until the link is gone or an attribute says no more pages follow.

    Example (Sentry): `paginate: {type: link, token: cursor, more: results}` sends `?cursor=…` from
    `cursor="…"` and stops on `results="false"` with no request for the empty page.
    """

    type: Literal["link"] = "link"
    rel: str = Field("next", description="Relation of the link to follow, e.g. 'next'.")
    token: str | None = Field(None, description="Attribute of the link holding the next page's token; omit to follow the link's URL.")
    param: str | None = Field(None, description="Query parameter the token is sent in (default: the attribute's name).")
    more: str | None = Field(
        None, description="Attribute of the link that is false ('false', '0', 'no') when no page follows, e.g. Sentry's 'results'."
    )

    def start(self) -> Paginator:
        return _LinkHeader(self)


class _LinkHeader(Paginator):
    def __init__(self, spec: LinkHeaderPaginator) -> None:
        self.spec = spec
        self.seen: set[str] = set()

    def first_page(self) -> Page:
        return {"url": None, "token": None, "number": 0}

    def apply(self, page: Page, request: PageRequest) -> None:
        if page["token"] is not None:
            request.params[self.spec.param or str(self.spec.token)] = page["token"]
        elif page["url"]:
            request.url = page["url"]  # the link carries its own query; the HTTP layer keeps it on the base host
            request.params.clear()

    def next_page(self, page: Page, result: PageResult) -> Page | None:
        if not result.records:
            return None
        header = result.headers.get("Link") if result.headers is not None else None
        link = find_link(header or "", self.spec.rel)
        if link is None:
            return None
        if self.spec.more and link.get(self.spec.more.lower(), "true").strip().lower() in _FALSE:
            return None
        if self.spec.token:
            token = link.get(self.spec.token.lower())
            if not token:
                return None
            following: Page = {"url": None, "token": token, "number": page["number"] + 1}
            key = token
        else:
            url = urljoin(result.url, link["url"]) if result.url else link["url"]
            if not url:
                return None
            following = {"url": url, "token": None, "number": page["number"] + 1}
            key = url
        if key in self.seen:
            raise PaginationLoopError(f"the API's Link header named the page {key[:60]!r} twice; stopping to avoid a loop")
        self.seen.add(key)
        return following

    def reset(self) -> None:
        self.seen.clear()


__all__ = ["LinkHeaderPaginator", "find_link", "parse_link_header"]
