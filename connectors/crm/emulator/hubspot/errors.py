"""HubSpot error envelopes, raised as exceptions by handlers and rendered by the app."""

from __future__ import annotations

import uuid
from typing import Any

import orjson


def new_correlation_id() -> str:
    return str(uuid.uuid4())


class ApiError(Exception):
    """An error reply: ``{"status":"error","message","correlationId","category",...}``."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        context: dict[str, Any] | None = None,
        sub_category: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.context = context
        self.sub_category = sub_category
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self, correlation_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {"status": "error", "message": self.message, "correlationId": correlation_id}
        if self.sub_category:
            out["subCategory"] = self.sub_category
        if self.context is not None:
            out["context"] = self.context
        out["category"] = self.category
        out.update(self.extra)
        return out

    def batch_item(self) -> dict[str, Any]:
        """The form used inside a batch reply's ``errors`` list."""
        item: dict[str, Any] = {"status": "error", "category": self.category, "message": self.message}
        if self.sub_category:
            item["subCategory"] = self.sub_category
        item["context"] = self.context or {}
        return item


class EmptyNotFound(Exception):
    """A 404 without a JSON envelope (GET of a missing object, per the recorded evidence)."""


def validation(message: str, **kwargs: Any) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message, **kwargs)


def property_errors(items: list[dict[str, Any]]) -> ApiError:
    """HubSpot's 'Property values were not valid: [...]' 400 for failed property values."""
    payload = orjson.dumps(items).decode()
    return ApiError(400, "VALIDATION_ERROR", f"Property values were not valid: {payload}")


def property_error_item(name: str, error: str, message: str) -> dict[str, Any]:
    return {
        "isValid": False,
        "message": message,
        "error": error,
        "name": name,
        "localizedErrorMessage": message,
    }


def object_not_found_patch(object_id: str) -> ApiError:
    return ApiError(
        404,
        "OBJECT_NOT_FOUND",
        "Object not found.  objectId are usually numeric.",
        context={"id": [object_id]},
    )
