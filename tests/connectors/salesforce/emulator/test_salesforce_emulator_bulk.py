"""Bulk API 2.0 query jobs: the state machine, CSV results paged by ``Sforce-Locator``, queryAll, errors."""

from __future__ import annotations

import csv
import io

from salesforce_emulator_support import Org


def _create(org: Org, soql: str, **extra: str) -> dict[str, object]:
    reply = org.post("/jobs/query", {"operation": "query", "query": soql, **extra})
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def _poll(org: Org, job_id: object) -> list[str]:
    states = []
    for _ in range(10):
        state = org.get(f"/jobs/query/{job_id}").json()["state"]
        states.append(state)
        if state == "JobComplete":
            break
    return states


def test_a_job_moves_to_complete_and_pages_its_csv(org: Org) -> None:
    job = _create(org, "SELECT Id, Name, Owner.Username, AnnualRevenue, IsDeleted FROM Account ORDER BY Name")
    assert job["state"] == "UploadComplete" and job["object"] == "Account" and job["contentType"] == "CSV"
    early = org.get(f"/jobs/query/{job['id']}/results")
    assert early.status_code == 412 and early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    assert _poll(org, job["id"]) == ["InProgress", "JobComplete"]

    rows: list[list[str]] = []
    locator = None
    pages = 0
    while True:
        params = {"maxRecords": 12, **({"locator": locator} if locator else {})}
        page = org.get(f"/jobs/query/{job['id']}/results", params=params)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/csv")
        assert page.text.splitlines()[1].startswith('"001')  # every value quoted
        parsed = list(csv.reader(io.StringIO(page.text)))
        assert parsed[0] == ["Id", "Name", "Owner.Username", "AnnualRevenue", "IsDeleted"]
        assert int(page.headers["Sforce-NumberOfRecords"]) == len(parsed) - 1
        rows.extend(parsed[1:])
        pages += 1
        locator = page.headers["Sforce-Locator"]
        if locator == "null":
            break
    assert pages == 3 and len(rows) == 30
    assert [r[1] for r in rows] == sorted((r[1] for r in rows), key=str.lower)
    assert all(r[4] == "false" and r[2].endswith("example.com") for r in rows)


def test_query_all_jobs_include_deleted_rows_and_delimiters_apply(org: Org) -> None:
    target = org.records("SELECT Id FROM Account LIMIT 1")[0]["Id"]
    org.delete(f"/sobjects/Account/{target}")
    job = org.post("/jobs/query", {"operation": "queryAll", "query": f"SELECT Id, IsDeleted FROM Account WHERE "
                                   f"Id = '{target}'", "columnDelimiter": "PIPE", "lineEnding": "CRLF"}).json()
    _poll(org, job["id"])
    text = org.get(f"/jobs/query/{job['id']}/results").text
    assert text == f'"Id"|"IsDeleted"\r\n"{target}"|"true"\r\n'


def test_a_bad_query_is_refused_at_creation(org: Org) -> None:
    reply = org.post("/jobs/query", {"operation": "query", "query": "SELECT FROM Account"})
    assert reply.status_code == 400 and reply.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_abort_delete_and_list(org: Org) -> None:
    job = _create(org, "SELECT Id FROM Contact")
    aborted = org.patch(f"/jobs/query/{job['id']}", {"state": "Aborted"}).json()
    assert aborted["state"] == "Aborted"
    assert job["id"] in [j["id"] for j in org.get("/jobs/query").json()["records"]]
    assert org.delete(f"/jobs/query/{job['id']}").status_code == 204
    assert org.get(f"/jobs/query/{job['id']}").status_code == 404


def test_results_need_the_version_the_job_was_made_with(org: Org) -> None:
    job = _create(org, "SELECT Id FROM User")
    _poll(org, job["id"])
    reply = org.http.get(f"{org.url}/services/data/v58.0/jobs/query/{job['id']}/results")
    assert reply.status_code == 409
