"""The spec format: how bodies decode into records, and export jobs (part of :mod:`connector_core.engine.spec`)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import Field, field_validator

from connector_core.engine.spec_base import Duration, SpecModel
from connector_core.engine.spec_requests import RequestSpec
from connector_core.engine.spec_writes import IdFrom

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
    pages where neither chooses the job; `decoder` and `records` here say how the downloads are read, and
    `cast: schema` gives their text values the types the stream's schema names. See
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
    cast: Literal["schema"] | None = Field(
        None,
        description="`schema`: the downloads' text values of top-level fields the stream's `schema` types as integer, number or boolean "
        "(alone or with null) are converted to that type, so a read through the job gives the types a read of pages does (a CSV's values are all text). "
        "Null, values that are not text and other fields are left alone; a value that cannot be converted (empty text too: see `decoder.nulls`) "
        "stops the read naming the field. A schema `from` the API is fetched only when the job is used, once per run. "
        "See [the same types both ways](exports.md#the-same-types-both-ways-cast-schema).",
    )

    _decoder_shorthand = field_validator("decoder", mode="before")(lambda cls, v: {"format": v} if isinstance(v, str) else v)
