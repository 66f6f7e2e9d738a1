"""Opening a state database never loses state: the checks of sync/store/checks.py, the read-only mode
of the store, and `run --reset-state` (the refusals themselves, through the CLI, are in
tests/core/test_bad_inputs.py)."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from runner_support import Sync

import connector_core.sync.store.checks as checks
from connector_core.cli import main
from connector_core.errors import StateError
from connector_core.sync.store import MappedRecord, SQLiteStateStore


def healthy(path: Path, rows: int = 3) -> None:
    with SQLiteStateStore(path, "conn") as store:
        run = store.start_run(False)
        store.finish_run(run, "ok", {}, [])
        with store.batch() as tx:
            tx.set_cursor("customers", {"cursor": "A"})
            for n in range(rows):
                tx.map_record(MappedRecord("customers", str(n), f"d{n}", f"crm-{n}", "h", 1.0, None, None))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def killed_with_a_commit_in_the_wal(path: Path) -> None:
    """A state whose last commit is only in its -wal file, as a kill -9 leaves it."""
    healthy(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE cursors SET state = '{\"cursor\": \"B\"}'")
    conn.commit()
    kept = {name: path.with_name(name).read_bytes() for name in (path.name, f"{path.name}-wal")}
    conn.close()
    for name, data in kept.items():
        path.with_name(name).write_bytes(data)


class TestRefused:
    def test_an_empty_file_is_not_taken_for_a_new_state(self, tmp_path: Path) -> None:
        path = tmp_path / "state.sqlite"
        path.write_bytes(b"")
        with pytest.raises(StateError, match=r"state.sqlite: the state database is empty \(0 bytes\)") as caught:
            SQLiteStateStore(path, "conn")
        assert "--reset-state" in str(caught.value)
        assert path.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == ["state.sqlite"]

    def test_a_valid_wal_is_kept_and_read_and_a_garbage_one_is_refused(self, tmp_path: Path) -> None:
        good, bad = tmp_path / "good" / "state.sqlite", tmp_path / "bad" / "state.sqlite"
        good.parent.mkdir()
        bad.parent.mkdir()
        killed_with_a_commit_in_the_wal(good)
        for name in (good.name, f"{good.name}-wal"):
            shutil.copy(good.with_name(name), bad.with_name(name))
        wal = bad.with_name(f"{bad.name}-wal")
        wal.write_bytes(random.Random(1).randbytes(wal.stat().st_size))
        before = digest(wal)
        with pytest.raises(StateError, match="write-ahead log state.sqlite-wal is damaged"):
            SQLiteStateStore(bad, "conn")
        assert digest(wal) == before  # SQLite never saw it: it would have deleted it
        with SQLiteStateStore(good, "conn") as store:
            assert store.cursor("customers") == {"cursor": "B"}  # the commit in the log

    def test_a_missing_directory_is_created_only_when_asked(self, tmp_path: Path) -> None:
        with pytest.raises(StateError, match="does not exist"):
            SQLiteStateStore(tmp_path / "typo" / "state.sqlite", "conn", create_parent=False)
        assert not (tmp_path / "typo").exists()
        with SQLiteStateStore(tmp_path / ".state" / "state.sqlite", "conn") as store:
            assert store.runs() == []

    def test_the_wal_header_checksum_is_sqlites(self, tmp_path: Path) -> None:
        path = tmp_path / "state.sqlite"
        killed_with_a_commit_in_the_wal(path)
        wal = path.with_name(f"{path.name}-wal")
        assert checks._wal_problem(wal) is None
        data = bytearray(wal.read_bytes())
        data[16] ^= 0xFF  # a salt byte: the header no longer matches its checksum
        wal.write_bytes(bytes(data))
        assert checks._wal_problem(wal) == "its header checksum does not match"


class TestReset:
    @pytest.mark.parametrize("damage", ["empty", "garbage", "garbage wal", "damaged pages"])
    def test_an_empty_or_damaged_state_is_kept_aside_and_a_new_one_begins(self, tmp_path: Path, damage: str) -> None:
        path = tmp_path / "state.sqlite"
        if damage == "empty":
            path.write_bytes(b"")
        elif damage == "garbage":
            path.write_bytes(random.Random(2).randbytes(5000))
        elif damage == "garbage wal":
            killed_with_a_commit_in_the_wal(path)
            wal = path.with_name(f"{path.name}-wal")
            wal.write_bytes(random.Random(3).randbytes(wal.stat().st_size))
        else:
            healthy(path, rows=2000)
            with path.open("r+b") as handle:
                handle.seek(4096)
                handle.write(random.Random(4).randbytes(3 * 4096))
        damaged = {p.name: digest(p) for p in tmp_path.iterdir()}
        with SQLiteStateStore(path, "conn", reset=True) as store:
            assert store.reset_to is not None and store.runs() == []
            store.start_run(False)
        aside = store.reset_to
        kept = {p.name.replace(aside.name, path.name): digest(p) for p in tmp_path.iterdir() if p.name.startswith(aside.name)}
        assert kept == damaged  # every damaged file, byte for byte, under the new name
        with SQLiteStateStore(path, "conn") as reopened:
            assert len(reopened.runs()) == 1

    def test_a_healthy_state_is_never_reset(self, tmp_path: Path) -> None:
        path = tmp_path / "state.sqlite"
        healthy(path)
        before = digest(path)
        with pytest.raises(StateError, match="healthy"):
            SQLiteStateStore(path, "conn", reset=True)
        assert digest(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["state.sqlite"]


class TestReadOnly:
    @pytest.fixture
    def read_only(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        path = tmp_path / "state.sqlite"
        healthy(path)
        path.chmod(0o444)
        if os.geteuid() == 0:  # permissions do not bind root: make the store see what a user would
            monkeypatch.setattr(checks, "_not_writable", lambda p: "the file is read-only for this user")
        return path

    def test_reads_work_and_the_first_write_says_why_it_cannot(self, read_only: Path) -> None:
        before = digest(read_only)
        with SQLiteStateStore(read_only, "conn") as store:
            assert store.read_only
            assert [r.status for r in store.runs()] == ["ok"] and store.cursor("customers") == {"cursor": "A"}
            assert store.mapped("customers", "1") is not None
            with pytest.raises(StateError, match="cannot be written .*read-only for this user"):
                store.acquire_lease("me", 60)
            with pytest.raises(StateError, match="cannot be written"):
                with store.batch() as tx:
                    tx.set_cursor("customers", {"cursor": "Z"})
        assert digest(read_only) == before

    def test_reset_is_refused(self, read_only: Path) -> None:
        with pytest.raises(StateError, match="cannot be written"):
            SQLiteStateStore(read_only, "conn", reset=True)

    @pytest.mark.skipif(os.geteuid() == 0, reason="file permissions do not bind root")
    def test_status_reads_a_read_only_state_as_a_user(self, sync: Sync) -> None:
        path = sync.write()
        assert invoke("run", str(path))[0] == 0
        state = sync.load(path).state_path()
        state.chmod(0o444)
        code, out, err = invoke("status", str(path))
        assert code == 0, err
        assert "run 1: ok" in out
        code, _, err = invoke("run", str(path))
        assert code == 1 and "cannot be written" in err


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


class TestRunResetState:
    def test_a_truncated_state_stops_the_run_until_reset_state_is_given(self, sync: Sync) -> None:
        path = sync.write()
        assert invoke("run", str(path))[0] == 0
        state = sync.load(path).state_path()
        state.write_bytes(b"")  # truncated: history, cursors and the ID map are gone
        writes = sync.ns_writes()
        code, _, err = invoke("run", str(path))
        assert code == 1 and "empty (0 bytes)" in err and "--reset-state" in err
        assert state.read_bytes() == b"" and sync.ns_writes() == writes
        code, _, err = invoke("status", str(path))
        assert code == 1 and "empty (0 bytes)" in err
        code, _, err = invoke("run", str(path), "--reset-state")
        assert code == 0, err
        assert "was empty or damaged; kept as shop-to-netsuite.sqlite.damaged-" in err
        assert "customers: read 40" in err
        assert sync.ns_count() == 40  # upserted again by external id: nothing duplicated
        code, _, err = invoke("run", str(path), "--reset-state")
        assert code == 1 and "healthy" in err
