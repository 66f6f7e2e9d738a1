"""The connector spec format, defined once as pydantic models.

These models are the single source of truth: ``specs/connector.schema.json`` is generated from them
(``python -m connector_core.cli.schemas``) and a test fails when the committed file drifts. Auth types and
paginators come from plugins, so the spec is generic over their unions; :func:`spec_model` builds the
concrete model for the set of installed plugins.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any, Generic, Literal, Never, TypeVar, Union, cast, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
)

from connector_core.engine.timeparse import parse_duration

AuthT = TypeVar("AuthT")
PaginatorT = TypeVar("PaginatorT")
ExtractorT = TypeVar("ExtractorT")
RouterT = TypeVar("RouterT")
SlicerT = TypeVar("SlicerT")

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class SpecModel(BaseModel):
    """Base of every spec model: unknown keys are rejected, values are immutable once loaded."""

    # defer_build: validators are built on first use, so start-up does not pay for models a spec never uses
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def _seconds(value: Any) -> float:
    return parse_duration(value).total_seconds()


#: A duration as every field of the format takes it: seconds (30, 0.5), '500ms', '90s', '15m', '2h', '1d',
#: '1w', or ISO 8601 'PT1H30M'; the model holds seconds.
Duration = Annotated[
    float,
    BeforeValidator(_seconds),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|w)?\s*$|^[Pp](\d+[Ww])?(\d+[Dd])?([Tt](\d+[Hh])?(\d+[Mm])?(\d+(\.\d+)?[Ss])?)?$"},
            ]
        }
    ),
]


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
    backoff: Duration = Field(0.5, ge=0, description="Seconds (or a duration such as '1s') before the first retry; doubles with each further failed attempt after a 429, and after a 5xx or network error while the API is failing (most of its latest requests failed, none answered since). While it answers, a retry after a 5xx waits as after a first failure: a longer wait would relieve nothing. Each wait is jittered to between half and all of it.")
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


class Expand(SpecModel):
    """One record per item of a nested list, carrying fields of the record it came from.

    ```yaml
    records:
      path: invoices
      expand: {path: lines, carry: {invoice_id: id, customer: customer.name}}
    ```

    An invoice ``{id: 7, customer: {name: Ada}, lines: [{sku: A}, {sku: B}]}`` becomes two records,
    ``{sku: A, invoice_id: 7, customer: Ada}`` and ``{sku: B, invoice_id: 7, customer: Ada}``. The
    filter, cursor and transforms then see these records.
    """

    path: str = Field(..., description="Dotted path of the nested list in each record; each item becomes a record.")
    carry: dict[str, str] = Field(
        default_factory=dict, description="Fields copied from the record into each item's record: new field → dotted path in the record."
    )
    as_field: str | None = Field(
        None, alias="as", description="Put each item under this field instead of using its keys (needed when items are not mappings)."
    )
    keep_empty: bool = Field(False, description="A record whose list is empty or missing still gives one record (the carried fields).")


class RecordSelector(SpecModel, Generic[ExtractorT]):
    """Where the records are in a response, and which to keep.

    ``path`` is dotted keys and list positions; a ``*`` stands for every item of a list (or every value
    of a mapping), and lists found are flattened: ``data.*.items`` gives the items of every element of
    ``data``. Paginators count the list the first ``*`` walks (``data``).
    """

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return cls.__name__

    path: str = Field(
        "", description="Dotted path to the list of records in the body ('' = the body itself); `*` matches every item, e.g. data.*.items."
    )
    filter: str | None = Field(None, description="Template evaluated per record; records for which it is false are dropped.")
    expand: Expand | None = Field(None, description="Make one record per item of a nested list, carrying fields of its record.")
    extractor: ExtractorT | None = Field(
        None, description="A plugin's record extractor (`{type: NAME, ...}`) that turns each response into its records, instead of `path`."
    )


class Window(SpecModel):
    """Read a date-time cursor's range in consecutive time windows, with a checkpoint after each.

    ```yaml
    cursor:
      field: updated_at
      start: "{{ config.start_date }}"
      window: {step: 7d, granularity: 1s}     # or step: P1M for calendar months
    request:
      query: {since: "{{ slice.start }}", until: "{{ slice.end }}"}
    ```

    The range runs from the saved cursor (less the lookback), else `start`, to `end`, else the
    engine's clock ("now", which `--now` pins). Requests see each window as `slice.start` and
    `slice.end`, written with `format`. Once a window is read to its last page the cursor becomes its
    end and is saved, so a stopped read resumes at the first unfinished window. A partition without
    saved state begins at `start`. More in [time windows](records.md#incremental-reads-and-time-windows).
    """

    step: str | float = Field(
        ...,
        description="Length of one window: a duration (seconds, '12h', '7d', 'P7D') or calendar months/years ('P1M', 'P3M', 'P1Y').",
        json_schema_extra={"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "minLength": 1}]},
    )
    granularity: Duration | None = Field(
        None,
        gt=0,
        description="Smallest unit of the API's bounds when both are inclusive (e.g. '1s', '1d'): each window ends this much before the next begins. Omit for half-open windows whose end is the next window's start.",
    )
    format: str = Field("%Y-%m-%dT%H:%M:%SZ", min_length=1, description="strftime format of `slice.start` and `slice.end` (in UTC), e.g. '%Y-%m-%d'.")
    fields: dict[str, Literal["start", "end"]] = Field(
        default_factory=dict,
        description="Record fields set to the window's bounds before the filter and the cursor read them: field → start or end, e.g. {report_date: start}.",
    )

    @field_validator("step")
    @classmethod
    def _known_step(cls, value: str | float) -> str | float:
        from connector_core.engine.windows import parse_step

        parse_step(value)
        return value

    _parse_granularity = field_validator("granularity", mode="before")(lambda cls, v: None if v is None else _seconds(v))


class Incremental(SpecModel, Generic[SlicerT]):
    """Incremental reads: only records whose cursor moved since the last run."""

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return cls.__name__

    field: str = Field(
        ..., description="Dotted path of the cursor value in each record, e.g. 'lastmodifieddate' (may be a template over `partition`)."
    )
    type: Literal["datetime", "integer", "string"] = Field("datetime", description="How cursor values compare.")
    start: str | None = Field(None, description="Where the first read begins (template, e.g. '{{ config.start_date }}').")
    lookback: Duration = Field(
        0, ge=0, description="Re-read this many seconds before the saved cursor (or '1h', 'P1D'); duplicates dropped by primary key."
    )
    end: str | None = Field(None, description="Optional upper bound for staged backfills (template).")
    filter_records: bool = Field(True, description="Drop records older than the lower bound even if the API returned them.")
    sorted: bool = Field(False, description="Records arrive in cursor order: save a checkpoint after every page, not only at the end.")
    slicer: SlicerT | None = Field(
        None,
        description="A plugin's slicer (`{type: NAME, ...}`) that splits the read into slices, read in order; requests see each as `slice` and the cursor is checkpointed after each.",
    )
    window: Window | None = Field(
        None, description="Read the range in time windows (`{step: 7d}`), each seen by requests as `slice.start`/`slice.end`, with a checkpoint after each."
    )

    _parse_lookback = field_validator("lookback", mode="before")(lambda cls, v: _seconds(v))


class Partitions(SpecModel, Generic[RouterT]):
    """Run the stream once per partition: listed `values`, each record of a `parent` stream, both (the
    config's list when it gives one, else the parent's records), or a plugin's `router`.

    ```yaml
    campaigns:
      request: {path: "/accounts/{{ partition.id }}/campaigns"}
      partitions: {values: "{{ config.account_ids | default(none) }}", parent: accounts}
    ads:
      request: {path: "/accounts/{{ partition.parent_partition.id }}/campaigns/{{ partition.id }}/ads"}
      partitions: {parent: campaigns}
    ```

    With `parent`, `partition` is `{id, parent, parent_partition}`: the parent record's `field`, the
    record, and the partition the parent record was read in (its grandparent: `parent_partition.id`,
    and so on up). A value listed beside a `parent` is `{id: VALUE, parent: null, parent_partition: null}`,
    so templates read both alike; the parent is read when the list is null or empty. State is kept per
    partition, under its id.
    """

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return cls.__name__

    values: list[Any] | str | None = Field(None, description="A list, or a template evaluating to a list; each item is `partition`.")
    parent: str | None = Field(None, description="Parent stream: the stream runs once per parent record.")
    field: str = Field("id", description="With parent: the parent record's field exposed as `partition.id`.")
    router: RouterT | None = Field(None, description="A plugin's partition router (`{type: NAME, ...}`) that lists the partitions.")


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


DecoderFormat = Literal["auto", "json", "jsonl", "csv", "xml", "zip"]


class Decoder(SpecModel):
    """How a response body becomes records (a stream's pages, or an export job's downloads).

    `json` (the default) parses the body and takes the records at the stream's `records` path. `jsonl`
    reads one record per line and `csv` one per row, keyed by the header row, values as text; their
    rows are the records, so `records` stays empty. `xml` turns each element into a mapping (attributes
    as `@name`, text beside attributes or children as `#text`, a child repeated under one name as a
    list), and the `records` path starts at the root element (`feed.entry`). `zip` reads each file of
    the archive in turn, by its extension or `members`. `auto` picks the format from the Content-Type,
    else from the file name's extension. A gzip body is recognised by its first bytes and unpacked as
    it arrives. Example: `decoder: {format: csv, delimiter: ";"}`, or just `decoder: jsonl`.
    More in [export jobs and body formats](exports.md#body-formats).
    """

    format: DecoderFormat = Field("json", description="json, jsonl, csv, xml, zip, or auto (from the Content-Type, else the file extension).")
    compression: Literal["auto", "gzip", "none"] = Field(
        "auto", description="gzip: always gunzip; auto: gunzip a body that starts like gzip; none: never."
    )
    delimiter: str = Field(",", min_length=1, max_length=1, description="CSV: the field separator.")
    encoding: str = Field("utf-8", description="CSV: the text encoding, e.g. 'utf-8-sig' or 'latin-1'.")
    nulls: list[str] = Field(
        default_factory=list, description="CSV: values read as null, e.g. [''] where an empty field means no value (Salesforce)."
    )
    members: Literal["auto", "json", "jsonl", "csv", "xml"] = Field(
        "auto", description="zip: the format of the archive's files (auto: by each file's extension)."
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"{value!r} is not a text encoding Python knows, e.g. 'utf-8', 'utf-8-sig', 'latin-1', 'cp1252'") from None
        return value


def _or_format_name(schema: dict[str, Any]) -> None:
    """The published schema of `decoder` also takes a format's name alone (`decoder: csv`)."""
    options = schema["anyOf"]
    if isinstance(options, list):
        options.insert(1, {"type": "string", "enum": list(get_args(DecoderFormat))})


class ExportPoll(SpecModel):
    """How an export job is polled until it is done: one request, repeated with growing waits."""

    request: RequestSpec = Field(..., description="The status request, templated over `job` (e.g. '/jobs/{{ job.id }}').")
    status: str = Field(..., description="Dotted path of the job's status in the poll reply, e.g. 'state'.")
    done: list[Any] = Field(..., min_length=1, description="Status values meaning the results are ready, e.g. [JobComplete] or [true].")
    failed: list[Any] = Field(default_factory=list, description="Status values meaning the job failed: the read stops with the API's message.")
    message: str | None = Field(None, description="Dotted path of the API's error message in the poll reply, shown when the job failed.")
    interval: Duration = Field(1.0, ge=0, description="Wait before the first poll (seconds or a duration such as '2s').")
    max_interval: Duration = Field(30.0, ge=0, description="Longest wait between two polls.")
    backoff: float = Field(1.5, ge=1, description="Each wait is the previous one times this factor, up to max_interval.")
    timeout: Duration = Field(
        3600.0, gt=0, description="Give up (with the last status) when the job is not done after waiting this long in all between polls."
    )


class DownloadPaging(SpecModel):
    """Pages of one download chained by a token in a response header (Salesforce's `Sforce-Locator`)."""

    header: str = Field(..., description="Response header holding the next page's token.")
    param: str = Field(..., description="Query parameter the token is sent in.")
    stop: list[str] = Field(default_factory=lambda: ["", "null"], description="Token values meaning there is no next page (a missing header too).")


class ExportDownload(SpecModel):
    """Where the results of a finished job are fetched; each body is decoded as it arrives (the stream's `decoder`)."""

    files: str | None = Field(
        None,
        description="Dotted path, in the last poll reply, of the result files (a list, or one): one download per item, seen by the request as `file`.",
    )
    url: str | None = Field(
        None,
        description="Template of the URL to download, replacing the request's path: e.g. '{{ file.href }}', '{{ file }}' for a list of URLs, "
        "or '{{ job.status.resultUrl }}'. It must be on the connector's base host (credentials never go elsewhere), or on one `hosts` lists.",
    )
    hosts: list[str] = Field(
        default_factory=list,
        description="Other hosts the `url` may point to, for pre-signed links that need no credentials (e.g. ['*.s3.amazonaws.com']): "
        "host names with `*` wildcards, no scheme, port or path; an item may be a template over `config` (empty: ignored). "
        "A download from a listed host is sent without any credentials, the connector's headers or its query. "
        "See [files on another host](exports.md#files-on-another-host).",
    )
    request: RequestSpec = Field(
        default_factory=RequestSpec,
        description="The download request, templated over `job` (and `file`), e.g. '/jobs/{{ job.id }}/results'.",
    )
    next: DownloadPaging | None = Field(None, description="Follow-up pages of each download, by a token in a response header.")


class ExportSize(SpecModel):
    """Read through the job only when the read is large: one count request first, its count compared with `above`.

    ```yaml
    size:
      request: {path: /query, query: {q: "SELECT COUNT() FROM Account WHERE ..."}}
      path: totalSize
      above: "{{ config.bulk_above or none }}"
    ```
    """

    request: RequestSpec = Field(..., description="The request that counts the records the read would give; templated as the stream's request (no `page`).")
    path: str = Field(..., description="Dotted path of the count in its reply, e.g. 'totalSize'.")
    above: int | str = Field(
        ...,
        description="The job is used when the count is above this: a number, or a template over `config` (null or empty: no count is made, pages are read).",
    )


class ExportJob(SpecModel):
    """Reads a stream through an asynchronous export job: the stream's `request` creates the job, then
    `poll` repeats until the job's status is one of `done`, then `download` fetches the results and
    the stream's `decoder` streams them record by record (never holding a file in memory).

    Poll and download templates see `job`: `job.id`, `job.created` (the create reply) and `job.status`
    (the last poll reply), beside `config`, `state`, `partition` and `stream`. Cursors, partitions,
    filters and transforms work as on any stream. Example (Salesforce Bulk API 2.0):

    ```yaml
    request: {method: POST, path: /services/data/v59.0/jobs/query, json: {operation: query, query: "SELECT Id FROM Account"}}
    decoder: csv
    export:
      id: {path: id}
      poll: {request: {path: "/services/data/v59.0/jobs/query/{{ job.id }}"}, status: state, done: [JobComplete], failed: [Failed, Aborted], message: errorMessage}
      download:
        request: {path: "/services/data/v59.0/jobs/query/{{ job.id }}/results", query: {maxRecords: 50000}}
        next: {header: Sforce-Locator, param: locator}
    ```

    One stream can also read either way: with `when` (e.g. `"{{ config.bulk }}"`) or `size` (a count
    above a threshold) and `create` (the job's request), the stream's `request` and `paginate` read
    pages where neither chooses the job; `decoder` and `records` here say how the downloads are read. See
    [a job or pages, by a switch](exports.md#a-job-or-pages-by-a-switch).

    More, with NetSuite's asynchronous requests, in [export jobs](exports.md#export-jobs).
    """

    id: IdFrom = Field(..., description="Where the create reply gives the job's id: `{path: id}` in the body, or `{header: Location}` (its last segment).")
    poll: ExportPoll = Field(..., description="How the job's status is polled.")
    download: ExportDownload = Field(..., description="How the results are fetched.")
    when: str | None = Field(
        None,
        description="Template over `config`, `state`, `partition` and `stream`: the stream reads through the job where it is true, and as pages "
        "(its `request` and `paginate`) where it is false, e.g. \"{{ config.bulk }}\". Omit, with no `size`: always through the job. Needs `create`.",
    )
    size: ExportSize | None = Field(
        None,
        description="Use the job only above a number of records, counted by one request first (where `when` is false or absent).",
    )
    create: RequestSpec | None = Field(
        None, description="The request that creates the job, when the stream's own `request` reads pages (a stream with `when` or `size`)."
    )
    decoder: Decoder | None = Field(
        None,
        description="How the downloads become records, when not as the stream's `decoder` says (e.g. csv, where the pages are JSON).",
        json_schema_extra=lambda schema: _or_format_name(schema),
    )
    records: str | None = Field(
        None, description="Dotted path of the records in each download, when not the stream's (a CSV's rows are the records: '')."
    )

    _decoder_shorthand = field_validator("decoder", mode="before")(lambda cls, v: {"format": v} if isinstance(v, str) else v)


class SchemaFrom(SpecModel):
    """Where a stream's record schema is fetched from the API, when `discover` runs with a config.

    ```yaml
    schema:
      from:
        request: {path: "/sobjects/Account/describe"}
        transform: salesforce_json_schema      # a plugin's transform: the reply -> {..., json_schema: {...}}
        path: json_schema
    ```

    The request is made once per run (the schema is kept for the rest of it) and its reply goes
    through `transform`, a transform a plugin registers (`connector_register_transforms`), then
    `path` picks the JSON Schema out of the result; `fields` keeps only the properties the stream
    reads. The result must be a valid JSON Schema. A failed
    request stops `discover` with the API's error and where the request is declared. Without a
    config (`discover` alone) the schema is unknown and the stream is listed as `{"type": "object"}`.
    More in [schemas from the API](records.md#schemas-from-the-api).
    """

    request: RequestSpec = Field(..., description="The request whose reply describes the records, templated over `config` and `stream` (the stream's name).")
    transform: str | None = Field(
        None, description="A plugin's transform (registered with connector_register_transforms) turning the reply body into the schema, or a mapping holding it."
    )
    path: str = Field("", description="Dotted path of the JSON Schema in the reply (after the transform); '' = all of it.")
    fields: list[str] | str | None = Field(
        None,
        description="The fields the stream reads, when it reads fewer than the API describes: a list or a template over `config` giving one. "
        "The schema keeps only these properties (and only these in `required`).",
    )


class DynamicSchema(SpecModel):
    """A record schema fetched from the API at discover time: `schema: {from: {request, transform, path}}`."""

    source: SchemaFrom = Field(..., alias="from", description="The request that describes the records, and how its reply becomes a JSON Schema.")


def _schema_kind(value: Any) -> str:
    """`schema: {from: ...}` is fetched from the API; any other mapping is a JSON Schema written out.
    (The tags are capitalised like model names: error locations leave such union tags out.)"""
    if isinstance(value, DynamicSchema) or (isinstance(value, dict) and "from" in value):
        return "DynamicSchema"
    return "JsonSchema"


#: A stream's `schema`: a JSON Schema, or `{from: ...}` to fetch one from the API.
StreamSchema = Annotated[
    Union[Annotated[DynamicSchema, Tag("DynamicSchema")], Annotated[dict[str, Any], Tag("JsonSchema")]],  # noqa: UP007
    Discriminator(_schema_kind),
]


class Stream(SpecModel, Generic[PaginatorT, ExtractorT, RouterT, SlicerT]):
    """A readable stream of records."""

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return cls.__name__

    description: str | None = Field(None, description="What the stream holds.")
    hidden: bool = Field(
        False,
        description="A helper stream, read only to feed other streams' partitions (`partitions.parent`): `discover` does not list it and `read` refuses it.",
    )
    request: RequestSpec = Field(..., description="The request that fetches a page of the stream.")
    paginate: PaginatorT | None = Field(None, description="How to fetch the following pages (default: the connector's paginate).")
    records: str | RecordSelector[ExtractorT] = Field("", description="Dotted path to the records in the body, or a selector with a filter.")
    primary_key: str | list[str] | None = Field(None, description="Field(s) identifying a record.")
    cursor: str | Incremental[SlicerT] | None = Field(None, description="Cursor field name, or incremental settings. Enables incremental reads.")
    partitions: Partitions[RouterT] | None = Field(None, description="Run the stream once per value or per parent record.")
    record_schema: StreamSchema | None = Field(
        None,
        alias="schema",
        description="JSON Schema of a record, or `{from: {request, transform, path}}` to fetch it from the API when `discover` runs (inferred with --sample when omitted).",
    )
    transforms: list[Transform] = Field(default_factory=list, description="Record transforms applied in order.")
    enrich: list[Enrich] = Field(
        default_factory=list, description="Extra requests per page whose results are added to its records (before filter and transforms)."
    )
    decoder: Decoder | None = Field(
        None,
        description="How bodies become records: json (default), jsonl, csv, xml, zip or auto, or a decoder with options.",
        json_schema_extra=lambda schema: _or_format_name(schema),
    )
    export: ExportJob | None = Field(
        None, description="Read through an asynchronous export job: `request` creates it, then it is polled and its results downloaded."
    )

    # `decoder: csv` is short for `decoder: {format: csv}` (one model, so a mistake is reported once)
    _decoder_shorthand = field_validator("decoder", mode="before")(lambda cls, v: {"format": v} if isinstance(v, str) else v)


class RemoveFields(SpecModel):
    """Fields to remove by pattern, only where a condition holds.

    ```yaml
    transforms:
      - remove: {when: "{{ value is none }}"}                # every top-level field that is null
      - remove: {fields: ["meta.*"], when: "{{ field != 'meta.id' }}"}
    ```
    """

    fields: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Field patterns, one glob per step of the dotted path: `*_url`, `meta.*`, `lines.*.tmp` (default: every top-level field).",
    )
    when: str | None = Field(None, description="Template over `field` (the dotted path), `value` and `record`; the field goes only where it is true.")


class Flatten(SpecModel):
    """Nested mappings become one level of keys joined by `separator`: `{a: {b: 1}}` → `{a.b: 1}`. Lists stay values."""

    separator: str = Field(".", min_length=1, description="Text between the keys of each level.")
    path: str | None = Field(None, description="Flatten only the mapping at this dotted path (default: the whole record).")


class Unflatten(SpecModel):
    """Keys holding `separator` become nested mappings: `{a.b: 1}` → `{a: {b: 1}}`."""

    separator: str = Field(".", min_length=1, description="Text that separates the levels in a key.")


CastType = Literal["string", "integer", "number", "boolean"]


class Transform(SpecModel):
    """A record transform. Set exactly one key.

    ```yaml
    transforms:
      - remove: ["_links", "*_url"]        # by glob; or {fields: [...], when: TEMPLATE}
      - keys: snake                        # createdAt → created_at, at every depth (or: lower)
      - flatten: {separator: "_"}          # {address: {city: X}} → {address_city: X}
      - cast: {amount: number, count: integer, active: boolean}
    ```

    Transforms run in order, after the cursor and primary key are read (see the processing order in
    the tutorial): a cursor or key must name the field as the API sends it.
    """

    set: dict[str, Any] | None = Field(None, description="Fields to add or overwrite: path → value or template over `record`.")
    drop: list[str] | None = Field(None, description="Fields to remove.")
    rename: dict[str, str] | None = Field(None, description="Fields to rename: old → new.")
    remove: list[str] | RemoveFields | None = Field(
        None, description="Fields to remove by pattern (one glob per path step: `*_url`, `meta.*`), or {fields, when} to remove where a condition holds."
    )
    keys: Literal["lower", "snake"] | None = Field(
        None, description="Change every key's case, at every depth: `lower` (createdAt → createdat) or `snake` (createdAt → created_at)."
    )
    flatten: Flatten | None = Field(None, description="Turn nested mappings into one level of joined keys.")
    unflatten: Unflatten | None = Field(None, description="Turn keys holding a separator into nested mappings.")
    cast: dict[str, CastType] | None = Field(
        None,
        description="Convert values: dotted path → string, integer, number or boolean; null stays null, a value that cannot be converted stops the read naming it.",
    )
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


class CheckStream(SpecModel):
    """One stream `check` reads the first page of, and what to tell the user when it fails."""

    stream: str = Field(..., min_length=1, description="Name of the stream (a hidden one too).")
    hint: str | None = Field(
        None, description="What to do when this stream fails, e.g. the permission the role needs (a template over `config`)."
    )


class CheckSpec(SpecModel):
    """The test made by `connector-core check`: one request, one stream, or several streams.

    ```yaml
    check:
      streams:
        - customers
        - {stream: invoices, hint: "give the role 'Transactions > Invoice: View'"}
        - {stream: revenue, hint: "enable SuiteAnalytics Workbook for account {{ config.account_id }}"}
    ```

    With `streams`, the first page of each is read, every one even when an earlier one fails; the
    check passes when all answer, and reports each failure with its error and its own hint (else
    `hint`). `connector-core check` then exits 3 when every failure came from the API or the network,
    1 when one is the spec's or the config's to fix (a template naming a missing config key).
    """

    request: RequestSpec | None = Field(None, description="A request that succeeds when the connection works.")
    stream: str | None = Field(None, description="Or: read the first page of this stream.")
    streams: list[str | CheckStream] = Field(
        default_factory=list, description="Or: read the first page of each of these streams (a name, or {stream, hint})."
    )
    hint: str | None = Field(
        None, description="What to do when the request or stream fails (a template over `config`); with `streams`, for those without their own."
    )


class StreamTemplate(SpecModel):
    """One stream definition with parameters, made into a stream for each entry of its `streams`.

    ```yaml
    stream_templates:
      crm_object:
        parameters: {key: id, cursor: updatedAt}      # defaults
        required: [object]                            # parameters every stream must give
        stream:
          request: {path: "/v3/objects/{{ params.object }}"}
          records: results
          primary_key: "{{ params.key }}"
          cursor: "{{ params.cursor }}"
        streams:
          companies: {object: companies}
          deals: {object: deals, cursor: hs_lastmodifieddate}
    ```

    `{{ params.NAME }}` is replaced when the spec loads: alone in a string by the parameter's value
    (a list stays a list), inside a longer string by its text. Other templates stay for run time. The
    streams made join `streams` and are checked like any other; a problem in one is reported at the
    template's line, with where that stream's parameters are given.
    """

    description: str | None = Field(None, description="What the streams made from this template have in common.")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Parameters with their default values: name → value.")
    required: list[str] = Field(default_factory=list, description="Parameters without a default, which every stream must give.")
    stream: dict[str, Any] = Field(..., description="The stream definition (as under `streams`), with `{{ params.NAME }}` placeholders.")
    streams: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="The streams made from this template: stream name → its parameters."
    )


