"""The SQLite state store: one transaction per batch, dead letters, the run log and leases."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from connector_core.sync.store import MappedRecord, SQLiteStateStore, lease_owner


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStateStore:
    with SQLiteStateStore(tmp_path / "state.sqlite", "conn") as opened:
        yield opened


def row(source_id: str, dest_id: str) -> MappedRecord:
    return MappedRecord("customers", source_id, dest_id, f"crm-{source_id}", "h" + source_id, 1.0, None, None)


class TestBatch:
    def test_commits_cursor_and_id_map_together(self, store: SQLiteStateStore) -> None:
        store.add_pending("customers", [("1", "crm-1")], "upsert_customer", None)
        with store.batch() as tx:
            tx.map_record(row("1", "101"))
            tx.clear_pending("customers", ["1"])
            tx.set_cursor("customers", {"cursor": "2024-05-01T00:00:00Z"})
        assert store.cursor("customers") == {"cursor": "2024-05-01T00:00:00Z"}
        assert store.mapped("customers", "1").dest_id == "101"
        assert store.pending("customers") == {}

    def test_a_failure_inside_rolls_back_cursor_id_map_ledger_and_dead_letters(self, store: SQLiteStateStore) -> None:
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

    def test_the_file_is_a_wal_database(self, store: SQLiteStateStore) -> None:
        with store.batch() as tx:
            tx.set_cursor("x", {"cursor": 1})
        mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"

    def test_connections_share_a_file_without_mixing(self, tmp_path: Path) -> None:
        with SQLiteStateStore(tmp_path / "s.sqlite", "a") as a, SQLiteStateStore(tmp_path / "s.sqlite", "b") as b:
            with a.batch() as tx:
                tx.set_cursor("f", {"cursor": "a"})
            assert b.cursor("f") is None and a.cursor("f") == {"cursor": "a"}


class TestDeadLetters:
    def test_attempts_and_first_and_last_seen(self, tmp_path: Path) -> None:
        now = [1000.0]
        with SQLiteStateStore(tmp_path / "s.sqlite", "c", clock=lambda: now[0]) as store:
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
    def test_run_log(self, store: SQLiteStateStore) -> None:
        run_id = store.start_run(False)
        assert store.runs()[0].status == "running"
        store.finish_run(run_id, "ok", {"customers": {"read": 3, "created": 3}}, [])
        (run,) = store.runs()
        assert run.status == "ok" and run.counts == {"customers": {"read": 3, "created": 3}} and run.ended_at is not None

    def test_one_owner_at_a_time_until_expiry(self, tmp_path: Path) -> None:
        now = [0.0]
        with SQLiteStateStore(tmp_path / "s.sqlite", "c", clock=lambda: now[0]) as store:
            assert store.acquire_lease("me:1:a", 60)
            assert not store.acquire_lease("other:2:b", 60)
            assert store.acquire_lease("me:1:a", 60)  # renewing my own
            now[0] = 61.0
            assert store.acquire_lease("other:2:b", 60)

    def test_a_killed_owner_on_this_host_does_not_block(self, store: SQLiteStateStore) -> None:
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        child.wait()
        import socket

        assert store.acquire_lease(f"{socket.gethostname()}:{child.pid}:dead", 900)
        assert store.lease_holder() is None
        assert store.acquire_lease(lease_owner(), 900)
        assert store.lease_holder() is not None
