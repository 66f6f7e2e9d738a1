"""What a handler gets (:class:`Call`) and returns (:class:`Reply`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from werkzeug.wrappers import Request

from .errors import bad_request

if TYPE_CHECKING:
    from .auth import Session
    from .org import Org

JSON_TYPE = "application/json;charset=UTF-8"
CSV_TYPE = "text/csv"


@dataclass
class Reply:
    """A reply before the app adds its common headers. ``body`` is JSON-ready data, or bytes/str as is."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE


@dataclass
class Call:
    """One authenticated API request, and the org it reaches."""

    org: Org
    request: Request
    version: str
    session: Session | None = None

    @property
    def base_url(self) -> str:
        """Scheme and host the client used: the org's instance URL."""
        return f"{self.request.scheme}://{self.request.host}"

    @property
    def data_path(self) -> str:
        return f"/services/data/v{self.version}"

    def json(self) -> Any:
        """The JSON body; a 400 ``JSON_PARSER_ERROR`` when it is not JSON."""
        raw = self.request.get_data(cache=True)
        if not raw.strip():
            raise bad_request("JSON_PARSER_ERROR", "The request body is empty.")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise bad_request("JSON_PARSER_ERROR", f"Unexpected character in JSON body: {exc}") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise bad_request(
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of SObject from {type(body).__name__} value",
            )
        return body
