"""NetSuite error envelopes (``nsError``) and the exception that carries them."""

from __future__ import annotations

from typing import Any

import orjson

ERROR_CONTENT_TYPE = "application/vnd.oracle.resource+json; type=error; charset=UTF-8"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_RFC9110_SECTIONS = {
    400: "15.5.1",
    403: "15.5.4",
    404: "15.5.5",
    405: "15.5.6",
    415: "15.5.16",
    500: "15.6.1",
    502: "15.6.3",
    503: "15.6.4",
    504: "15.6.5",
}

#: The 401 body NetSuite sends for every authentication failure (fact sheet §1).
INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)


def type_url(status: int) -> str:
    """The ``type`` URL NetSuite puts in an error envelope for ``status``."""
    if status == 401:
        return "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2"
    if status == 429:
        return "https://www.rfc-editor.org/rfc/rfc6585.html#section-4"
    section = _RFC9110_SECTIONS.get(status, "15.5.1" if status < 500 else "15.6.1")
    return f"https://www.rfc-editor.org/rfc/rfc9110.html#section-{section}"


class NsError(Exception):
    """A NetSuite REST error reply: HTTP status plus one ``o:errorDetails`` entry."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        error_path: str | None = None,
        query_param: str | None = None,
        error_header: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.error_path = error_path
        self.query_param = query_param
        self.error_header = error_header
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        """The JSON body, key order as NetSuite sends it."""
        entry: dict[str, Any] = {"detail": self.detail}
        if self.error_path is not None:
            entry["o:errorPath"] = self.error_path
        if self.query_param is not None:
            entry["o:errorQueryParam"] = self.query_param
        if self.error_header is not None:
            entry["o:errorHeader"] = self.error_header
        entry["o:errorCode"] = self.code
        return {
            "type": type_url(self.status),
            "title": self.title,
            "status": self.status,
            "o:errorDetails": [entry],
        }

    def body(self) -> bytes:
        return orjson.dumps(self.envelope())


def invalid_login() -> NsError:
    """401 INVALID_LOGIN: the one reply for every authentication failure."""
    return NsError(401, "INVALID_LOGIN", INVALID_LOGIN_DETAIL)


def user_error(detail: str, *, error_path: str | None = None) -> NsError:
    """400 USER_ERROR; NetSuite prefixes every such detail with 'Error while accessing a resource.'"""
    return NsError(400, "USER_ERROR", f"Error while accessing a resource. {detail}", error_path=error_path)


def invalid_content(detail: str, *, error_path: str | None = None) -> NsError:
    return NsError(400, "INVALID_CONTENT", detail, error_path=error_path)


def invalid_parameter(detail: str, *, query_param: str | None = None) -> NsError:
    return NsError(400, "INVALID_PARAMETER", detail, query_param=query_param)


def nonexistent_id() -> NsError:
    return NsError(
        404,
        "NONEXISTENT_ID",
        "The record instance does not exist. Provide a valid record instance ID.",
    )


def unknown_record_type(name: str) -> NsError:
    return NsError(404, "NONEXISTENT_ID", f"Record type '{name}' does not exist.")


class OAuthError(Exception):
    """A token-endpoint error: ``{"error": code}`` with an HTTP status (RFC 6749 §5.2)."""

    def __init__(self, error: str, status: int = 400, description: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description

    def body(self) -> bytes:
        payload: dict[str, str] = {"error": self.error}
        if self.description:
            payload["error_description"] = self.description
        return orjson.dumps(payload)
