"""Failures speak (issue 11): a dead API is reported retry by retry and fails the flow, never "done"; every
config is checked before the first write; dead letters are summarised; `status` shows cursors, the state
file and when a connection is due; `read` ends with a one-line summary.

The API failures run the real command line in a subprocess (its logging goes to stderr as it would for a
user), with a short retry policy from ``CONNECTOR_CORE_RETRIES``; the rest run in-process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from finance_support import Finance, hubspot, netsuite_ns  # noqa: F401
from runner_support import Sync, customer_flow

from connector_core.cli import main
from connector_core.cli.run_report import DeadLetterDigest, reason_kind
from connector_core.cli.sync_verbs import due_text
from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator
from connectors.example.server import ShopServer
from connectors.netsuite.emulator import NetSuiteEmulator

FAST_RETRIES = {"CONNECTOR_CORE_RETRIES": "attempts=3,backoff=0.05,max_backoff=0.1"}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **FAST_RETRIES, "CONNECTOR_CORE_LOG_FORMAT": "text"}
    return subprocess.run([sys.executable, "-m", "connector_core", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class TestUnreachableAPI:
    def test_run_prints_each_retry_fails_with_the_message_and_logs_the_flow_as_failed(self, sync: Sync, tmp_path: Path) -> None:
        port = dead_port()
        data = sync.connection()
        data["source"]["config"]["base_url"] = f"http://127.0.0.1:{port}"
        path = tmp_path / "dead.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))

        done = cli(tmp_path, "run", str(path))
        err = done.stderr
        assert done.returncode == 3, err
        retries = [line for line in err.splitlines() if "WARNING connector_core.engine.http" in line]
        assert len(retries) == 2, err
        for number, line in enumerate(retries, 1):
            assert re.search(
                rf"GET http://127\.0\.0\.1:{port}/api/customers\S*: connection refused \(ConnectionError\); attempt {number} of 3 failed, next in \d+\.\ds$", line
            ), line
        assert f"nothing answered at http://127.0.0.1:{port} after 3 attempts over " in err
        assert "Is the API up, and is the base_url right?" in err
        assert "flow customers: failed: " in err and "done" not in err and "nothing to do" not in err
        assert "connection shop-to-netsuite: api_error" in err and "  customers: failed (nothing written)" in err
        assert sync.ns_writes() == 0

        # the run log: the run failed, and its error names the flow
        code, out, _ = invoke("status", str(path), "--json")
        assert code == 0
        [logged] = json.loads(out)["runs"]
        assert logged["status"] == "api_error"
        assert logged["errors"][0].startswith("flow customers: GET ") and "nothing answered at" in logged["errors"][0]
        code, out, _ = invoke("status", str(path))
        assert "run 1: api_error" in out and "nothing to do" not in out and "flow customers: GET" in out

    def test_read_prints_each_retry_and_fails_with_the_message(self, tmp_path: Path) -> None:
        port = dead_port()
        (tmp_path / "dead.json").write_text(json.dumps({"base_url": f"http://127.0.0.1:{port}", "api_key": "demo-key"}))
        done = cli(tmp_path, "read", "example", "-c", "dead.json", "-s", "customers")
        assert done.returncode == 3, done.stderr
        assert len(re.findall(r"WARNING .*connection refused \(ConnectionError\); attempt [12] of 3 failed, next in", done.stderr)) == 2
        assert f"error: GET http://127.0.0.1:{port}/api/customers" in done.stderr and "after 3 attempts" in done.stderr
        assert done.stdout == ""


class TestConfigsBeforeTheFirstWrite:
    @pytest.mark.parametrize(("secret", "said"), [
        (None, "NetSuite auth method 'tba' needs token_secret in the config"),
        ({"env": "CONNECTOR_CORE_TEST_UNSET_SECRET"}, "token_secret: environment variable CONNECTOR_CORE_TEST_UNSET_SECRET is not set"),
    ])
    def test_a_missing_destination_secret_stops_the_run_before_either_side_is_touched(
        self, tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry, secret: Any, said: str,  # noqa: F811
    ) -> None:
        # customers_both_ways: its setup writes HubSpot properties first, then flows write both sides; the
        # second flow writes the source side, the first the destination, whose config lacks its token secret
        sync = Finance("customers_both_ways.yaml", tmp_path, hubspot, netsuite_ns, registry)
        config_file = sync.path.parent / "config" / "netsuite.json"
        config = json.loads(config_file.read_text())
        del config["token_secret"]
        if secret is not None:
            config["token_secret"] = secret
        config_file.write_text(json.dumps(config))
        before = (hubspot.stats.snapshot()["requests"], netsuite_ns.stats()["total"])

        code, _, err = invoke("run", str(sync.path))
        assert code == 1, err
        assert "destination (netsuite) config file config/netsuite.json: " in err and "nothing was read or written" in err
        assert said in err
        assert (hubspot.stats.snapshot()["requests"], netsuite_ns.stats()["total"]) == before  # not one request, so no write
        code, out, _ = invoke("status", str(sync.path), "--json")
        assert [r["status"] for r in json.loads(out)["runs"]] == ["error"]


def boolean_entity_ids(sync: Sync) -> Path:
    """Every record dead-lettered: id 1 becomes true, which NetSuite refuses; 2 to 40 are no boolean at all."""
    flow = customer_flow()
    flow["mapping"]["entityId"] = {"from": "id", "type": "boolean"}
    return sync.write([flow])


class TestDeadLetterSummary:
    def test_counts_by_reason_one_example_each_and_where_to_see_them_all(self, sync: Sync) -> None:
        path = boolean_entity_ids(sync)
        code, _, err = invoke("run", str(path))
        assert code == 5, err
        lines = err.splitlines()
        start = lines.index("  dead letters: 40 in this run, by reason (with the first record of each):")
        assert re.fullmatch(r"    39 × customers: record (\d+): field entityId: \1 is not a boolean \(true/false, .*\) \(expected type boolean, from id\)", lines[start + 1])
        assert lines[start + 2].startswith("     1 × customers: record 1: upsert_customer was rejected: NetSuite rejected the customer request")
        assert lines[start + 3] == f"  `connector-core status {path} --failed` lists every one; they are retried on the next run"
        assert len(lines) == start + 4, err
        assert "record 7" not in err and "dead-lettered" not in err  # one line per dead letter is gone
        _, out, _ = invoke("status", str(path), "--failed")
        assert "record 7: field entityId: 7 is not a boolean" in out

    def test_a_terminal_gets_the_same_summary(self, sync: Sync, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        from connector_core.cli import run_report

        path = boolean_entity_ids(sync)
        summaries = []
        for reporter in (run_report.PlainReporter, run_report.RichReporter):
            monkeypatch.setattr(run_report, "reporter", reporter)
            code, _, err = invoke("run", str(path), "--state", str(tmp_path / f"{reporter.__name__}.sqlite"))  # a first run each
            assert code == 5, err
            summary = err[err.index("  dead letters:") :].splitlines()
            summaries.append(summary[:-1])  # the last line names the state file
        assert summaries[0] == summaries[1] and len(summaries[0]) == 3

    def test_many_reasons_show_the_five_commonest(self) -> None:
        digest = DeadLetterDigest()
        fields = ["amount", "rate", "name", "email", "phone", "city", "zip"]
        for number in range(300):
            digest.add("f", f"record {number}: field {fields[number % 7]}: 'v{number}' is not a number")
        lines = digest.lines("`connector-core status c.yaml --failed` lists every one")
        assert lines[0] == "  dead letters: 300 in this run, by reason (with the first record of each):"
        assert lines[1] == "    43 × f: record 0: field amount: 'v0' is not a number"
        assert lines[5] == "    43 × f: record 4: field phone: 'v4' is not a number"
        assert lines[6] == "    … and 85 more, for 2 other reasons"
        assert lines[7] == "  `connector-core status c.yaml --failed` lists every one" and len(lines) == 8

    def test_reason_kind_leaves_out_the_records_own_values(self) -> None:
        assert reason_kind("record 12: field payload.limit: 'lots' is not a number (expected type number, from limit)") == (
            "field payload.limit: '…' is not a number (expected type number, from limit)"
        )
        assert reason_kind("record 9|2: check failed: customer 1257 belongs to subsidiary 3") == "check failed: customer N belongs to subsidiary N"


class TestStatus:
    def test_text_shows_the_state_file_cursors_and_when_it_is_due(self, sync: Sync) -> None:
        path = sync.write()
        code, out, _ = invoke("status", str(path))
        state = sync.load(path).state_path()
        assert f"  state: {state}" in out and "  schedule: every 1h; due now" in out and "  cursors: none saved" in out

        assert invoke("run", str(path))[0] == 0
        with sync.store() as store, store.batch() as tx:
            tx.set_cursor("big", {"cursor": "2024-01-01T00:00:00Z", "seen": [str(i) for i in range(500)]})
        code, out, _ = invoke("status", str(path))
        assert code == 0
        assert f"  state: {state}" in out
        due = re.search(r"  schedule: every 1h; next due (\S+)", out)
        assert due, out
        in_an_hour = dt.datetime.strptime(due.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC).timestamp() - time.time()
        assert 3500 < in_an_hour <= 3600
        assert '    customers: {"cursor": "2024-01-01T11:20:00Z"' in out
        assert '    big: {"cursor": "2024-01-01T00:00:00Z", "seen": {"entries": 500}}' in out
        report = json.loads(invoke("status", str(path), "--json")[1])
        assert report["next_due"] == due.group(1) and report["cursors"]["big"]["seen"] == {"entries": 500}

    def test_due_follows_the_schedule(self) -> None:
        now = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC).timestamp()
        assert due_text(None, None) is None
        assert due_text("every 15m", None, now) == "now"
        assert due_text("every 15m", now - 3600, now) == "now"
        assert due_text("every 15m", now - 60, now) == "2026-03-02T10:14:00Z"
        assert due_text("0 3 * * *", now - 60, now) == "2026-03-03T03:00:00Z"


class TestReadSummary:
    def test_read_says_records_pages_and_the_state_even_when_nothing_is_new(self, shop: ShopServer, tmp_path: Path) -> None:
        config = tmp_path / "shop.json"
        config.write_text(json.dumps({"base_url": shop.url, "api_key": "demo-key"}))
        state = tmp_path / "state.json"
        code, out, err = invoke("read", "example", "-c", str(config), "-s", "customers", "--state", str(state))
        assert code == 0, err
        assert len(out.splitlines()) == 40
        assert err.strip() == f"read customers: 40 records in 1 page; state saved to {state}"
        code, out, err = invoke("read", "example", "-c", str(config), "-s", "customers", "--state", str(state))
        assert code == 0 and out == ""
        assert err.strip() == f"read customers: 0 new records in 1 page; state unchanged in {state}"
        code, out, err = invoke("read", "example", "-c", str(config), "-s", "customers", "--limit", "5")
        assert err.strip() == "read customers: 5 records in 1 page (stopped at --limit 5); no state kept (--state FILE makes the next read incremental)"
