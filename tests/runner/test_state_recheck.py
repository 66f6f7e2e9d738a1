"""A state database found damaged is looked at again before it is called damaged: a transient error while
another process closes it must not stop a run, and a damaged file is still refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector_core.errors import StateError
from connector_core.sync.store import sqlite as sqlite_store
from connector_core.sync.store.sqlite import SQLiteStateStore


def test_a_damaged_look_that_does_not_last_opens_the_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.sqlite"
    SQLiteStateStore(path, "c").close()
    looks: list[str] = []
    check = SQLiteStateStore._check_integrity

    def first_look_damaged(self: SQLiteStateStore) -> None:
        looks.append("look")
        if len(looks) == 1:
            raise StateError(f"{self.path}: the state database is damaged (database disk image is malformed)")
        check(self)

    monkeypatch.setattr(SQLiteStateStore, "_check_integrity", first_look_damaged)
    monkeypatch.setattr(sqlite_store, "DAMAGED_RECHECKS", (0.01, 0.01))
    store = SQLiteStateStore(path, "c")
    store.close()
    assert looks == ["look", "look"]


def test_a_damaged_file_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    SQLiteStateStore(path, "c").close()
    data = bytearray(path.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # the second page: a b-tree page no longer
    path.write_bytes(bytes(data))
    with pytest.raises(StateError, match="damaged"):
        SQLiteStateStore(path, "c")
