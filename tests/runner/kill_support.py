"""The kill -9 loop the write-back kill tests share (a uniquely named module: `conftest` modules clash).

`connector-core run` of a CRM <-> NetSuite connection file is started as a child process and SIGKILLed at
random moments; what differs between the CRMs (the new work each round, the CRM emulator's latency fault)
is passed in. Used by test_kill_write_backs.py (HubSpot) and test_kill_salesforce.py (Salesforce).
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Protocol

from connector_core.sync.connection import LoadedConnection
from connector_core.sync.store import SQLStateStore
from connector_core.testing.emulator import FaultRegistry
from connectors.netsuite.emulator import NetSuiteEmulator

CLI = [str(Path(sys.executable).parent / "connector-core")]
KILLS = 12


class KilledConnection(Protocol):
    """What the loop needs of a test's harness: the connection file, its state and the NetSuite side."""

    path: Path
    netsuite: NetSuiteEmulator

    def load(self, path: Path | None = None) -> LoadedConnection: ...

    def store(self, path: Path | None = None) -> SQLStateStore: ...

    def ns_writes(self) -> int: ...


def run_killed_at(sync: KilledConnection, moment: Callable[[], bool]) -> tuple[int, str] | None:
    """Start `connector-core run` and SIGKILL it once ``moment()`` holds; its exit code and stderr if it ended first."""
    child = subprocess.Popen(
        [*CLI, "run", str(sync.path)],
        cwd=sync.path.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while child.poll() is None and not moment() and time.monotonic() < deadline:
        time.sleep(0.005)
    if child.poll() is not None:
        return child.returncode, child.stderr.read() if child.stderr else ""
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    return None


def run_cli(sync: KilledConnection, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`connector-core <args> <connection file>` to its end."""
    command, *options = args
    return subprocess.run(
        [*CLI, command, str(sync.path), *options],
        cwd=sync.path.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def after_seconds(seconds: float) -> Callable[[], bool]:
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() >= deadline


def after_writes(sync: KilledConnection, writes: int, then: float) -> Callable[[], bool]:
    """Once NetSuite has served ``writes`` more record requests, and ``then`` seconds more."""
    target = sync.ns_writes() + writes
    reached: list[float] = []

    def moment() -> bool:
        if not reached and sync.ns_writes() >= target:
            reached.append(time.monotonic())
        return bool(reached) and time.monotonic() >= reached[0] + then

    return moment


def when_write_backs_are_owed(sync: KilledConnection) -> Callable[[], bool]:
    """As soon as the state database's outbox holds an entry (polled read-only; the run holds no lock on reads)."""
    state = sync.load().state_path()

    def moment() -> bool:
        if not state.exists():
            return False
        # closed at once: `with sqlite3.connect(...)` only ends a transaction, and a read-only connection
        # left open in this process while a run deletes the write-ahead log at its end can make this
        # process's next open of the state report it malformed
        try:
            with closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=0.1)) as db:
                return bool(db.execute("SELECT 1 FROM outbox LIMIT 1").fetchone())
        except sqlite3.Error:
            return False

    return moment


def kill_runs_at_random(
    sync: KilledConnection, rng: random.Random, seed: int, new_work: Callable[[int], None]
) -> int:
    """Kill `run` :data:`KILLS` times, ``new_work(round)`` before each; returns how many kills left write-backs owed.

    A third of the kills come at a random time, a third at a random point of the write phase, a third as
    soon as write-backs are owed (committed in the outbox, not yet sent). A run that ends first must end
    with exit 0 or 5.
    """
    kills = owed_at_kills = 0
    for round_ in range(KILLS * 3):
        if kills == KILLS:
            break
        new_work(round_)
        moment = [
            after_seconds(rng.uniform(0.5, 2.5)),
            after_writes(sync, rng.randrange(1, 45), rng.uniform(0, 0.3)),
            when_write_backs_are_owed(sync),
        ][round_ % 3]
        ended = run_killed_at(sync, moment)
        if ended is None:
            kills += 1
            with sync.store() as store:
                owed_at_kills += bool(store.outbox())
        else:
            assert ended[0] in (0, 5), f"seed {seed}: a run ended with exit {ended[0]}: {ended[1][-2000:]}"
    assert kills == KILLS, f"seed {seed}: the runs finished before they could be killed {KILLS} times"
    return owed_at_kills


def assert_kills_reported(sync: KilledConnection, seed: int, owed_at_kills: int) -> None:
    """`status` names every killed run as interrupted after its writes, one at least after a commit."""
    shown = run_cli(sync, "status", "--runs", "50", timeout=60)
    interrupted = [line for line in shown.stdout.splitlines() if ": interrupted " in line]
    assert interrupted and all(re.search(r"after \d+ writes?", line) for line in interrupted), shown.stdout[
        -3000:
    ]
    assert any(not re.search(r"after 0 writes", line) for line in interrupted), (
        f"seed {seed}: no kill landed after a commit"
    )
    assert owed_at_kills >= 2, f"seed {seed}: only {owed_at_kills} kills left write-backs owed"


def run_to_the_end(sync: KilledConnection, crm_faults: FaultRegistry, seed: int) -> None:
    """Clear both emulators' faults and run twice more, each run ending with exit 0."""
    sync.netsuite.faults.clear()
    crm_faults.clear()
    for _ in range(2):
        finished = run_cli(sync, "run")
        assert finished.returncode == 0, f"seed {seed}: {finished.stderr[-2000:]}"


def assert_state_settled(sync: KilledConnection, to_netsuite: str) -> None:
    """Nothing owed, dead or pending; two runs at least ended ok, half the kills show as interrupted, none running."""
    with sync.store() as store:
        assert store.outbox() == [] and store.dead_letters() == [] and store.pending(to_netsuite) == {}
        statuses = Counter(r.status for r in store.runs(100))
        assert statuses["ok"] >= 2 and statuses["interrupted"] >= KILLS // 2 and statuses["running"] == 0, (
            statuses
        )


def run_after_edit(sync: KilledConnection) -> None:
    after_edit = run_cli(sync, "run")
    assert after_edit.returncode == 0, after_edit.stderr[-2000:]


__all__ = [
    "CLI",
    "KILLS",
    "KilledConnection",
    "after_seconds",
    "after_writes",
    "assert_kills_reported",
    "assert_state_settled",
    "kill_runs_at_random",
    "run_after_edit",
    "run_cli",
    "run_killed_at",
    "run_to_the_end",
    "when_write_backs_are_owed",
]
