"""Bulk API 2.0 query jobs: create, poll, page through CSV results by ``Sforce-Locator``, abort, delete.

A job's rows are fixed when it is created (the query runs then); its state moves ``UploadComplete`` →
``InProgress`` → ``JobComplete`` over ``bulk_polls_to_complete`` status polls, so a client has to
poll as it would against Salesforce. Results are CSV with every value quoted (null is an empty value),
``maxRecords`` rows a page; ``Sforce-Locator`` names the next page and is ``null`` after the last.
"""

from __future__ import annotations

import base64
import csv
import io
import secrets

from .api_query import run_soql
from .bulk_jobs import QueryJob
from .call import CSV_TYPE, Call, Reply
from .errors import SalesforceError, bad_request
from .ids import to18
from .soql_exec import QueryRunner
from .values import format_datetime, from_epoch, to_csv

_DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
_LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}


def create_job(call: Call) -> Reply:
    body = call.json_object()
    operation = body.get("operation", "query")
    if operation not in ("query", "queryAll"):
        raise bad_request("INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    text = body.get("query")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("INVALIDJOB", "InvalidJob : A query is required")
    delimiter = str(body.get("columnDelimiter", "COMMA"))
    line_ending = str(body.get("lineEnding", "LF"))
    if delimiter not in _DELIMITERS or line_ending not in _LINE_ENDINGS:
        raise bad_request(
            "INVALIDJOB", f"InvalidJob : Invalid columnDelimiter or lineEnding: {delimiter}, {line_ending}"
        )
    result = run_soql(call, text, include_deleted=operation == "queryAll")
    runner = QueryRunner(call.org.store, call.version, lambda: from_epoch(call.org.clock.now()))
    header = [".".join(r.names) for r in result.resolved]
    rows = [[to_csv(r.field, runner.value(row, r)) for r in result.resolved] for row in result.rows]
    job_id = to18("7505g0000" + secrets.token_hex(3).upper())
    job = QueryJob(
        job_id,
        operation,
        result.sobject.name,
        text,
        call.session.user_id if call.session else "",
        format_datetime(from_epoch(call.org.clock.now())),
        call.version,
        delimiter,
        line_ending,
        header,
        rows,
    )
    call.org.bulk.add(job)
    return Reply(200, job.info())


def job_status(call: Call, job_id: str) -> Reply:
    job = call.org.bulk.get(job_id)
    if job.state in ("UploadComplete", "InProgress"):
        job.polls += 1
        needed = call.org.settings.bulk_polls_to_complete
        job.state = "JobComplete" if job.polls >= needed else "InProgress"
    return Reply(200, job.info())


def list_jobs(call: Call) -> Reply:
    jobs = [job.info() for job in call.org.bulk.jobs.values()]
    return Reply(200, {"done": True, "records": jobs, "nextRecordsUrl": None})


def abort_job(call: Call, job_id: str) -> Reply:
    job = call.org.bulk.get(job_id)
    state = call.json_object().get("state")
    if state != "Aborted":
        raise bad_request("INVALIDJOBSTATE", f"InvalidJobState : Invalid state: {state}")
    if job.state == "JobComplete":
        raise bad_request("INVALIDJOBSTATE", "InvalidJobState : Job is already complete")
    job.state = "Aborted"
    return Reply(200, job.info())


def delete_job(call: Call, job_id: str) -> Reply:
    job = call.org.bulk.get(job_id)
    call.org.bulk.remove(job.id)
    return Reply(204)


def _locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(locator: str) -> int:
    try:
        return int(base64.b64decode(locator + "=" * (-len(locator) % 4)).decode())
    except ValueError:
        raise bad_request("INVALIDLOCATOR", f"Invalid locator: {locator}") from None


def job_results(call: Call, job_id: str) -> Reply:
    job = call.org.bulk.get(job_id)
    if job.api_version != call.version:
        raise SalesforceError(
            409,
            "INVALIDVERSION",
            "Use the same API version to get query results that you "
            f"used to create the query ({job.api_version})",
        )
    if job.state != "JobComplete":
        current = {"UploadComplete": "UPLOAD_COMPLETE", "InProgress": "IN_PROGRESS"}.get(
            job.state, job.state.upper()
        )
        raise SalesforceError(
            412,
            "JOB_NOT_COMPLETE",
            "can only download query results of successfully completed "
            f"bulk job with status: JOB_COMPLETE. Current status: {current}",
        )
    args = call.request.args
    start = _offset(args["locator"]) if args.get("locator") else 0
    try:
        size = int(args.get("maxRecords", call.org.settings.bulk_max_records))
    except ValueError:
        raise bad_request("INVALIDMAXRECORDS", f"Invalid maxRecords: {args.get('maxRecords')}") from None
    if size < 1:
        raise bad_request("INVALIDMAXRECORDS", f"Invalid maxRecords: {size}")
    page = job.rows[start : start + size]
    end = start + len(page)
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=_DELIMITERS[job.column_delimiter],
        quoting=csv.QUOTE_ALL,
        lineterminator=_LINE_ENDINGS[job.line_ending],
    )
    writer.writerow(job.header)
    writer.writerows(page)
    headers = {
        "Sforce-Locator": _locator(end) if end < len(job.rows) else "null",
        "Sforce-NumberOfRecords": str(len(page)),
    }
    return Reply(200, out.getvalue().encode(), headers, CSV_TYPE)
