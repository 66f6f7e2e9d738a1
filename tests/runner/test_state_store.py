"""The state store on both back ends (SQLite, PostgreSQL): one transaction per batch, dead letters, the
run log and leases. The fence on commits and concurrency are in test_state_lease.py."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from state_support import Open

from connector_core.sync.store import (
    MappedRecord,
    OutboxEntry,
    SQLiteStateStore,
    SQLStateStore,
    lease_owner,
)


@pytest.fixture
def store(opened: Open) -> SQLStateStore:
    return opened()


def row(source_id: str, dest_id: str) -> MappedRecord:
    return MappedRecord("customers", source_id, dest_id, f"crm-{source_id}", "h" + source_id, 1.0, None, None)


class TestBatch:
    def test_commits_cursor_and_id_map_together(self, store: SQLStateStore) -> None:
        store.add_pending("customers", [("1", "crm-1")], "upsert_customer", None)
        with store.batch() as tx:
            tx.map_record(row("1", "101"))
            tx.clear_pending("customers", ["1"])
            tx.set_cursor("customers", {"cursor": "2024-05-01T00:00:00Z"})
        assert store.cursor("customers") == {"cursor": "2024-05-01T00:00:00Z"}
        found = store.mapped("customers", "1")
        assert found is not None and found.dest_id == "101"
        assert store.pending("customers") == {}

    def test_a_failure_inside_rolls_back_cursor_id_map_ledger_and_dead_letters(self, store: SQLStateStore) -> None:
        with store.batch() as tx:
            tx.set_cursor("customers", {"cursor": "A"})
            tx.map_record(row("1", "101"))
        store.add_pending("customers", [("2", "crm-2")], "upsert_customer", None)
        with pytest.raises(RuntimeError), store.batch() as tx:
            tx.map_record(row("2", "102"))
            tx.clear_pending("customers", ["2"])
            tx.dead_letter("customers", "3", {"id": 3}, "rejected")
            tx.set_cursor("customers", {"cursor": "B"})
            raise RuntimeError("the process dies between two writes")
        assert store.cursor("customers") == {"cursor": "A"}
        assert store.mapped("customers", "2") is None
        assert store.pending("customers") == {"2": "upsert_customer"}
        assert store.dead_letters() == []

    def test_connections_share_a_database_without_mixing(self, opened: Open) -> None:
        a, b = opened("a"), opened("b")
        with a.batch() as tx:
            tx.set_cursor("f", {"cursor": "a"})
            tx.map_record(row("1", "101"))
        assert b.cursor("f") is None and a.cursor("f") == {"cursor": "a"}
        assert b.mapped("customers", "1") is None and b.mapped_rows("customers") == []

    def test_id_map_lookups(self, store: SQLStateStore) -> None:
        with store.batch() as tx:
            tx.map_record(row("1", "101"))
            tx.map_record(MappedRecord("customers", "2", "102", "crm-2", None, 1.0, None, None, deleted=True))
        assert store.holder_of_external_id("customers", "crm-1") == "1"
        assert store.holder_of_external_id("customers", "crm-2") is None  # deleted rows hold nothing
        assert [r.source_id for r in store.written_as(["customers"], "101")] == ["1"]
        assert sorted(r.source_id for r in store.mapped_rows("customers")) == ["1", "2"]
        deleted = store.mapped("customers", "2")
        assert deleted is not None and deleted.deleted is True

    def test_the_outbox_keeps_write_backs_until_removed(self, store: SQLStateStore) -> None:
        entry = OutboxEntry("customers", "1", "101", "crm-1", {"id": 1}, "h1", None, "2024-05-01", created_at=5.0)
        with store.batch() as tx:
            tx.put_outbox(entry)
        with store.batch() as tx:
            tx.outbox_failed("customers", ["1"], "HTTP 503 from https://user:pw@api.example/x")
        (owed,) = store.outbox("customers")
        assert (owed.dest_id, owed.record, owed.attempts) == ("101", {"id": 1}, 1)
        assert owed.last_error is not None and "pw@" not in owed.last_error
        with store.batch() as tx:
            tx.remove_outbox("customers", "1")
        assert store.outbox() == []


def test_the_sqlite_file_is_a_wal_database(tmp_path: Path) -> None:
    with SQLiteStateStore(tmp_path / "state.sqlite", "conn") as store:
        with store.batch() as tx:
            tx.set_cursor("x", {"cursor": 1})
        mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


class TestDeadLetters:
    def test_attempts_and_first_and_last_seen(self, opened: Open) -> None:
        now = [1000.0]
        store = opened("c", clock=lambda: now[0])
        with store.batch() as tx:
            tx.dead_letter("customers", "7", {"id": 7, "email": "x"}, "first reason")
        now[0] = 2000.0
        with store.batch() as tx:
            tx.dead_letter("customers", "7", {"id": 7, "email": "y"}, "second reason")
        (letter,) = store.dead_letters("customers")
        assert (letter.attempts, letter.first_seen, letter.last_seen) == (2, 1000.0, 2000.0)
        assert letter.reason == "second reason" and letter.record == {"id": 7, "email": "y"}
        with store.batch() as tx:
            tx.resolve_dead_letter("customers", "7")
        assert store.dead_letters() == []


class TestRunsAndLeases:
    def test_run_log(self, store: SQLStateStore) -> None:
        run_id = store.start_run(False)
        assert store.runs()[0].status == "running"
        store.finish_run(run_id, "ok", {"customers": {"read": 3, "created": 3}}, [])
        (run,) = store.runs()
        assert run.status == "ok" and run.counts == {"customers": {"read": 3, "created": 3}} and run.ended_at is not None

    def test_interrupted_runs_are_marked(self, store: SQLStateStore) -> None:
        store.start_run(False)
        store.mark_interrupted_runs()
        last = store.last_run()
        assert last is not None and last.status == "interrupted"

    def test_one_owner_at_a_time_until_expiry(self, opened: Open) -> None:
        now = [0.0]
        store = opened("c", clock=lambda: now[0])
        assert store.acquire_lease("me:1:a", 60)
        assert not store.acquire_lease("other:2:b", 60)
        assert store.acquire_lease("me:1:a", 60)  # renewing my own
        now[0] = 61.0
        assert store.acquire_lease("other:2:b", 60)

    def test_a_killed_owner_on_this_host_does_not_block(self, store: SQLStateStore) -> None:
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        child.wait()
        assert store.acquire_lease(f"{socket.gethostname()}:{child.pid}:dead", 900)
        assert store.lease_holder() is None
        assert store.acquire_lease(lease_owner(), 900)
        assert store.lease_holder() is not None
