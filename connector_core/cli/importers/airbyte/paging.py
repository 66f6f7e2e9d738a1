"""Airbyte paginators (``DefaultPaginator`` and its strategies) as connector-core paginators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from connector_core.cli.importers.airbyte.context import Conversion, custom_class
from connector_core.cli.importers.airbyte.templates import strip_braces

HOOK = "write a paginator plugin (docs/plugins.md#a-paginator) and set the stream's `paginate` to it"
_GET = re.compile(r"\.get\(\s*(['\"])([^'\"]+)\1\s*(?:,\s*(?:{}|None|none|''|\"\"|\[\]))?\s*\)")
_ITEM = re.compile(r"\[\s*(['\"])([^'\"]+)\1\s*\]")


@dataclass
class Paging:
    """The stream's ``paginate`` (None: one page) and what Airbyte's ``next_page_token`` becomes."""

    spec: dict[str, Any] | None = None
    page_expr: str | None = None
    first_query: dict[str, Any] | None = None  # sent with the first request (later ones follow a URL)


def convert_paginator(node: Any, conv: Conversion, fallback: str) -> Paging:
    at = conv.where(node, fallback)
    if not isinstance(node, dict) or node.get("type") == "NoPagination":
        return Paging()
    if custom_class(node):
        conv.lost(at, f"custom paginator {custom_class(node)}: the stream reads one page", HOOK)
        return Paging()
    strategy = node.get("pagination_strategy")
    if not isinstance(strategy, dict):
        conv.lost(at, "a paginator without a pagination_strategy: the stream reads one page", HOOK)
        return Paging()
    kind = strategy.get("type")
    s_at = conv.where(strategy, f"{at}.pagination_strategy")
    if custom_class(strategy):
        conv.lost(s_at, f"custom pagination strategy {custom_class(strategy)}: the stream reads one page", HOOK)
        return Paging()
    token = node.get("page_token_option")
    size_option = node.get("page_size_option")
    size_param, size_in = _option(size_option, conv, f"{at}.page_size_option")
    page_size = _page_size(strategy.get("page_size"), conv, s_at)
    if kind == "OffsetIncrement":
        param, where_in = _option(token, conv, f"{at}.page_token_option")
        spec: dict[str, Any] = {"type": "offset", "limit": page_size or 100, "offset_param": param or "offset", "limit_param": size_param}
        _place(spec, where_in or size_in)
        if page_size is None:
            conv.lost(s_at, "OffsetIncrement without a page_size: pages of 100 are assumed", "set `limit` to the API's page size", "changed")
        return Paging(spec, "page.offset")
    if kind == "PageIncrement":
        param, where_in = _option(token, conv, f"{at}.page_token_option")
        spec = {"type": "page", "size": page_size or 100, "page_param": param or "page", "size_param": size_param,
                "start": int(strategy.get("start_from_page") or 0)}
        _place(spec, where_in or size_in)
        if page_size is None:
            conv.lost(s_at, "PageIncrement without a page_size: a page shorter than 100 records is taken as the last",
                      "set `size` to the API's page size", "changed")
        return Paging(spec, "page.page")
    if kind == "CursorPagination":
        return _cursor(strategy, token, size_param, page_size, conv, at, s_at)
    conv.lost(s_at, f"pagination strategy {kind!r} is not converted: the stream reads one page", HOOK)
    return Paging()


def _cursor(strategy: dict[str, Any], token: Any, size_param: str | None, page_size: int | None,
            conv: Conversion, at: str, s_at: str) -> Paging:
    value = strategy.get("cursor_value")
    expr = _plain(strip_braces(value) if isinstance(value, str) else None)
    stop = _plain(strip_braces(strategy["stop_condition"])) if isinstance(strategy.get("stop_condition"), str) else None
    by_url = isinstance(token, dict) and token.get("type") == "RequestPath"
    param, where_in = (None, None) if by_url else _option(token, conv, f"{at}.page_token_option")
    spec: dict[str, Any] | None = None
    if expr is None:
        conv.lost(s_at, f"cursor_value {value!r} is not one expression: the stream reads one page", HOOK)
        return Paging()
    link = re.fullmatch(r"headers\.link\.next\.(\w+)", expr)
    body = re.fullmatch(r"response((?:\.[\w\-]+)+)", expr)
    header = re.fullmatch(r"headers\.([\w\-]+)", expr)
    if link and link.group(1) == "url":
        spec = {"type": "next_url"}
    elif link:
        spec = {"type": "link", "token": link.group(1)}
        if param and param != link.group(1):
            spec["param"] = param
        more = re.search(r"headers\.link\.next\.(\w+)\s*==\s*['\"](?:false|False|0)['\"]", stop or "")
        if more:
            spec["more"] = more.group(1)
            stop = None
    elif body and by_url:
        spec = {"type": "next_url", "path": body.group(1)[1:]}
    elif body:
        spec = {"type": "cursor", "path": body.group(1)[1:], "param": param or "cursor"}
        _place(spec, where_in)
    elif header and not by_url:
        spec = {"type": "cursor", "header": header.group(1), "param": param or "cursor"}
        _place(spec, where_in)
    else:
        conv.lost(s_at, f"cursor_value {value!r} (e.g. a token from last_record) has no connector-core paginator: the stream reads one page", HOOK)
        return Paging()
    if spec["type"] == "cursor" and page_size is not None:
        spec["page_size"] = page_size
        if size_param:
            spec["size_param"] = size_param
    first_query = {size_param: page_size} if spec["type"] in ("next_url", "link") and page_size is not None and size_param else None
    if stop and not _stops_when_token_missing(stop, expr):
        conv.lost(f"{s_at}.stop_condition", f"stop_condition {strategy['stop_condition']!r} is not converted: paging stops when no next token or link comes",
                  "check that the API leaves the token out on its last page; otherwise write a paginator plugin", "changed")
    return Paging(spec, "page.cursor" if spec["type"] == "cursor" else None, first_query)


def _stops_when_token_missing(stop: str, token_expr: str) -> bool:
    if "'next' not in headers.link" in stop or '"next" not in headers.link' in stop:
        return True
    return token_expr in stop and bool(re.search(r"\bnot\b|is none|is not defined|== none|== ''", stop, re.IGNORECASE))


def _plain(expr: str | None) -> str | None:
    """``response.get('a', {})['b']`` as ``response.a.b``: the dotted form the patterns above read."""
    if expr is None:
        return None
    expr = _GET.sub(lambda m: "." + m.group(2), expr)
    return re.sub(r"\s*\.\s*", ".", _ITEM.sub(lambda m: "." + m.group(2), expr)).strip()


def _option(option: Any, conv: Conversion, at: str) -> tuple[str | None, str | None]:
    """The parameter name and place (`query` / `body`) of a RequestOption."""
    if not isinstance(option, dict):
        return None, None
    name = option.get("field_name") or ".".join(option.get("field_path") or [])
    place = option.get("inject_into", "request_parameter")
    if place == "request_parameter":
        return name, None
    if place in ("body_json", "body_data"):
        return name, "body"
    conv.lost(conv.where(option, at), f"a page option sent as a {place} ({name}) is sent as a query parameter instead",
              "write a paginator plugin if the API needs it in a header", "changed")
    return name, None


def _place(spec: dict[str, Any], where_in: str | None) -> None:
    if where_in:
        spec["in"] = where_in


def _page_size(value: Any, conv: Conversion, at: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    conv.lost(f"{at}.page_size", f"page_size {value!r} is a template; connector-core page sizes are numbers, 100 is used",
              "set the page size in the spec's paginate", "changed")
    return 100


__all__ = ["Paging", "convert_paginator"]
