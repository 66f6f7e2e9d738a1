"""The spec format: requests, their defaults, retries and rate limits (part of :mod:`connector_core.engine.spec`)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from connector_core.engine.spec_base import HTTP_METHODS, Duration, HttpMethod, SpecModel, _seconds


class RateLimitReset(SpecModel):
    """A response header telling when a throttled API accepts requests again, e.g. `X-RateLimit-Reset`.

    A retried response (a status in `statuses`, typically 429) that carries it and no Retry-After
    waits until that time; a wait longer than `max_wait` stops the read at once with an error saying
    when the limit resets, instead of retrying too early. Example:
    `retries: {reset: {header: X-RateLimit-Reset, unit: epoch}}`.
    """

    header: str = Field(..., min_length=1, description="Name of the header, e.g. 'X-RateLimit-Reset' or 'RateLimit-Reset'.")
    unit: Literal["seconds", "epoch", "epoch_ms", "auto"] = Field(
        "auto",
        description="seconds: seconds to wait; epoch / epoch_ms: the reset time in Unix seconds / milliseconds; "
        "auto: epoch seconds above 10^9, milliseconds above 10^12, else seconds to wait.",
    )


class RetryPolicy(SpecModel):
    """How failed requests are retried: exponential backoff with jitter, honouring Retry-After."""

    attempts: int = Field(5, ge=1, le=20, description="Total attempts per request, the first one included.")
    backoff: Duration = Field(0.5, ge=0, description="Seconds (or a duration such as '1s') before the first retry; doubles with each further 429 in a row, and after a 5xx or network error while the API is failing (most of its latest requests failed, none answered since). While it answers, a retry after a 5xx waits as after a first failure: a longer wait would relieve nothing. Each wait is jittered to between half and all of it.")
    max_backoff: Duration = Field(60, ge=0, description="Upper bound, in seconds (or a duration), of one wait between attempts.")
    statuses: list[int] = Field(
        default_factory=lambda: [429, 500, 502, 503, 504],
        description="HTTP statuses that are retried. Network errors and timeouts are always retried.",
    )
    respect_retry_after: bool = Field(True, description="Wait as long as a Retry-After header asks (capped by max_wait).")
    max_wait: Duration = Field(300, ge=0, description="Longest Retry-After, in seconds, that is honoured; a longer reset (see reset) stops the read.")
    reset: RateLimitReset | None = Field(
        None, description="A header giving the time the rate limit resets; a throttled request waits until then (when no Retry-After says otherwise)."
    )


class RateLimit(SpecModel):
    """At most ``requests`` requests started per ``per`` seconds, shared by all streams of a connection."""

    requests: int | str = Field(..., description="Requests allowed in each window (a number or a template, e.g. from config).")
    per: Duration = Field(1.0, gt=0, description="Window length in seconds (or a duration such as '10s').")

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
    default_window: Duration = Field(1.0, gt=0, description="Window length in seconds (or a duration) when the API sends none.")
    reserve: int = Field(1, ge=0, description="Requests of each window left unused (for other clients of the same account).")
    reset: RateLimitReset | None = Field(
        None,
        description="A header with the time the window resets (e.g. X-RateLimit-Reset): once the budget is spent, requests wait "
        "until then (at most retries.max_wait) instead of a window's length.",
    )

    _parse_default_window = field_validator("default_window", mode="before")(lambda cls, v: _seconds(v))


class QuotaHeader(SpecModel):
    """Stop before an allowance spanning a long window (e.g. a daily API quota) is spent.

    After each response the header is read with ``pattern``; once the requests left, less those in
    flight, are down to ``reserve``, no further request is sent: it fails at once with a
    RetriableHTTPError saying so (not retried), so a sync stops cleanly and a later run resumes.
    """

    header: str = Field(..., description="Response header announcing the allowance, e.g. Sforce-Limit-Info.")
    pattern: str = Field(
        r"(?P<used>\d+)/(?P<limit>\d+)",
        description="Regular expression over the header with the named groups `used` and `limit`, or `remaining`, "
        "e.g. 'api-usage=(?P<used>\\d+)/(?P<limit>\\d+)'.",
    )
    reserve: int | str = Field(0, description="Requests of the allowance left unused (a number or a template, e.g. from config).")
    hint: str | None = Field(None, description="What the user can do when the run stops for the allowance (template over config).")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            groups = set(re.compile(value).groupindex)
        except re.error as exc:
            raise ValueError(f"pattern {value!r} is not a regular expression: {exc}") from None
        if not ({"used", "limit"} <= groups or "remaining" in groups):
            raise ValueError(f"pattern {value!r} needs the named groups (?P<used>...) and (?P<limit>...), or (?P<remaining>...)")
        return value


class RequestDefaults(SpecModel):
    """Options applied to every request of the connector unless a request overrides them."""

    headers: dict[str, str] = Field(default_factory=dict, description="Headers sent with every request (templates allowed).")
    query: dict[str, Any] = Field(default_factory=dict, description="Query parameters sent with every request.")
    timeout: Duration = Field(60, gt=0, description="Seconds to wait for a response (or a duration such as '2m').")
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
    quota: QuotaHeader | None = Field(
        None, description="Stop before a long-window allowance (a daily request quota) announced in a response header is spent."
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
