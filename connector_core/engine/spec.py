"""The connector spec format, defined once as pydantic models.

These models are the single source of truth: ``specs/connector.schema.json`` is generated from them
(``python -m connector_core.cli.schemas``) and a test fails when the committed file drifts. Auth types and
paginators come from plugins, so the spec is generic over their unions; :func:`spec_model` builds the
concrete model for the set of installed plugins.

The models are split by what they describe: ``spec_base`` (the base model, durations, HTTP methods),
``spec_requests`` (requests, defaults, retries, rate limits), ``spec_exports`` (decoders, export jobs),
``spec_writes`` (operations, batches, error rules); this module holds streams, records, partitions,
transforms, checks and the connector itself, and every name stays importable from here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Generic, Literal, Never, TypeVar, Union, cast

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    field_validator,
)

from connector_core.engine.spec_base import HTTP_METHODS, Duration, HttpMethod, SpecModel, _seconds
from connector_core.engine.spec_exports import (
    Decoder,
    DecoderFormat,
    DownloadPaging,
    ExportDownload,
    ExportJob,
    ExportPoll,
    ExportSize,
    _or_format_name,
)
from connector_core.engine.spec_requests import (
    FilePart,
    QuotaHeader,
    RateLimit,
    RateLimitHeaders,
    RateLimitReset,
    RequestDefaults,
    RequestSpec,
    RetryPolicy,
)
from connector_core.engine.spec_writes import (
    BatchSpec,
    ErrorRule,
    IdempotencyKey,
    IdFrom,
    Operation,
    OperationRetries,
)

AuthT = TypeVar("AuthT")
PaginatorT = TypeVar("PaginatorT")
ExtractorT = TypeVar("ExtractorT")
RouterT = TypeVar("RouterT")
SlicerT = TypeVar("SlicerT")

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
    An export's `cast: schema` fetches it too, when a read goes through the job.
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
    "HTTP_METHODS",
    "DecoderFormat",
    "Duration",
    "FilePart",
    "HttpMethod",
    "OperationRetries",
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