class AuthChoice(SpecModel, Generic[AuthT]):
    """One of several ways to authenticate, used when its condition holds."""

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return cls.__name__

    when: str | None = Field(None, description="Template over `config`; this auth is used when it is true (omit: always).")
    use: AuthT = Field(..., description="The auth to use.")


class ConnectorSpec(SpecModel, Generic[AuthT, PaginatorT, ExtractorT, RouterT, SlicerT]):
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
    plugins: list[str] = Field(
        default_factory=list,
        description="Python modules beside this spec loaded as its plugins (paths relative to the spec's folder, e.g. ./hooks.py), "
        "to try a hook without packaging it. They are imported when the spec loads, `validate` included.",
    )
    auth: AuthT | list[AuthChoice[AuthT]] | None = Field(
        None,
        description="How requests are authenticated: one auth, or a list of {when, use} of which the first whose `when` holds is used.",
    )
    defaults: RequestDefaults = Field(default_factory=RequestDefaults, description="Options for every request.")
    paginate: PaginatorT | None = Field(None, description="Default paginator for streams that do not set one.")
    check: CheckSpec | None = Field(None, description="The connection test.")
    streams: dict[str, Stream[PaginatorT, ExtractorT, RouterT, SlicerT]] = Field(default_factory=dict, description="Readable streams by name.")
    stream_templates: dict[str, StreamTemplate] = Field(
        default_factory=dict, description="Parameterised stream definitions; each makes the streams it lists (they join `streams`)."
    )
    operations: dict[str, Operation] = Field(default_factory=dict, description="Write operations and actions by name.")
    errors: list[ErrorRule] = Field(default_factory=list, description="API errors mapped to messages, in order; first match wins.")


