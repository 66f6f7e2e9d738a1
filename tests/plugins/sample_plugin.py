"""A plugin implementing every hook in connector_core.hookspecs, for tests/core/test_plugins.py.

It is also the longest worked example for contributors (docs/plugins.md quotes it): the ``ledger``
connector (ledger.yaml) signs requests with HMAC headers, pages with skip tokens, upper-cases its
region with a Jinja filter, converts cents with a named transform and explains the API's faults.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import requests
from pydantic import Field
from requests.auth import AuthBase

from connector_core import AuthContext, AuthModel, PageRequest, PageResult, Paginator, PaginatorModel
from connector_core.engine.pagination import Page
from connector_core.errors import (
    AuthError,
    ConnectorError,
    FatalHTTPError,
    PaginationLoopError,
    RetriableHTTPError,
)
from connector_core.hookspecs import hookimpl

CONNECTOR = "ledger"

# --- auth: HMAC-signed headers ------------------------------------------------------------------------


def signature(secret: str, method: str, target: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over method, path-and-query, timestamp and the body's SHA-256, hex encoded."""
    message = "\n".join([method.upper(), target, timestamp, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class _HmacSigner(AuthBase):
    def __init__(self, key_id: str, secret: str, now: Callable[[], float]) -> None:
        self.key_id, self.secret, self.now = key_id, secret, now

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        url = requests.utils.urlparse(r.url or "")
        target = url.path + (f"?{url.query}" if url.query else "")
        body = r.body if isinstance(r.body, bytes) else (r.body or "").encode()
        timestamp = str(int(self.now()))
        r.headers["X-Key-Id"] = self.key_id
        r.headers["X-Timestamp"] = timestamp
        r.headers["X-Signature"] = signature(self.secret, r.method or "GET", target, timestamp, body)
        return r


class HmacHeaderAuth(AuthModel):
    """Signs every request with HMAC-SHA256 in ``X-Key-Id``, ``X-Timestamp`` and ``X-Signature`` headers."""

    type: Literal["hmac_header"] = "hmac_header"
    key_id: str = Field(..., description="Public key id (template).")
    secret: str = Field(..., description="Signing secret (template, e.g. '{{ config.secret }}').")

    def build(self, ctx: AuthContext) -> AuthBase:
        secret = str(ctx.render(self.secret) or "")
        ctx.redactor.add(secret)  # keeps it out of logs, errors and cassettes
        return _HmacSigner(str(ctx.render(self.key_id)), secret, ctx.now)


# --- paginator: opaque skip tokens --------------------------------------------------------------------


class SkipTokenPaginator(PaginatorModel):
    """An opaque skip token read from the body and sent back as a query parameter; stops when absent."""

    type: Literal["skip_token"] = "skip_token"
    path: str = Field("next_skip", description="Top-level body field holding the next skip token.")
    param: str = Field("skip_token", description="Query parameter the token is sent in.")

    def start(self) -> Paginator:
        return _SkipToken(self)


class _SkipToken(Paginator):
    def __init__(self, spec: SkipTokenPaginator) -> None:
        self.spec = spec
        self.seen: set[str] = set()

    def first_page(self) -> Page:
        return {"skip": None}

    def apply(self, page: Page, request: PageRequest) -> None:
        if page["skip"] is not None:
            request.params[self.spec.param] = page["skip"]

    def next_page(self, page: Page, result: PageResult) -> Page | None:
        token = result.body.get(self.spec.path) if isinstance(result.body, dict) else None
        if not token or not result.records:
            return None
        if token in self.seen:
            raise PaginationLoopError(
                f"the API returned the skip token {token!r} twice; stopping to avoid a loop"
            )
        self.seen.add(token)
        return {"skip": token}

    def reset(self) -> None:
        self.seen.clear()


# --- transforms ---------------------------------------------------------------------------------------


def cents_to_amount(record: dict[str, Any]) -> dict[str, Any] | None:
    """``cents`` (int) becomes ``amount`` (float); void entries are dropped."""
    if record.get("status") == "void":
        return None
    record["amount"] = record.pop("cents") / 100
    return record


# --- hooks --------------------------------------------------------------------------------------------


@hookimpl
def connector_register_connectors() -> list[Path]:
    return [Path(__file__).with_name("ledger.yaml")]


@hookimpl
def connector_register_auth_types() -> list[type[AuthModel]]:
    return [HmacHeaderAuth]


@hookimpl
def connector_register_paginators() -> list[type[PaginatorModel]]:
    return [SkipTokenPaginator]


@hookimpl
def connector_register_jinja_filters() -> dict[str, Callable[..., Any]]:
    return {"shout": lambda value: str(value).upper()}


@hookimpl
def connector_register_transforms() -> dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]]:
    return {"cents_to_amount": cents_to_amount}


@hookimpl
def connector_interpret_error(
    connector: str, response: requests.Response, body: Any
) -> ConnectorError | None:
    if connector != CONNECTOR or not isinstance(body, dict) or not isinstance(body.get("fault"), dict):
        return None
    fault = body["fault"]
    code = fault.get("code", "UNKNOWN")
    if code == "BAD_SIGNATURE":
        return AuthError(
            "the ledger refused the request signature",
            status=response.status_code,
            hint="check key_id and secret",
        )
    if fault.get("retry"):
        return RetriableHTTPError(f"the ledger is busy ({code})", status=response.status_code)
    return FatalHTTPError(
        f"the ledger refused the request ({code}): {fault.get('message', 'no details')}",
        status=response.status_code,
        hint="closed periods cannot be read; pick an open period",
    )


@hookimpl
def connector_transform_record(connector: str, stream: str, record: dict[str, Any]) -> dict[str, Any] | None:
    if connector == CONNECTOR:
        record["_source"] = f"{connector}.{stream}"
    return None


@hookimpl
def connector_register_extractors() -> list[type[Any]]:
    # the stream components live beside: tests/plugins/pipeline_plugin.py
    from pipeline_plugin import ColumnarExtractor

    return [ColumnarExtractor]


@hookimpl
def connector_register_partition_routers() -> list[type[Any]]:
    from pipeline_plugin import CrossProductRouter

    return [CrossProductRouter]


@hookimpl
def connector_register_slicers() -> list[type[Any]]:
    from pipeline_plugin import CalendarMonthSlicer

    return [CalendarMonthSlicer]


@hookimpl
def connector_register_emulators() -> dict[str, Callable[[int | None], Any]]:
    return {"ledger": start_ledger}


def start_ledger(port: int | None) -> Any:
    """The ledger server (always on a free port) and a config that connects the ledger connector to it."""
    from sample_server import LedgerServer

    from connector_core.plugins import RunningEmulator

    key_id, secret = "sandbox-key", "sandbox-secret-value"
    server = LedgerServer(key_id, secret)
    url = server.start()
    return RunningEmulator("ledger", CONNECTOR, url, {"base_url": url, "key_id": key_id, "secret": secret}, server.stop)
