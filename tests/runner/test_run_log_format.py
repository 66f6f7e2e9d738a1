"""`run` and `run-due` with `--log-format json`: progress and summaries as JSON lines with their fields."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from runner_support import Sync, customer_flow

from connector_core.cli import main


def json_run(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(main, ["--log-format", "json", *args])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return result.exit_code, [json.loads(line) for line in lines], result.stdout


def test_a_run_reports_progress_and_summary_as_json_lines(sync: Sync) -> None:
    code, records, _ = json_run("run", str(sync.write()))
    assert code == 0, records
    assert {r["connection"] for r in records} == {"shop-to-netsuite"}
    events = [r.get("event") for r in records]
    assert events[0] == "flow_started" and events[-2:] == ["flow_finished", "run_finished"]
    finished = records[-2]
    assert (finished["flow"], finished["counts"]) == ("customers", {"read": 40, "created": 40})
    summary = records[-1]
    assert summary["level"] == "info" and summary["message"].startswith("connection shop-to-netsuite: ok in ")
    assert (summary["status"], summary["exit_code"], summary["counts"], summary["totals"]) == (
        "ok", 0, {"customers": {"read": 40, "created": 40}}, {"read": 40, "created": 40}
    )


def test_dead_letters_make_a_warning_summary(sync: Sync) -> None:
    flow = customer_flow()
    flow["mapping"]["entityId"] = {"from": "id", "type": "boolean"}
    code, records, _ = json_run("run", str(sync.write([flow])))
    assert code == 5
    summary = records[-1]
    assert (summary["event"], summary["level"], summary["status"], summary["exit_code"]) == ("run_finished", "warning", "failed_records", 5)
    assert summary["totals"]["failed"] == 40


def test_dry_run_writes_stay_plain_json_on_stdout(sync: Sync) -> None:
    code, records, out = json_run("run", str(sync.write()), "--dry-run")
    assert code == 0
    writes = [json.loads(line) for line in out.splitlines()]
    assert len(writes) == 40 and "time" not in writes[0]
    assert records[-1]["dry_run"] is True


def test_run_due_lines_name_their_connection(sync: Sync) -> None:
    syncs = sync.dir / "syncs"
    syncs.mkdir()
    sync.write(name="syncs/hourly.yaml")
    sync.write(name="syncs/manual.yaml", schedule=None, state=".state/manual.sqlite")
    assert json_run("run-due", str(syncs))[0] == 0
    code, records, _ = json_run("run-due", str(syncs))
    assert code == 0
    by_message = {r["message"]: r for r in records}
    assert by_message["hourly.yaml: not due"]["connection"] == "shop-to-netsuite"
    assert by_message["manual.yaml: no schedule; skipped"]["level"] == "info"


def test_an_error_is_an_error_line(sync: Sync) -> None:
    flow = customer_flow()
    flow["from"]["stream"] = "custmers"
    code, records, _ = json_run("run", str(sync.write([flow])))
    assert code == 1
    assert records[-1]["level"] == "error" and "did you mean 'customers'?" in records[-1]["message"]


def test_a_failed_flow_is_an_error_event(sync: Sync) -> None:
    path = sync.write()
    sync.shop.api.api_key = "rotated"  # the source refuses our key: the flow fails, the run stops (exit 3)
    code, records, _ = json_run("run", str(path))
    assert code == 3
    failed = [r for r in records if r.get("event") == "flow_failed"]
    assert len(failed) == 1 and (failed[0]["level"], failed[0]["flow"]) == ("error", "customers")
    assert (records[-1]["event"], records[-1]["level"], records[-1]["status"], records[-1]["exit_code"]) == ("run_finished", "error", "api_error", 3)
