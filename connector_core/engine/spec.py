"""The connector spec format, defined once as pydantic models.

These models are the single source of truth: ``specs/connector.schema.json`` is generated from them
(``python -m connector_core.cli.schemas``) and a test fails when the committed file drifts. Auth types and
paginators come from plugins, so the spec is generic over their unions; :func:`spec_model` builds the
concrete model for the set of installed plugins.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connector_core.engine.timeparse import parse_duration

AuthT = TypeVar("AuthT")
PaginatorT = TypeVar("PaginatorT")

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class SpecModel(BaseModel):
    """Base of every spec model: unknown keys are rejected, values are immutable once loaded."""

    # defer_build: validators are built on first use, so start-up does not pay for models a spec never uses
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def _seconds(value: Any) -> float:
    return parse_duration(value).total_seconds()


class RetryPolicy(SpecModel):
    """How failed requests are retried: exponential backoff with jitter, honouring Retry-After."""

    attempts: int = Field(5, ge=1, le=20, description="Total attempts per request, the first one included.")
    backoff: float = Field(0.5, ge=0, description="Seconds before the first retry; doubles with each further failed attempt after a 429, and after a 5xx or network error while the API is failing (most of its latest requests failed, none answered since). While it answers, a retry after a 5xx waits as after a first failure: a longer wait would relieve nothing. Each wait is jittered to between half and all of it.")
    max_backoff: float = Field(60, ge=0, description="Upper bound, in seconds, of one wait between attempts.")
    statuses: list[int] = Field(
        default_factory=lambda: [429, 500, 502, 503, 504],
        description="HTTP statuses that are retried. Network errors and timeouts are always retried.",
    )
    respect_retry_after: bool = Field(True, description="Wait as long as a Retry-After header asks (capped by max_wait).")
    max_wait: float = Field(300, ge=0, description="Longest Retry-After, in seconds, that is honoured.")


class RateLimit(SpecModel):
    """At most ``requests`` requests started per ``per`` seconds, shared by all streams of a connection."""

    requests: int | str = Field(..., description="Requests allowed in each window (a number or a template, e.g. from config).")
    per: float = Field(1.0, gt=0, description="Window length in seconds (or a duration such as '10s').")

    _parse_per = field_validator("per", mode="before")(lambda cls, v: _seconds(v))

    @field_validator("requests")
    @classmethod
    def _positive(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("must be at least 1")
        return value


class RateLimitHeaders(SpecModel):
    """Pace requests by the budget the API announces in response headers, so the window is never overrun.

    After each response the remaining budget is read; when it is down to ``reserve`` (counting the
    requests still in flight), new requests wait for the window to pass. With ``limit`` (and a window
    length) the connection also paces itself to ``limit - reserve`` requests per window.
    """

    remaining: str = Field(..., description="Header with the requests left in the current window, e.g. X-RateLimit-Remaining.")
    limit: str | None = Field(None, description="Header with the budget of one window, e.g. X-RateLimit-Limit.")
    window: str | None = Field(None, description="Header with the window length (see window_unit).")
    window_unit: Literal["s", "ms"] = Field("s", description="Unit of the window header: seconds or milliseconds.")
    default_window: float = Field(1.0, gt=0, description="Window length in seconds (or a duration) when the API sends none.")
    reserve: int = Field(1, ge=0, description="Requests of each window left unused (for other clients of the same account).")

    _parse_default_window = field_validator("default_window", mode="before")(lambda cls, v: _seconds(v))


class RequestDefaults(SpecModel):
    """Options applied to every request of the connector unless a request overrides them."""

    headers: dict[str, str] = Field(default_factory=dict, description="Headers sent with every request (templates allowed).")
    query: dict[str, Any] = Field(default_factory=dict, description="Query parameters sent with every request.")
    timeout: float = Field(60, gt=0, description="Seconds to wait for a response (or a duration such as '2m').")
    retries: RetryPolicy = Field(default_factory=RetryPolicy, description="Retry policy for failed requests.")
    concurrency: int | str = Field(
        4, description="Most requests in flight at once for the whole connection (all streams together); a number or a template."
    )
    rate_limit: RateLimit | None = Field(None, description="Most requests started per time window for the connection.")
    rate_limits: dict[str, RateLimit] = Field(
        default_factory=dict,
        description="Named extra limits. A request that names one (`rate_limit: NAME`) counts against it as well as the connection's.",
    )
    rate_limit_headers: RateLimitHeaders | None = Field(
        None, description="Pace requests by the remaining budget the API reports in its response headers."
    )

    _parse_timeout = field_validator("timeout", mode="before")(lambda cls, v: _seconds(v))


class FilePart(SpecModel):
    """One file in a multipart body."""

    content: Any = Field(..., description="File content: text, or a template evaluating to text or bytes.")
    filename: str | None = Field(None, description="File name sent with the part.")
    content_type: str | None = Field(None, description="MIME type of the part.")


class RequestSpec(SpecModel):
    """An HTTP request. Every string may be a template over config, state, partition, page, record and input."""

    method: HttpMethod | str = Field("GET", description="HTTP method (or a template choosing one, e.g. from an action's input).")

    @field_validator("method", mode="before")
    @classmethod
    def _check_method(cls, value: Any) -> Any:
        if isinstance(value, str) and "{{" not in value:
            upper = value.upper()
            if upper not in HTTP_METHODS:
                raise ValueError(f"{value!r} is not an HTTP method; expected one of {', '.join(HTTP_METHODS)}")
            return upper
        return value
    path: str = Field(
        "",
        description="Path appended to the connector's base_url. Never a full URL: requests cannot leave the base host.",
    )
    query: dict[str, Any] | str = Field(
        default_factory=dict, description="Query parameters (or one template giving a mapping); a null value omits the parameter."
    )
    headers: dict[str, str] | str = Field(default_factory=dict, description="Extra headers (or one template giving a mapping).")
    json_body: Any = Field(None, alias="json", description="JSON body (any value; a single-expression template keeps its type).")
    form: dict[str, Any] | str | None = Field(None, description="Form-urlencoded body (or one template giving a mapping).")
    multipart: dict[str, Any] | str | None = Field(None, description="Multipart text fields: name → value (or one template).")
    files: dict[str, FilePart] | str | None = Field(
        None, description="Multipart file parts: name → file, or one template giving name → {content, filename, content_type}."
    )
    body: str | None = Field(None, description="Raw text body, sent as is.")
    timeout: float | str | None = Field(None, description="Overrides defaults.timeout for this request (seconds, duration or template).")
    rate_limit: str | None = Field(None, description="Name of a defaults.rate_limits limit this request also counts against.")

    @field_validator("timeout", mode="before")
    @classmethod
    def _parse_timeout(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and "{{" in value):
            return value
        return _seconds(value)


class RecordSelector(SpecModel):
    """Where the records are in a response, and which to keep."""

    path: str = Field("", description="Dotted path to the list of records in the body ('' = the body itself).")
    filter: str | None = Field(None, description="Template evaluated per record; records for which it is false are dropped.")


class Incremental(SpecModel):
    """Incremental reads: only records whose cursor moved since the last run."""

    field: str = Field(
        ..., description="Dotted path of the cursor value in each record, e.g. 'lastmodifieddate' (may be a template over `partition`)."
    )
    type: Literal["datetime", "integer", "string"] = Field("datetime", description="How cursor values compare.")
    start: str | None = Field(None, description="Where the first read begins (template, e.g. '{{ config.start_date }}').")
    lookback: float = Field(
        0, ge=0, description="Re-read this many seconds before the saved cursor (or '1h', 'P1D'); duplicates dropped by primary key."
    )
    end: str | None = Field(None, description="Optional upper bound for staged backfills (template).")
    filter_records: bool = Field(True, description="Drop records older than the lower bound even if the API returned them.")
    sorted: bool = Field(False, description="Records arrive in cursor order: save a checkpoint after every page, not only at the end.")

    _parse_lookback = field_validator("lookback", mode="before")(lambda cls, v: _seconds(v))


class Partitions(SpecModel):
    """Run the stream once per partition. Exactly one of ``values`` or ``parent``."""

    values: list[Any] | str | None = Field(None, description="A list, or a template evaluating to a list; each item is `partition`.")
    parent: str | None = Field(None, description="Parent stream: the stream runs once per parent record.")
    field: str = Field("id", description="With parent: the parent record's field exposed as `partition.id`.")


class Enrich(SpecModel):
    """Adds data to every page of records with one more request per page (per ``batch`` records), never one per record.

    The request sees the page's records as ``records`` (at most ``batch`` of them); each item of the
    response's ``results`` is matched to the record whose ``key`` equals its ``match``, and ``set``
    templates then see ``record`` and ``result`` (None when the API returned nothing for the record).
    """

    request: RequestSpec = Field(..., description="The request, templated over `records`, `partition`, `config` and `state`.")
    key: str = Field("id", description="Dotted path of the key in each record.")
    batch: int = Field(100, ge=1, description="Most records per request.")
    results: str = Field("results", description="Dotted path of the result items in the response body.")
    match: str = Field(..., description="Dotted path in a result item of the record key it belongs to.")
    set: dict[str, Any] = Field(..., description="Fields to set on each record: path → template over `record` and `result`.")


class Stream(SpecModel, Generic[PaginatorT]):
    """A readable stream of records."""

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return cls.__name__

    description: str | None = Field(None, description="What the stream holds.")
    request: RequestSpec = Field(..., description="The request that fetches a page of the stream.")
    paginate: PaginatorT | None = Field(None, description="How to fetch the following pages (default: the connector's paginate).")
    records: str | RecordSelector = Field("", description="Dotted path to the records in the body, or a selector with a filter.")
    primary_key: str | list[str] | None = Field(None, description="Field(s) identifying a record.")
    cursor: str | Incremental | None = Field(None, description="Cursor field name, or incremental settings. Enables incremental reads.")
    partitions: Partitions | None = Field(None, description="Run the stream once per value or per parent record.")
    record_schema: dict[str, Any] | None = Field(None, alias="schema", description="JSON Schema of a record (inferred when omitted).")
    transforms: list[Transform] = Field(default_factory=list, description="Record transforms applied in order.")
    enrich: list[Enrich] = Field(
        default_factory=list, description="Extra requests per page whose results are added to its records (before filter and transforms)."
    )


class Transform(SpecModel):
    """A record transform. Set exactly one key."""

    set: dict[str, Any] | None = Field(None, description="Fields to add or overwrite: path → value or template over `record`.")
    drop: list[str] | None = Field(None, description="Fields to remove.")
    rename: dict[str, str] | None = Field(None, description="Fields to rename: old → new.")
    plugin: str | None = Field(None, description="A named transform contributed by a plugin.")


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
        description="Retry this operation on transient errors. Default: yes for reads, updates, upserts and deletes, "
        "and for creates only with an idempotency key.",
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


class CheckSpec(SpecModel):
    """The test call made by `connector-core check`."""

    request: RequestSpec | None = Field(None, description="A request that succeeds when the connection works.")
    stream: str | None = Field(None, description="Or: read the first page of this stream.")


class AuthChoice(SpecModel, Generic[AuthT]):
    """One of several ways to authenticate, used when its condition holds."""

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return cls.__name__

    when: str | None = Field(None, description="Template over `config`; this auth is used when it is true (omit: always).")
    use: AuthT = Field(..., description="The auth to use.")


class ConnectorSpec(SpecModel, Generic[AuthT, PaginatorT]):
    """A connector: how to reach an API, its streams and its write operations."""

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return cls.__name__

    name: str = Field(..., pattern=r"^[a-z][a-z0-9_\-]*$", description="Connector name, lower-case.")
    version: str = Field("0.1.0", description="Version of this spec.")
    description: str | None = Field(None, description="What the connector is for.")
    config: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object"},
        description="JSON Schema of the user's settings. Mark secret fields with `secret: true`.",
    )
    base_url: str = Field(..., description="Scheme and host (and base path) of the API; a template over config.")
    auth: AuthT | list[AuthChoice[AuthT]] | None = Field(
        None,
        description="How requests are authenticated: one auth, or a list of {when, use} of which the first whose `when` holds is used.",
    )
    defaults: RequestDefaults = Field(default_factory=RequestDefaults, description="Options for every request.")
    paginate: PaginatorT | None = Field(None, description="Default paginator for streams that do not set one.")
    check: CheckSpec | None = Field(None, description="The connection test.")
    streams: dict[str, Stream[PaginatorT]] = Field(default_factory=dict, description="Readable streams by name.")
    operations: dict[str, Operation] = Field(default_factory=dict, description="Write operations and actions by name.")
    errors: list[ErrorRule] = Field(default_factory=list, description="API errors mapped to messages, in order; first match wins.")


def discriminated_union(models: tuple[type[BaseModel], ...]) -> Any:
    """An ``Annotated[Union[...], discriminator]`` over models that each declare a ``type`` literal."""
    if len(models) == 1:
        return models[0]
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007


@lru_cache(maxsize=8)
def spec_model(auths: tuple[type[BaseModel], ...], paginators: tuple[type[BaseModel], ...]) -> type[ConnectorSpec[Any, Any]]:
    """The concrete spec model for the given auth and paginator models (from the plugin registry)."""
    # The type arguments are computed at run time, which a static checker cannot follow: subscript an
    # untyped name for the generic.
    generic: Any = ConnectorSpec
    model = generic[discriminated_union(auths), discriminated_union(paginators)]
    model.__doc__ = ConnectorSpec.__doc__
    stream_model = model.model_fields["streams"].annotation.__args__[1]  # dict[str, Stream[...]]
    stream_model.__doc__ = Stream.__doc__
    return cast("type[ConnectorSpec[Any, Any]]", model)


__all__ = [
    "AuthChoice",
    "BatchSpec",
    "CheckSpec",
    "Enrich",
    "ConnectorSpec",
    "ErrorRule",
    "IdFrom",
    "IdempotencyKey",
    "Incremental",
    "Operation",
    "Partitions",
    "RateLimit",
    "RateLimitHeaders",
    "RecordSelector",
    "RequestDefaults",
    "RequestSpec",
    "RetryPolicy",
    "SpecModel",
    "Stream",
    "Transform",
    "spec_model",
]
