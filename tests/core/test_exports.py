"""Export-job streams over real HTTP: create, poll with backoff, download paged by a header token or as a
list of files, decode as the body arrives; cursors, partitions and failures as a user meets them."""

from __future__ import annotations

import csv
import gzip
import io
import json
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeapi import FakeAPI, FakeTime, open_connector
from werkzeug.wrappers import Request, Response

from connector_core.engine.connector import Connector
from connector_core.errors import ConnectorError, SpecError

API = "/services/data/v59.0/jobs/query"


class BulkQueries:
    """A small look-alike of Salesforce Bulk API 2.0 query jobs: POST a SOQL job, poll its state, read its
    results as CSV pages chained by the Sforce-Locator header (``null`` after the last)."""

    def __init__(self, api: FakeAPI, rows: list[dict[str, Any]], *, polls_until_done: int = 2, final_state: str = "JobComplete") -> None:
        self.rows = rows
        self.polls_until_done = polls_until_done
        self.final_state = final_state
        self.jobs: dict[str, dict[str, Any]] = {}
        api.route(API, self.create, method="POST")
        self.api = api

    def create(self, request: Request) -> Any:
        job_id = f"750J{len(self.jobs) + 1:03d}"
        body = request.get_json()
        self.jobs[job_id] = {"query": body["query"], "polls": 0}
        self.api.route(f"{API}/{job_id}", lambda r: self.status(job_id))
        self.api.route(f"{API}/{job_id}/results", lambda r: self.results(job_id, r))
        return {"id": job_id, "operation": "query", "state": "UploadComplete"}

    def status(self, job_id: str) -> Any:
        job = self.jobs[job_id]
        job["polls"] += 1
        state = self.final_state if job["polls"] >= self.polls_until_done else "InProgress"
        reply: dict[str, Any] = {"id": job_id, "state": state}
        if state == "Failed":
            reply["errorMessage"] = "INVALID_FIELD: No such column 'Nmae' on entity 'Account'"
        return reply

    def matching(self, job_id: str) -> list[dict[str, Any]]:
        query = self.jobs[job_id]["query"]
        since = query.split("SystemModstamp > ", 1)[1].split()[0] if "SystemModstamp > " in query else ""
        return [row for row in self.rows if row["SystemModstamp"] > since]

    def results(self, job_id: str, request: Request) -> Response:
        rows = self.matching(job_id)
        start = int(request.args.get("locator") or 0)
        size = int(request.args.get("maxRecords") or 1000)
        page = rows[start : start + size]
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=["Id", "Name", "SystemModstamp"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(page)
        following = start + size
        locator = str(following) if following < len(rows) else "null"
        return Response(text.getvalue(), mimetype="text/csv", headers={"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(page))})


def accounts(count: int) -> list[dict[str, Any]]:
    return [{"Id": f"001{i:05d}", "Name": f"Account {i}", "SystemModstamp": f"2024-01-{1 + i // 100:02d}T00:00:{i % 60:02d}.000Z"} for i in range(count)]


def bulk_stream(**extra: Any) -> dict[str, Any]:
    query = "SELECT Id, Name, SystemModstamp FROM Account{% if state.since %} WHERE SystemModstamp > {{ state.since | format_datetime }}{% endif %}"
    stream = {
        "request": {"method": "POST", "path": API, "json": {"operation": "query", "query": query}},
        "decoder": "csv",
        "primary_key": "Id",
        "cursor": "SystemModstamp",
        "export": {
            "id": {"path": "id"},
            "poll": {
                "request": {"path": API + "/{{ job.id }}"},
                "status": "state",
                "done": ["JobComplete"],
                "failed": ["Failed", "Aborted"],
                "message": "errorMessage",
                "interval": "1s",
                "backoff": 2,
                "max_interval": "3s",
                "timeout": "1m",
            },
            "download": {
                "request": {"path": API + "/{{ job.id }}/results", "query": {"maxRecords": 40}},
                "next": {"header": "Sforce-Locator", "param": "locator"},
            },
        },
    }
    stream.update(extra)
    return stream


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as server:
        yield server


def connector(tmp_path: Path, api: FakeAPI, streams: dict[str, Any], time: FakeTime | None = None, **config: Any) -> Connector:
    spec = {
        "name": "exports",
        "config": {"type": "object", "properties": {"regions": {"type": "array"}}},
        "base_url": api.url,
        "defaults": {"retries": {"attempts": 3, "backoff": 0}},
        "streams": streams,
    }
    kwargs = {"sleep": time.sleep, "clock": time.clock} if time else {}
    return open_connector(tmp_path, spec, config, **kwargs)


class TestBulkQueryJob:
    def test_reads_every_page_of_a_finished_job_and_waits_with_backoff(self, tmp_path: Path, api: FakeAPI) -> None:
        BulkQueries(api, accounts(100), polls_until_done=4)
        time = FakeTime()
        with connector(tmp_path, api, {"accounts": bulk_stream()}, time) as c:
            got = list(c.read("accounts"))
        assert [r["Id"] for r in got] == [a["Id"] for a in accounts(100)]
        assert [r.query.get("locator") for r in api.received(f"{API}/750J001/results")] == [None, "40", "80"]
        assert time.sleeps == [1, 2, 3, 3]  # doubling from 1 s, capped at 3 s; one wait before each poll

    def test_the_cursor_state_makes_the_next_job_incremental(self, tmp_path: Path, api: FakeAPI) -> None:
        bulk = BulkQueries(api, accounts(100))
        states: list[dict[str, Any]] = []
        with connector(tmp_path, api, {"accounts": bulk_stream()}, FakeTime()) as c:
            assert len(list(c.read("accounts", on_checkpoint=states.append))) == 100
            last = states[-1]
            assert last["cursor"] == "2024-01-01T00:00:59Z"
            bulk.rows.append({"Id": "001new", "Name": "New", "SystemModstamp": "2024-02-01T00:00:00.000Z"})
            again = list(c.read("accounts", last))
        assert [r["Id"] for r in again] == ["001new"]
        assert "WHERE SystemModstamp > 2024-01-01T00:00:59Z" in api.received(API, "POST")[1].json["query"]

    def test_a_failed_job_stops_with_the_api_message(self, tmp_path: Path, api: FakeAPI) -> None:
        BulkQueries(api, accounts(3), final_state="Failed")
        with connector(tmp_path, api, {"accounts": bulk_stream()}, FakeTime()) as c, pytest.raises(ConnectorError) as caught:
            list(c.read("accounts"))
        message = str(caught.value)
        assert "streams.accounts.export.poll: export job 750J001 ended with status 'Failed'" in message
        assert "No such column 'Nmae'" in message

    def test_a_job_that_never_finishes_gives_up_after_the_timeout(self, tmp_path: Path, api: FakeAPI) -> None:
        BulkQueries(api, accounts(3), polls_until_done=10_000)
        time = FakeTime()
        with connector(tmp_path, api, {"accounts": bulk_stream()}, time) as c, pytest.raises(ConnectorError) as caught:
            list(c.read("accounts"))
        assert "is not done after 60 s" in str(caught.value) and "last status 'InProgress'" in str(caught.value)
        assert sum(time.sleeps) == 60

    def test_a_status_path_that_finds_nothing_is_reported_at_once(self, tmp_path: Path, api: FakeAPI) -> None:
        BulkQueries(api, accounts(3))
        stream = bulk_stream()
        stream["export"]["poll"]["status"] = "status"
        with connector(tmp_path, api, {"accounts": stream}, FakeTime()) as c, pytest.raises(ConnectorError, match="no status at 'status'"):
            list(c.read("accounts"))
        assert len(api.received(f"{API}/750J001")) == 1

    def test_a_throttled_create_is_retried_but_a_failed_one_is_not(self, tmp_path: Path, api: FakeAPI) -> None:
        BulkQueries(api, accounts(3))
        api.fail(API, 429, headers={"Retry-After": "1"})
        with connector(tmp_path, api, {"accounts": bulk_stream()}, FakeTime()) as c:
            assert len(list(c.read("accounts"))) == 3
            api.fail(API, 503)
            with pytest.raises(ConnectorError, match="not retried"):
                list(c.read("accounts"))
        assert len(api.received(API, "POST")) == 3

    def test_one_job_per_partition_with_state_per_partition(self, tmp_path: Path, api: FakeAPI) -> None:
        BulkQueries(api, accounts(5))
        stream = bulk_stream(partitions={"values": ["EMEA", "APAC"]})
        stream["request"]["json"]["query"] += " -- {{ partition }}"
        states: list[dict[str, Any]] = []
        with connector(tmp_path, api, {"accounts": stream}, FakeTime()) as c:
            assert len(list(c.read("accounts", on_checkpoint=states.append))) == 10
        assert [r.json["query"].rsplit(" ", 1)[-1] for r in api.received(API, "POST")] == ["EMEA", "APAC"]
        assert set(states[-1]["partitions"]) == {"EMEA", "APAC"}


class TestFilesFromTheStatus:
    """NetSuite-style (REST async jobs): the job's id in the Location header, `completed: true` when done,
    and one result per task, at the task's link + '/result'."""

    JOB = "/services/rest/async/v1/job"

    def serve(self, api: FakeAPI, tasks: int) -> None:
        api.route(self.JOB, lambda r: Response("", status=202, headers={"Location": f"{api.url}{self.JOB}/77"}), method="POST")
        links = [{"rel": "related", "href": f"{api.url}{self.JOB}/77/task/{n}"} for n in range(tasks)]
        api.json(f"{self.JOB}/77", {"completed": True, "id": "77", "progress": "succeeded", "task": {"links": links}})
        for n in range(tasks):
            body = gzip.compress("".join(json.dumps({"id": f"{n}-{i}"}) + "\n" for i in range(3)).encode())
            api.route(f"{self.JOB}/77/task/{n}/result", lambda r, body=body: Response(body, mimetype="application/x-ndjson"))

    def stream(self) -> dict[str, Any]:
        return {
            "request": {"method": "POST", "path": self.JOB, "headers": {"Prefer": "respond-async"}, "json": {"q": "SELECT id FROM transaction"}},
            "decoder": "auto",
            "export": {
                "id": {"header": "Location"},
                "poll": {"request": {"path": self.JOB + "/{{ job.id }}"}, "status": "completed", "done": [True], "interval": 0},
                "download": {"files": "task.links", "url": "{{ file.href }}/result"},
            },
        }

    def test_each_task_result_is_downloaded_and_decoded_by_its_content_type(self, tmp_path: Path, api: FakeAPI) -> None:
        self.serve(api, 2)
        with connector(tmp_path, api, {"invoices": self.stream()}, FakeTime()) as c:
            assert [r["id"] for r in c.read("invoices")] == ["0-0", "0-1", "0-2", "1-0", "1-1", "1-2"]
        assert api.received(self.JOB, "POST")[0].header("Prefer") == "respond-async"

    def test_suiteql_results_as_json_pages_with_their_items(self, tmp_path: Path, api: FakeAPI) -> None:
        """The result of an asynchronous SuiteQL request is the page the request would have answered."""
        api.route(self.JOB, lambda r: Response("", status=202, headers={"Location": f"{api.url}{self.JOB}/78"}), method="POST")
        api.json(f"{self.JOB}/78", {"completed": True, "task": {"links": [{"href": f"{api.url}{self.JOB}/78/task/0"}]}})
        page = {"links": [], "count": 2, "hasMore": False, "items": [{"links": [], "id": "5"}, {"links": [], "id": "6"}], "totalResults": 2}
        api.json(f"{self.JOB}/78/task/0/result", page)
        stream = {**self.stream(), "decoder": "json", "records": "items"}
        with connector(tmp_path, api, {"rows": stream}, FakeTime()) as c:
            assert [r["id"] for r in c.read("rows")] == ["5", "6"]

    def test_a_result_url_on_another_host_is_refused(self, tmp_path: Path, api: FakeAPI) -> None:
        api.route(self.JOB, lambda r: Response("", status=202, headers={"Location": f"{self.JOB}/77"}), method="POST")
        api.json(f"{self.JOB}/77", {"completed": True, "task": {"links": [{"href": "https://elsewhere.example/task/1"}]}})
        with connector(tmp_path, api, {"invoices": self.stream()}, FakeTime()) as c, pytest.raises(ConnectorError, match="not on"):
            list(c.read("invoices"))

    def test_one_url_from_the_status_reply(self, tmp_path: Path, api: FakeAPI) -> None:
        api.route(self.JOB, lambda r: {"jobId": "9"}, method="POST")
        api.json(f"{self.JOB}/9", {"completed": True, "result": {"url": f"{api.url}/files/9.csv"}})
        api.route("/files/9.csv", lambda r: Response("id\n1\n2\n", mimetype="application/octet-stream"))
        stream = self.stream()
        stream["export"]["id"] = {"path": "jobId"}
        stream["export"]["download"] = {"url": "{{ job.status.result.url }}"}
        with connector(tmp_path, api, {"invoices": stream}, FakeTime()) as c:
            assert list(c.read("invoices")) == [{"id": "1"}, {"id": "2"}]


class TestJsonResults:
    def test_a_wildcard_records_path_flattens_the_download_as_a_page_would(self, tmp_path: Path, api: FakeAPI) -> None:
        api.route("/exports", lambda r: {"id": "e1"}, method="POST")
        api.json("/exports/e1", {"status": "done"})
        groups = {"eu": {"items": [{"id": 1}, {"id": 2}]}, "us": {"items": [{"id": 3}]}, "apac": {"items": []}}
        api.json("/exports/e1/result", {"meta": {"groups": 3}, "data": groups})
        stream = {
            "request": {"method": "POST", "path": "/exports"},
            "records": "data.*.items",
            "export": {
                "id": {"path": "id"},
                "poll": {"request": {"path": "/exports/{{ job.id }}"}, "status": "status", "done": ["done"], "interval": 0},
                "download": {"request": {"path": "/exports/{{ job.id }}/result"}},
            },
        }
        with connector(tmp_path, api, {"items": stream}, FakeTime()) as c:
            assert [r["id"] for r in c.read("items")] == [1, 2, 3]


class TestStreaming:
    def test_records_come_while_the_file_is_still_being_sent(self, tmp_path: Path, api: FakeAPI) -> None:
        """The server sends a first part, then waits until the reader has had a record: a reader that
        held the whole file before yielding would leave the server waiting until its guard gives up."""
        first_record_seen = threading.Event()
        released_by_reader: list[bool] = []

        def body() -> Iterator[bytes]:
            yield b"Id,Name,SystemModstamp\n" + b"".join(b"001%05d,A,2024-01-01T00:00:00Z\n" % i for i in range(2000))
            released_by_reader.append(first_record_seen.wait(timeout=30))
            yield b"".join(b"001%05d,B,2024-01-02T00:00:00Z\n" % i for i in range(2000, 4000))

        api.route(API, lambda r: {"id": "750S"}, method="POST")
        api.json(f"{API}/750S", {"state": "JobComplete"})
        api.route(f"{API}/750S/results", lambda r: Response(body(), mimetype="text/csv", headers={"Sforce-Locator": "null"}))
        count = 0
        with connector(tmp_path, api, {"accounts": bulk_stream()}, FakeTime()) as c:
            for _ in c.read("accounts"):
                count += 1
                first_record_seen.set()
        assert count == 4000
        assert released_by_reader == [True]

    def test_a_download_cut_off_midway_is_made_again_without_repeating_records(self, tmp_path: Path, api: FakeAPI) -> None:
        rows = b"".join(b"001%05d,A,2024-01-01T00:00:00Z\n" % i for i in range(1500))
        calls: list[int] = []

        def body(cut: bool) -> Iterator[bytes]:
            yield b"Id,Name,SystemModstamp\n" + rows[: len(rows) // 2]
            if cut:
                raise ConnectionAbortedError("the server went away")  # werkzeug closes the connection mid-body
            yield rows[len(rows) // 2 :]

        def results(request: Request) -> Response:
            calls.append(1)
            return Response(body(cut=len(calls) == 1), mimetype="text/csv", headers={"Sforce-Locator": "null"})

        api.route(API, lambda r: {"id": "750D"}, method="POST")
        api.json(f"{API}/750D", {"state": "JobComplete"})
        api.route(f"{API}/750D/results", results)
        with connector(tmp_path, api, {"accounts": bulk_stream()}, FakeTime()) as c:
            ids = [r["Id"] for r in c.read("accounts")]
        assert len(calls) == 2
        assert ids == [f"001{i:05d}" for i in range(1500)]

    def test_memory_stays_flat_over_a_large_download(self, tmp_path: Path, api: FakeAPI) -> None:
        rows = 50_000

        def body() -> Iterator[bytes]:
            yield b"Id,Name,SystemModstamp\n"
            for start in range(0, rows, 1000):
                yield b"".join(b"001%07d,Account with a longish name %d,2024-01-01T00:00:00Z\n" % (i, i) for i in range(start, start + 1000))

        api.route(API, lambda r: {"id": "750M"}, method="POST")
        api.json(f"{API}/750M", {"state": "JobComplete"})
        api.route(f"{API}/750M/results", lambda r: Response(body(), mimetype="text/csv"))
        stream = bulk_stream()
        del stream["cursor"], stream["primary_key"]
        stream["request"]["json"]["query"] = "SELECT Id, Name, SystemModstamp FROM Account"
        with connector(tmp_path, api, {"accounts": stream}, FakeTime()) as c:
            records = c.read("accounts")
            next(records)
            tracemalloc.start()
            try:
                count = 1 + sum(1 for _ in records)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        assert count == rows
        # the file is ~3 MB; a reader holding it (or its records, several times that) would peak far higher
        assert peak < 2_000_000, f"peak {peak:,} bytes"


class TestValidate:
    def test_a_decoder_mistake_is_located_and_reported_once(self, tmp_path: Path, api: FakeAPI) -> None:
        with pytest.raises(SpecError) as caught:
            connector(tmp_path, api, {"accounts": bulk_stream(decoder={"format": "csv", "encoding": "utf-9"})})
        [problem] = caught.value.problems
        assert problem.startswith(f"{tmp_path / 'exports.json'}:1:")
        assert "streams.accounts.decoder.encoding: 'utf-9' is not a text encoding" in problem

    def test_an_unknown_decoder_shorthand_lists_the_formats(self, tmp_path: Path, api: FakeAPI) -> None:
        with pytest.raises(SpecError) as caught:
            connector(tmp_path, api, {"accounts": bulk_stream(decoder="cvs")})
        [problem] = caught.value.problems
        assert "streams.accounts.decoder" in problem and "'csv'" in problem

    def test_the_rest_of_the_mistakes_once_the_models_accept_it(self, tmp_path: Path, api: FakeAPI) -> None:
        stream = bulk_stream(paginate={"type": "offset"})
        stream["request"]["json"]["query"] = "SELECT Id FROM Account WHERE Id > '{{ job.id }}'"
        export = stream["export"]
        export["id"] = {}
        export["poll"]["failed"] = ["JobComplete"]
        export["poll"]["request"]["path"] = API + "/{{ file.id }}"
        export["download"] = {"request": {"path": ""}}
        with pytest.raises(SpecError) as caught:
            connector(tmp_path, api, {"accounts": stream})
        problems = "\n".join(caught.value.problems)
        for expected in (
            "streams.accounts.paginate: an export stream is not paged by `paginate`",
            "streams.accounts.export.id: set one of 'path'",
            "streams.accounts.export.poll.failed: 'JobComplete' is listed both as done and as failed",
            "streams.accounts.export.poll.request.path: template uses 'file', which a request does not see",
            "streams.accounts.export.download: say where the results are",
            "streams.accounts.request.json.query: template uses 'job', which a request does not see",
        ):
            assert expected in problems

    def test_a_download_url_naming_a_file_needs_files(self, tmp_path: Path, api: FakeAPI) -> None:
        stream = bulk_stream()
        stream["export"]["download"] = {"url": "{{ file.href }}"}
        with pytest.raises(SpecError) as caught:
            connector(tmp_path, api, {"accounts": stream})
        [problem] = caught.value.problems
        assert "streams.accounts.export.download.url: template uses 'file', which a download URL does not see" in problem
