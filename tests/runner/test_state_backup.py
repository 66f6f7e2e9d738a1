"""`connector-core state backup` and `state restore`: SQLite's online backup of a live state, and a
restore that checks its source and never replaces a state a run holds."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from click.testing import CliRunner
from runner_support import Sync

from connector_core.cli import main
from connector_core.sync.store import SQLiteStateStore


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def cursors(path: Path, state: Path | None = None) -> dict[str, object]:
    code, out, err = invoke("status", str(path), "--json", *(["--state", str(state)] if state else []))
    assert code == 0, err
    report = json.loads(out)
    return dict(report["cursors"])


class TestBackup:
    def test_a_backup_taken_while_a_thread_commits_is_a_consistent_snapshot(self, tmp_path: Path) -> None:
        state = tmp_path / "live.sqlite"
        stop = threading.Event()
        commits = []

        def writer() -> None:  # two cursors always committed together with the same value
            with SQLiteStateStore(state, "live") as store:
                n = 0
                while not stop.is_set():
                    n += 1
                    with store.batch() as tx:
                        tx.set_cursor("a", {"n": n, "pad": "x" * 2000})
                        tx.set_cursor("b", {"n": n})
                    commits.append(n)

        SQLiteStateStore(state, "live").close()
        thread = threading.Thread(target=writer)
        thread.start()
        try:
            while len(commits) < 20:
                threading.Event().wait(0.01)
            copies = []
            before = len(commits)
            for index in range(5):
                code, out, err = invoke("state", "backup", "--state", str(state), str(tmp_path / f"copy{index}.sqlite"))
                assert code == 0, err
                copies.append(Path(out.strip()))
            during = len(commits)
        finally:
            stop.set()
            thread.join()
        assert during > before  # the writer kept committing while the copies were taken
        for copy in copies:
            assert not copy.with_name(copy.name + "-wal").exists()  # one self-contained file
            with SQLiteStateStore(copy, "live") as store:  # opens: the store's own checks pass
                found = store.cursors()
            assert found["a"]["n"] == found["b"]["n"] >= 20

    def test_backup_of_a_connection_into_a_directory_then_restore_brings_its_cursors_back(self, sync: Sync, tmp_path: Path) -> None:
        path = sync.write()
        assert invoke("run", str(path))[0] == 0
        saved = cursors(path)
        assert saved["customers"]
        backups = tmp_path / "backups"
        backups.mkdir()
        code, out, err = invoke("state", "backup", str(path), str(backups))
        assert code == 0, err
        copy = Path(out.strip())
        assert copy.parent == backups and copy.name.startswith("shop-to-netsuite-") and copy.suffix == ".sqlite"
        assert f"backed up {sync.load(path).state_path()} to {copy}" in err

        with sync.store(path) as store, store.batch() as tx:  # the state moves on after the backup
            tx.set_cursor("customers", {"cursor": "2099-01-01T00:00:00Z"})
        assert cursors(path) != saved

        code, out, err = invoke("state", "restore", str(copy), str(path))
        assert code == 0, err
        assert "the state it replaced is kept as shop-to-netsuite.sqlite.before-restore-" in err
        assert cursors(path) == saved
        kept = next(sync.load(path).state_path().parent.glob("shop-to-netsuite.sqlite.before-restore-*"))
        assert cursors(path, kept)["customers"] == {"cursor": "2099-01-01T00:00:00Z"}

        writes = sync.ns_writes()
        code, _, err = invoke("run", str(path))  # the restored state runs: nothing is written twice
        assert code == 0, err
        assert sync.ns_writes() == writes and sync.ns_count() == 40

    def test_an_existing_file_is_kept_unless_overwrite(self, sync: Sync, tmp_path: Path) -> None:
        path = sync.write()
        assert invoke("run", str(path))[0] == 0
        dest = tmp_path / "copy.sqlite"
        dest.write_text("mine")
        code, _, err = invoke("state", "backup", str(path), str(dest))
        assert code == 1 and "already exists" in err and "--overwrite" in err
        assert dest.read_text() == "mine"
        assert invoke("state", "backup", str(path), str(dest), "--overwrite")[0] == 0

    def test_a_state_that_was_never_written_is_an_error(self, sync: Sync, tmp_path: Path) -> None:
        code, _, err = invoke("state", "backup", str(sync.write()), str(tmp_path / "copy.sqlite"))
        assert code == 1 and "no such file" in err

    def test_neither_connection_nor_state_is_a_usage_error(self, tmp_path: Path) -> None:
        code, _, err = invoke("state", "backup", str(tmp_path / "copy.sqlite"))
        assert code == 2 and "give a CONNECTION file or --state PATH" in err


class TestRestore:
    def test_refused_while_a_run_holds_the_lease(self, sync: Sync, tmp_path: Path) -> None:
        path = sync.write()
        assert invoke("run", str(path))[0] == 0
        copy = tmp_path / "copy.sqlite"
        assert invoke("state", "backup", str(path), str(copy))[0] == 0
        with sync.store(path) as store:
            assert store.acquire_lease("another-host:123:x", 600)
            with store.batch() as tx:
                tx.set_cursor("customers", {"cursor": "moved-on"})
        code, _, err = invoke("state", "restore", str(copy), str(path))
        assert code == 7
        assert "connection 'shop-to-netsuite' is being run by another-host:123:x; nothing was restored" in err
        assert cursors(path)["customers"] == {"cursor": "moved-on"}
        assert not list(sync.load(path).state_path().parent.glob("*.before-restore-*"))

    def test_a_file_that_is_not_a_state_database_is_refused(self, sync: Sync, tmp_path: Path) -> None:
        path = sync.write()
        text = tmp_path / "notes.txt"
        text.write_text("not a database\n")
        code, _, err = invoke("state", "restore", str(text), str(path))
        assert code == 1
        assert f"{text}: not a usable connector-core state backup: not a SQLite database" in err

        other = tmp_path / "other.sqlite"
        with sqlite3.connect(other) as conn:
            conn.execute("CREATE TABLE things (id INTEGER)")
        code, _, err = invoke("state", "restore", str(other), str(path))
        assert code == 1
        assert f"{other}: not a connector-core state backup: a SQLite database without the state tables cursors, dead_letters" in err

        empty = tmp_path / "empty.sqlite"
        empty.touch()
        code, _, err = invoke("state", "restore", str(empty), str(path))
        assert code == 1 and "empty (0 bytes)" in err
        assert not sync.load(path).state_path().exists()  # nothing was created

    def test_the_backup_of_another_connection_is_refused(self, sync: Sync, tmp_path: Path) -> None:
        path = sync.write()
        other = tmp_path / "other.sqlite"
        with SQLiteStateStore(other, "someone-else") as store, store.batch() as tx:
            tx.set_cursor("customers", {"cursor": "x"})
        code, _, err = invoke("state", "restore", str(other), str(path))
        assert code == 1 and "holds no state of connection 'shop-to-netsuite' (it holds: someone-else)" in err

    def test_a_damaged_state_is_kept_aside_and_replaced(self, sync: Sync, tmp_path: Path) -> None:
        path = sync.write()
        assert invoke("run", str(path))[0] == 0
        saved = cursors(path)
        copy = tmp_path / "copy.sqlite"
        assert invoke("state", "backup", str(path), str(copy))[0] == 0
        state = sync.load(path).state_path()
        for sidecar in (state.with_name(state.name + "-wal"), state.with_name(state.name + "-shm")):
            sidecar.unlink(missing_ok=True)
        state.write_bytes(b"\0" * 100)
        code, _, err = invoke("state", "restore", str(copy), str(path))
        assert code == 0, err
        assert "kept as shop-to-netsuite.sqlite.damaged-" in err
        assert cursors(path) == saved

    def test_restore_into_a_new_state_path(self, sync: Sync, tmp_path: Path) -> None:
        path = sync.write()
        assert invoke("run", str(path))[0] == 0
        copy = tmp_path / "copy.sqlite"
        assert invoke("state", "backup", str(path), str(copy))[0] == 0
        fresh = tmp_path / "fresh.sqlite"
        code, out, err = invoke("state", "restore", str(copy), "--state", str(fresh))
        assert code == 0, err
        assert out.strip() == str(fresh) and "before-restore" not in err
        assert cursors(path, fresh) == cursors(path)
