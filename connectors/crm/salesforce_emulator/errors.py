"""Salesforce's REST error shape: ``[{"message", "errorCode", "fields"}]`` with the HTTP status it comes with."""

from __future__ import annotations

from typing import Any


class SalesforceError(Exception):
    """An API error reply: status, ``errorCode`` and message (fields when the error is about fields)."""

    def __init__(self, status: int, error_code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def item(self) -> dict[str, Any]:
        """The error as one element of the REST error list."""
        out: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            out["fields"] = self.fields
        return out

    def record_error(self) -> dict[str, Any]:
        """The error as sObject Collections report it per record (``statusCode``, not ``errorCode``)."""
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields or []}

    def body(self) -> list[dict[str, Any]]:
        return [self.item()]


class OAuthError(Exception):
    """A token-endpoint failure: ``{"error", "error_description"}`` with its status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def not_found(message: str = "The requested resource does not exist") -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", message)


def invalid_session() -> SalesforceError:
    return SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def bad_request(error_code: str, message: str, fields: list[str] | None = None) -> SalesforceError:
    return SalesforceError(400, error_code, message, fields)
