"""The spec format: write operations, batches, their retries, and error rules (part of :mod:`connector_core.engine.spec`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from connector_core.engine.spec_base import SpecModel
from connector_core.engine.spec_requests import RequestSpec


class IdFrom(SpecModel):
    """Where a write operation finds the id of the record it created or changed."""

    header: str | None = Field(None, description="Response header holding the record URL, e.g. 'Location' (its last segment is the id).")
    path: str | None = Field(None, description="Dotted path of the id in the response body.")


class IdempotencyKey(SpecModel):
    """Sends a key so that retrying a write cannot apply it twice."""

    header: str = Field(..., description="Header that carries the key.")
    value: str = Field("{{ uuid4() }}", description="Template for the key (default: a fresh UUID per call, reused across retries).")


class BatchSpec(SpecModel):
    """Splits ``input.records`` into chunks; each chunk is sent as one request."""

    size: int = Field(100, ge=1, description="Records per request.")
    results: str = Field("results", description="Dotted path of per-record successes in the response body.")
    errors: str | None = Field("errors", description="Dotted path of per-record failures in the response body.")
    error_message: str = Field("{{ error.message | default(error) }}", description="Template turning one failure (`error`) into a message.")
    item: Any = Field(
        None,
        description="What each input record is sent as: a template over `record` and `input`. The request sees the chunk as `items`.",
    )
    key: str | None = Field(
        None, description="Template over `record` (an input record) giving its key; with result_key/error_keys, outcomes are matched per record."
    )
    result_key: str | None = Field(None, description="Template over `result` (one success) giving the key of the input record it answers.")
    error_keys: str | None = Field(
        None, description="Template over `error` (one failure) giving the key, or a list of keys, of the input records it concerns."
    )
    ok: str | None = Field(
        None,
        description="For APIs answering every record in one list, in input order, each entry saying whether it succeeded "
        "(e.g. Salesforce sObject Collections): a template over `result` (one entry of `results`) that is true for a success. "
        "Entries are matched to records by position; failed ones are errors (error_message sees the entry as `error`).",
    )


class OperationRetries(SpecModel):
    """Per-operation retry settings; each value may be a template over `input` (e.g. an action's retry inputs)."""

    attempts: int | str = Field(1, description="Total attempts, the first included (1: no retry).")
    delay: float | str = Field(0, description="Fixed seconds between attempts, when not exponential.")
    exponential: bool | str = Field(False, description="Use exponential backoff with jitter instead of the fixed delay.")
    on_all_errors: bool | str = Field(False, description="Retry every error status (4xx too), not only 429 and 5xx.")


class Operation(SpecModel):
    """A write operation or action, callable with `connector-core call`."""

    kind: Literal["create", "update", "upsert", "delete", "batch", "action"] = Field(..., description="What the operation does.")
    description: str | None = Field(None, description="Shown by `connector-core discover` and in errors.")
    input: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object"}, description="JSON Schema of the input (defaults are applied)."
    )
    request: RequestSpec = Field(..., description="The request, templated over `input` and `config`.")
    id: IdFrom | None = Field(None, description="Where to read the id of the written record.")
    idempotency_key: IdempotencyKey | None = Field(None, description="Makes retries of a non-idempotent write safe.")
    batch: BatchSpec | None = Field(None, description="For kind 'batch': how input records are chunked and results read.")
    response: Literal["json", "text", "binary", "none"] | str = Field(
        "json", description="How to read the response body: json, text, binary or none (or a template choosing one)."
    )
    retries: OperationRetries | None = Field(None, description="Retry settings for this operation, overriding defaults.retries.")
    debug: bool | str = Field(False, description="Log this operation's requests and responses (secrets redacted); a template may read the input.")
    output: Any = Field(None, description="Template shaping the result from `response` (body), `input` and the id.")
    retry: bool | None = Field(
        None,
        description="Retry this operation on transient errors (5xx, timeouts, dropped connections). Default: yes for "
        "reads, updates, upserts and deletes, and for creates only with an idempotency key. A 429 is retried "
        "whatever this says, creates included: the API refused the request without acting on it.",
    )
    errors: list[ErrorRule] = Field(
        default_factory=list, description="Error rules for this operation only, tried before the connector's (e.g. 409 → ignore)."
    )


class ErrorRule(SpecModel):
    """Turns an API error response into a user-facing message and an action."""

    status: int | list[int] | None = Field(None, description="HTTP status(es) this rule matches.")
    contains: str | None = Field(None, description="Text the response body must contain.")
    when: str | None = Field(None, description="Template over `response` (status, body, headers) that must be true.")
    action: Literal["fail", "retry", "ignore"] = Field("fail", description="fail: stop with the message; retry: treat as transient; ignore: treat as empty success.")
    message: str | None = Field(None, description="Message for the user (template over `response`).")
    hint: str | None = Field(None, description="What the user should do about it.")