def discriminated_union(models: tuple[type[BaseModel], ...]) -> Any:
    """An ``Annotated[Union[...], discriminator]`` over models that each declare a ``type`` literal
    (``Never`` for none: the field then only takes null)."""
    if not models:
        return Never
    if len(models) == 1:
        return models[0]
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007


@lru_cache(maxsize=8)
def spec_model(
    auths: tuple[type[BaseModel], ...],
    paginators: tuple[type[BaseModel], ...],
    extractors: tuple[type[BaseModel], ...] = (),
    routers: tuple[type[BaseModel], ...] = (),
    slicers: tuple[type[BaseModel], ...] = (),
) -> type[ConnectorSpec[Any, Any, Any, Any, Any]]:
    """The concrete spec model for the given auth, paginator, extractor, partition router and slicer
    models (from the plugin registry)."""
    # The type arguments are computed at run time, which a static checker cannot follow: subscript an
    # untyped name for the generic.
    generic: Any = ConnectorSpec
    model = generic[tuple(discriminated_union(kind) for kind in (auths, paginators, extractors, routers, slicers))]
    model.__doc__ = ConnectorSpec.__doc__
    stream_model = model.model_fields["streams"].annotation.__args__[1]  # dict[str, Stream[...]]
    stream_model.__doc__ = Stream.__doc__
    return cast("type[ConnectorSpec[Any, Any, Any, Any, Any]]", model)


__all__ = [
    "AuthChoice",
    "BatchSpec",
    "CheckSpec",
    "CheckStream",
    "Decoder",
    "DownloadPaging",
    "DynamicSchema",
    "ExportDownload",
    "ExportJob",
    "ExportPoll",
    "ExportSize",
    "Enrich",
    "ConnectorSpec",
    "Expand",
    "Flatten",
    "RemoveFields",
    "Unflatten",
    "Window",
    "ErrorRule",
    "IdFrom",
    "IdempotencyKey",
    "Incremental",
    "Operation",
    "Partitions",
    "QuotaHeader",
    "RateLimit",
    "RateLimitHeaders",
    "RateLimitReset",
    "RecordSelector",
    "RequestDefaults",
    "RequestSpec",
    "RetryPolicy",
    "SchemaFrom",
    "SpecModel",
    "Stream",
    "StreamTemplate",
    "Transform",
    "spec_model",
]
