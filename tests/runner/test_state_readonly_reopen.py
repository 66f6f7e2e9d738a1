"""A state file open in one process (a dashboard page or a job of `connector-core ui`, an activity of a
`worker`) while the same process opens and closes another store on it, and runs in other processes write
it, end, or are killed: every process keeps seeing every commit.

SQLite's lock on the database is a POSIX lock, and a process loses its POSIX locks on a file when it closes
any descriptor of that file. The checks made before a store opens (:mod:`connector_core.sync.store.checks`)
read the file's header with open() and close(): made while another store of the process had the file open,
they dropped that store's lock, so a run in another process took itself for the last user when it ended,
checkpointed and deleted the -wal and -shm files under it. The store that was open, and every later open
in that process (SQLite shares one -shm mapping among them), then read a stale index: "database disk image
is malformed" (while a new process found the file sound), or old rows, and commits lost on its next write.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connector_core.sync.store import SQLStateStore, open_store

RUN = """
import sys, time
from connector_core.sync.store import open_store
with open_store(sys.argv[1], "conn") as store:
    for n in range(int(sys.argv[3])):
        with store.batch() as tx:
            tx.set_cursor(f"{sys.argv[2]}-{n}", {"at": n, "pad": "x" * 2000})
    if sys.argv[4] == "kill":
        print("committed", flush=True)
        time.sleep(60)
"""


def another_run(state: Path, tag: str, commits: int, *, killed: bool = False) -> None:
    """A run in another process: ``commits`` new cursors, one commit each; then it ends, or is SIGKILLed."""
    args = [sys.executable, "-c", RUN, str(state), tag, str(commits), "kill" if killed else "end"]
    if not killed:
        subprocess.run(args, check=True, timeout=60)
        return
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None and child.stdout.readline() == "committed\n"
        os.kill(child.pid, signal.SIGKILL)


def cursors_in_a_new_process(state: Path) -> int:
    read = "import sys; from connector_core.sync.store import open_store; print(len(open_store(sys.argv[1], 'conn').cursors()))"
    return int(subprocess.run([sys.executable, "-c", read, str(state)], capture_output=True, text=True, check=True, timeout=60).stdout)


@contextmanager
def held_while_another_opens_beside_it(state: Path) -> Iterator[SQLStateStore]:
    """A store kept open (a job of the dashboard) through a run killed elsewhere, while another store of
    this process opens and closes beside it (a page of the dashboard)."""
    another_run(state, "first", 50)
    with open_store(state, "conn") as held:
        assert len(held.cursors()) == 50
        another_run(state, "killed", 50, killed=True)
        with open_store(state, "conn") as beside:
            assert len(beside.cursors()) == 100
        yield held


def test_a_store_opened_beside_an_open_one_keeps_its_lock(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with held_while_another_opens_beside_it(state) as held:
        another_run(state, "ended", 80)
        assert state.with_name(state.name + "-shm").exists(), "a run that ended deleted the -shm while this process had the file open"
        another_run(state, "killed-again", 20, killed=True)
        another_run(state, "ended-again", 20)
        with open_store(state, "conn") as again:  # "database disk image is malformed" when the lock was lost
            assert len(again.cursors()) == 220
        assert len(held.cursors()) == 220
    assert cursors_in_a_new_process(state) == 220


def test_a_store_open_through_runs_elsewhere_loses_none_of_their_commits(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with held_while_another_opens_beside_it(state) as held:
        another_run(state, "ended", 80)
        another_run(state, "killed-again", 20, killed=True)
        another_run(state, "killed-last", 20, killed=True)  # its commits are in the -wal only
        assert len(held.cursors()) == 220  # 180 when the lock was lost: a stale index
        with held.batch() as tx:
            tx.set_cursor("held", {"pad": "y" * 2000})
    # the held store's close checkpointed: 181 when the lock was lost (the last runs' commits gone)
    assert cursors_in_a_new_process(state) == 221
