"""Building replies with NetSuite's headers and content types."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from werkzeug.wrappers import Response

from .errors import ERROR_CONTENT_TYPE, NsError, OAuthError

COLLECTION_CONTENT_TYPE = "application/vnd.oracle.resource+json; type=collection; charset=UTF-8"
SINGULAR_CONTENT_TYPE = "application/vnd.oracle.resource+json; type=singular; charset=UTF-8"
JSON_CONTENT_TYPE = "application/json; charset=UTF-8"


def _common(resp: Response) -> Response:
    h = resp.headers
    h["Cache-Control"] = "No-Cache"
    h["Pragma"] = "No-Cache"
    h["Expires"] = "0"
    h["X-Content-Type-Options"] = "nosniff"
    h["X-N-OperationId"] = str(uuid.uuid4())
    h["X-NetSuite-JobId"] = str(uuid.uuid4())
    return resp


def json_reply(
    payload: Any, status: int = 200, content_type: str = JSON_CONTENT_TYPE, headers: dict[str, str] | None = None
) -> Response:
    resp = Response(orjson.dumps(payload), status=status, content_type=content_type)
    if headers:
        resp.headers.update(headers)
    return _common(resp)


def raw_reply(body: bytes, status: int, content_type: str, headers: dict[str, str] | None = None) -> Response:
    resp = Response(body, status=status, content_type=content_type)
    if headers:
        resp.headers.update(headers)
    return _common(resp)


def no_content(location: str | None = None, headers: dict[str, str] | None = None, status: int = 204) -> Response:
    """204 (or 202) with no body and no Content-Type, as NetSuite sends after writes."""
    resp = Response(status=status)
    resp.headers.pop("Content-Type", None)
    if location:
        resp.headers["Location"] = location
    if headers:
        resp.headers.update(headers)
    return _common(resp)


def error_reply(err: NsError) -> Response:
    """An ``nsError`` envelope. Error replies close the connection (evidence #9)."""
    resp = Response(err.body(), status=err.status, content_type=ERROR_CONTENT_TYPE)
    resp.headers.update(err.headers)
    resp.headers["Connection"] = "close"
    return _common(resp)


def oauth_error_reply(err: OAuthError) -> Response:
    resp = Response(err.body(), status=err.status, content_type=JSON_CONTENT_TYPE)
    resp.headers["Connection"] = "close"
    if err.status == 401:
        resp.headers["WWW-Authenticate"] = "Basic"
    return _common(resp)
