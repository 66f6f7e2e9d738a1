"""The run, status and run-due commands: exit codes, dry-run output, status reports."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from runner_support import Sync, customer_flow

from connector_core.cli import main


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


class TestRun:
    def test_ok_then_status(self, sync: Sync) -> None:
        path = sync.write()
        code, out, err = invoke("run", str(path))
        assert code == 0, err
        assert "connection shop-to-netsuite: ok" in err and "customers: read 40, created 40" in err
        code, out, _ = invoke("status", str(path))
        assert code == 0
        assert "run 1: ok" in out and "dead letters: 0" in out
        code, out, _ = invoke("status", str(path), "--json")
        report = json.loads(out)
        assert report["runs"][0]["counts"] == {"customers": {"read": 40, "created": 40}}
        assert report["cursors"]["customers"]["cursor"] == "2024-01-01T11:20:00Z"

    def test_status_of_a_connection_that_never_ran_creates_no_state(self, sync: Sync) -> None:
        path = sync.write()
        state = sync.load(path).state_path()
        code, out, _ = invoke("status", str(path))
        assert code == 0 and "never run" in out
        assert not state.exists()

    def test_dry_run_prints_json_lines(self, sync: Sync) -> None:
        code, out, err = invoke("run", str(sync.write()), "--dry-run")
        assert code == 0, err
        lines = [json.loads(line) for line in out.splitlines()]
        assert len(lines) == 40 and {line["action"] for line in lines} == {"create"}
        assert sync.ns_count() == 0

    def test_dead_letters_exit_5_and_status_lists_them(self, sync: Sync) -> None:
        flow = customer_flow()
        flow["mapping"]["entityId"] = {"from": "id", "type": "boolean"}
        path = sync.write([flow])
        code, _, err = invoke("run", str(path))
        assert code == 5, err
        assert "dead letters: 40 in this run, by reason" in err and f"`connector-core status {path} --failed` lists every one" in err
        code, out, _ = invoke("status", str(path), "--failed")
        assert "dead letters: 40" in out
        # id 1 converts to true, which NetSuite refuses; 2 to 40 do not convert at all
        assert "record 1: upsert_customer was rejected: NetSuite rejected the customer request (INVALID_CONTENT) at field 'entityId'" in out
        assert "record 7: field entityId: 7 is not a boolean" in out

    def test_invalid_file_exits_1_with_the_location(self, sync: Sync) -> None:
        flow = customer_flow()
        flow["from"]["stream"] = "custmers"
        code, _, err = invoke("run", str(sync.write([flow])))
        assert code == 1
        assert "flows[0].from.stream: connector 'example' has no stream 'custmers'; did you mean 'customers'?" in err

    def test_a_held_lease_skips_the_run_with_exit_0(self, sync: Sync) -> None:
        path = sync.write()
        with sync.store() as store:
            assert store.acquire_lease("another-host:123:x", 600)
        code, _, err = invoke("run", str(path))
        assert code == 0, err
        assert "skipped: running elsewhere: connection 'shop-to-netsuite' is being run by another-host:123:x" in err
        assert sync.ns_count() == 0

    def test_a_run_that_loses_its_lease_mid_way_stops_with_exit_7_and_commits_nothing_more(self, sync: Sync, monkeypatch: pytest.MonkeyPatch) -> None:
        from connector_core.sync import flow as flow_module

        data = sync.shop.api.data
        with data.lock:  # 200 customers: several commits
            for i in range(41, 201):
                data.customers[i] = {**data.customers[1], "id": i, "name": f"Customer {i:05d}", "email": f"customer{i}@example.test"}
            data.next_id = 201
        path = sync.write()
        committed: list[int] = []
        original = flow_module.FlowRun._commit

        def commit_then_lose_the_lease(self: Any, items: Any, cursor: Any, cursor_key: Any) -> None:
            original(self, items, cursor, cursor_key)
            committed.append(len(items))
            if len(committed) == 1:  # another host takes over after the first batch (this run's lease expired)
                with sync.store() as other:
                    with other.engine.begin() as conn:
                        conn.exec_driver_sql("UPDATE leases SET expires_at = 0")
                    assert other.acquire_lease("another-host:9:y", 600)

        monkeypatch.setattr(flow_module.FlowRun, "_commit", commit_then_lose_the_lease)
        code, _, err = invoke("run", str(path))
        assert code == 7, err
        assert "lost its lease" in err and "lease_lost" in err
        with sync.store() as store:
            assert len(store.mapped_rows("customers")) == committed[0] < 200  # what came after the takeover was rolled back
            assert store.lease_holder() is not None and store.lease_holder()[0] == "another-host:9:y"  # not released by the loser

    def test_the_breaker_exits_6(self, sync: Sync) -> None:
        flow = customer_flow(delete={"policy": "inactivate", "detect": "missing", "inactivate_mapping": {"isInactive": {"const": True}}})
        path = sync.write([flow])
        assert invoke("run", str(path))[0] == 0
        with sync.shop.api.data.lock:
            sync.shop.api.data.customers.clear()
        code, _, err = invoke("run", str(path), "--full-refresh")
        assert code == 6
        assert "nothing was deleted" in err and "--accept-deletes" in err
        code, out, _ = invoke("status", str(path))
        assert "delete breaker holds customers" in out and "40 of 40 mapped records would be deleted" in out
        assert invoke("run", str(path))[0] == 6  # held: the next run checks again
        assert invoke("run", str(path), "--accept-deletes")[0] == 0
        assert "delete breaker" not in invoke("status", str(path))[1]


class TestRunDue:
    def test_runs_what_is_due_once(self, sync: Sync) -> None:
        syncs = sync.dir / "syncs"
        syncs.mkdir()
        sync.write(name="syncs/hourly.yaml")
        sync.write(name="syncs/manual.yaml", schedule=None, state=".state/manual.sqlite")
        code, _, err = invoke("run-due", str(syncs))
        assert code == 0, err
        assert "manual.yaml: no schedule; skipped" in err and "connection shop-to-netsuite: ok" in err
        writes = sync.ns_writes()
        code, _, err = invoke("run-due", str(syncs))
        assert code == 0 and "hourly.yaml: not due" in err
        assert sync.ns_writes() == writes


class TestPostgresState:
    def test_run_and_status_keep_the_state_in_postgresql_from_the_option_or_the_environment(
        self, sync: Sync, postgres_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = sync.write()
        code, _, err = invoke("run", str(path), "--state", postgres_url)
        assert code == 0, err
        assert sync.ns_count() == 40
        assert not (sync.dir / ".state").exists()  # nothing went to the default SQLite file

        monkeypatch.setenv("CONNECTOR_CORE_STATE_URL", postgres_url)
        code, _, err = invoke("run", str(path))
        assert code == 0, err
        assert "customers: nothing to do" in err and sync.ns_count() == 40  # the cursor came from PostgreSQL
        assert not (sync.dir / ".state").exists()
        code, out, _ = invoke("status", str(path), "--json")
        report = json.loads(out)
        assert report["state"].startswith("postgresql") and len(report["runs"]) == 2

    def test_a_postgresql_server_that_does_not_answer_is_exit_3_as_a_network_failure(self, sync: Sync) -> None:
        path = sync.write()
        code, _, err = invoke("run", str(path), "--state", "postgresql://nobody@127.0.0.1:1/state?connect_timeout=2")
        assert code == 3, err
        assert "cannot use the state database" in err and sync.ns_count() == 0
