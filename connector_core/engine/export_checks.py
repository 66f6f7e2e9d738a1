"""What ``validate`` checks in a stream's ``decoder`` and ``export`` beyond the models: the names each
export request's templates see, paths that could never find anything, and settings that would be
silently ignored. :class:`~connector_core.engine.loader.SpecChecker` calls :func:`check_export`."""

from __future__ import annotations

from typing import Any

from connector_core.engine.documents import PathKey
from connector_core.engine.interpolation import Interpolator
from connector_core.engine.schema_casts import schema_casts
from connector_core.engine.spec_checks import Problem, StreamChecker, check_dotted_path
from connector_core.engine.urls import host_pattern_problem

#: What the poll and download requests of an export see besides the request's names.
JOB_NAMES = StreamChecker.REQUEST_NAMES | {"job"}


#: Paginator settings that read the body; a body of rows (CSV, JSON lines, zip) has none of them.
_BODY_PATHS = ("path", "total", "total_pages", "has_more")


def check_decoder(problem: Problem, at: PathKey, stream: Any) -> None:
    """A paginator that reads the body cannot find its token or count in a body of rows."""
    decoder, paginate = stream.decoder, stream.paginate
    if decoder is None or paginate is None or decoder.format not in ("csv", "jsonl", "zip"):
        return
    for name in _BODY_PATHS:
        value = getattr(paginate, name, None)
        if isinstance(value, str) and value:
            problem(
                (*at, "paginate", name),
                f"with decoder {decoder.format} the body is a list of rows, so {name} {value!r} is never found in it; "
                "page by a header (e.g. cursor paginator `header:`, or `type: link`) or by page size",
            )
            return
    if getattr(paginate, "type", None) == "cursor" and getattr(paginate, "header", None) is None:
        problem(
            (*at, "paginate"),
            f"a cursor paginator without `header` reads its token from the body ('next'), which a {decoder.format} body does not have; "
            "name the response header that carries the token",
        )


def check_export(problem: Problem, interpolator: Interpolator, at: PathKey, stream: Any) -> None:
    """Report the problems of one stream's decoder and export job."""
    check_decoder(problem, at, stream)
    export = stream.export
    if export is None:
        return
    where: PathKey = (*at, "export")
    checker = StreamChecker(problem, interpolator, at, stream)
    if stream.paginate is not None and export.when is None and export.size is None:
        problem(
            (*at, "paginate"),
            "an export stream is not paged by `paginate` (its request creates the job); page the results with export.download.next, "
            "or add export.when and export.create to read pages where the job is not wanted",
        )
    check_switch(problem, checker, where, export)
    check_cast(problem, at, stream)
    records = stream.records
    if getattr(records, "extractor", None) is not None:
        problem((*at, "records", "extractor"), "an export stream's records come from its downloads, read by `decoder`; an extractor is not used")
    if (export.id.path is None) == (export.id.header is None):
        problem((*where, "id"), "set one of 'path' (the job id in the create reply's body) or 'header' (e.g. Location)")
    if export.id.path is not None:
        check_dotted_path(problem, (*where, "id", "path"), export.id.path)
    poll = export.poll
    check_dotted_path(problem, (*where, "poll", "status"), poll.status)
    if poll.message is not None:
        check_dotted_path(problem, (*where, "poll", "message"), poll.message)
    both = [value for value in poll.done if value in poll.failed]
    if both:
        problem((*where, "poll", "failed"), f"{both[0]!r} is listed both as done and as failed")
    checker.check_request((*where, "poll", "request"), poll.request, JOB_NAMES)
    download = export.download
    if download.files is not None:
        check_dotted_path(problem, (*where, "download", "files"), download.files)
    names = JOB_NAMES | {"file"} if download.files is not None else JOB_NAMES
    checker.check_request((*where, "download", "request"), download.request, names)
    if download.url is not None:
        checker.check_names((*where, "download", "url"), download.url, names, "a download URL")
    check_hosts(problem, checker, (*where, "download"), download)
    if download.url is None and not download.request.path:
        problem((*where, "download"), "say where the results are: `request` (e.g. path: '/jobs/{{ job.id }}/results') or `url` (e.g. '{{ file.href }}')")


def check_hosts(problem: Problem, checker: StreamChecker, where: PathKey, download: Any) -> None:
    """Each `hosts` pattern names hosts, not URLs, and never every host; templates see only `config`."""
    if download.hosts and download.url is None:
        problem((*where, "hosts"), "hosts are only used for a `url` (a request's path always stays on the connector's host): add url, or remove hosts")
    for index, pattern in enumerate(download.hosts):
        at: PathKey = (*where, "hosts", index)
        if "{{" in pattern or "{%" in pattern:
            checker.check_names(at, pattern, frozenset(), "a host pattern")
            continue
        reason = host_pattern_problem(pattern)
        if reason is not None:
            problem(at, reason)


def check_cast(problem: Problem, at: PathKey, stream: Any) -> None:
    """`cast: schema` needs a schema, and one written out must type something it can convert."""
    if stream.export.cast is None:
        return
    where: PathKey = (*at, "export", "cast")
    schema = stream.record_schema
    if schema is None:
        problem(where, "the stream has no `schema` to convert the downloads' values by: add one (written out, or `from` the API), or remove cast")
    elif isinstance(schema, dict) and not schema_casts(schema):
        problem(where, "the stream's schema types no top-level property as integer, number or boolean, so there is nothing to convert: type those fields, or remove cast")


def check_switch(problem: Problem, checker: StreamChecker, where: PathKey, export: Any) -> None:
    """`when` or `size` choose between the job and the stream's pages, so the job needs a request of its own."""
    names = StreamChecker.REQUEST_NAMES - {"page"}
    if export.when is not None:
        checker.check_names((*where, "when"), export.when, names, "export.when")
    if export.size is not None:
        checker.check_request((*where, "size", "request"), export.size.request, names)
        check_dotted_path(problem, (*where, "size", "path"), export.size.path)
        if isinstance(export.size.above, str):
            checker.check_names((*where, "size", "above"), export.size.above, frozenset(), "size.above")
    switch = "when" if export.when is not None else "size" if export.size is not None else None
    if switch is not None and export.create is None:
        problem(
            (*where, switch),
            f"with `{switch}`, the stream's `request` reads pages where the job is not wanted, so the job needs its own request: "
            "add export.create (e.g. {method: POST, path: /jobs, json: ...})",
        )
    if switch is None and export.create is not None:
        problem((*where, "create"), "export.create is only sent with export.when or export.size (without them, the stream's `request` creates the job): add one, or move the request to the stream")
    if export.create is not None:
        checker.check_request((*where, "create"), export.create)
    if export.records is not None:
        checker.check_records_path((*where, "records"), export.records)
        if "*" in export.records.split("."):
            problem((*where, "records"), "export.records replaces the stream's records path up to its `*`; write that part only (a `*` stays in the stream's `records`)")


__all__ = ["JOB_NAMES", "check_cast", "check_decoder", "check_export", "check_hosts", "check_switch"]
