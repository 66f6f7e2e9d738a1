"""The lease and its fence, on both back ends: at most one run of a connection at a time, and a run that
lost its lease (paused past its expiry, then taken over) can never commit again. Also many connections
working on one database at once, from two processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from state_support import Open

from connector_core.errors import LeaseLostError, StateError
from connector_core.sync.store import MappedRecord, SQLStateStore, open_store


class Clock:
    """One time for every store of a test, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestTokens:
    def test_each_new_holder_gets_the_next_token_and_a_renewal_keeps_it(self, opened: Open) -> None:
        clock = Clock()
        a, b = opened(clock=clock), opened(clock=clock)
        first = a.acquire_lease("host-a:1:x", 60)
        assert first is not None and first.token == 1 and a.lease == first
        renewed = a.acquire_lease("host-a:1:x", 60)
        assert renewed is not None and renewed.token == 1
        a.release_lease("host-a:1:x")
        assert a.lease is None and a.lease_holder() is None
        second = b.acquire_lease("host-b:2:y", 60)
        assert second is not None and second.token == 2
        b.release_lease("host-b:2:y")
        third = a.acquire_lease("host-a:1:x", 60)  # the same owner after a release: a new lease
        assert third is not None and third.token == 3

    def test_connections_count_their_tokens_apart(self, opened: Open) -> None:
        one, two = opened("one"), opened("two")
        lease_one, lease_two = one.acquire_lease("host-a:1:x", 60), two.acquire_lease("host-b:2:y", 60)
        assert lease_one is not None and lease_two is not None and lease_one.token == lease_two.token == 1


class TestFence:
    def test_a_run_that_lost_its_lease_commits_nothing(self, opened: Open) -> None:
        clock = Clock()
        paused, other = opened(clock=clock), opened(clock=clock)
        assert paused.acquire_lease("host-a:1:x", 60)
        with paused.batch() as tx:
            tx.set_cursor("customers", {"cursor": "A"})
        clock.now += 61  # paused past its lease
        taken = other.acquire_lease("host-b:2:y", 60)
        assert taken is not None and taken.token == 2
        with pytest.raises(LeaseLostError) as lost:
            with paused.batch() as tx:
                tx.map_record(MappedRecord("customers", "1", "101", "crm-1", "h", 1.0, None, None))
                tx.set_cursor("customers", {"cursor": "B"})
        assert (lost.value.token, lost.value.holder, lost.value.holder_token) == (1, "host-b:2:y", 2)
        assert "host-b:2:y holds it now with token 2" in str(lost.value) and "nothing of this transaction was committed" in str(lost.value)
        assert isinstance(lost.value, StateError)
        assert other.cursor("customers") == {"cursor": "A"} and other.mapped("customers", "1") is None
        with pytest.raises(LeaseLostError):
            paused.add_pending("customers", [("2", "crm-2")], "create", None)  # before it would send the creates
        assert other.pending("customers") == {}
        with pytest.raises(LeaseLostError):
            paused.renew_lease("host-a:1:x", 60)
        paused.release_lease("host-a:1:x")  # leaves the new holder's lease alone
        assert other.lease_holder() == ("host-b:2:y", clock.now + 60)
        with other.batch() as tx:
            tx.set_cursor("customers", {"cursor": "C"})
        assert other.cursor("customers") == {"cursor": "C"}

    def test_an_expired_lease_nobody_took_still_commits_and_renews(self, opened: Open) -> None:
        clock = Clock()
        store = opened(clock=clock)
        assert store.acquire_lease("host-a:1:x", 60)
        clock.now += 600  # a long pause, but no other run came
        with store.batch() as tx:
            tx.set_cursor("customers", {"cursor": "A"})
            tx.renew_lease("host-a:1:x", 60)
        assert store.lease_holder() == ("host-a:1:x", clock.now + 60)
        assert store.lease is not None and store.lease.expires_at == clock.now + 60

    def test_a_store_without_a_lease_is_not_fenced(self, opened: Open) -> None:
        holder, reader = opened(), opened()
        assert holder.acquire_lease("host-a:1:x", 60)
        with reader.batch() as tx:  # e.g. a dry run or a state command: it never took the lease
            tx.set_cursor("x", {"cursor": 1})
        assert holder.cursor("x") == {"cursor": 1}

    def test_a_takeover_waits_for_a_commit_in_flight(self, opened: Open) -> None:
        """The check and the writes are one transaction: a run taking the lease over waits for the
        holder's commit in flight, which lands; the holder's next commit fails."""
        clock = Clock()
        holder, other = opened(clock=clock), opened(clock=clock)
        assert holder.acquire_lease("host-a:1:x", 60)
        inside, go = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def commit() -> None:
            try:
                with holder.batch() as tx:
                    tx.set_cursor("customers", {"cursor": "in flight"})
                    inside.set()
                    go.wait(10)
            except BaseException as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)

        committing = threading.Thread(target=commit)
        committing.start()
        assert inside.wait(10)
        clock.now += 61
        taken: list[object] = []
        taking = threading.Thread(target=lambda: taken.append(other.acquire_lease("host-b:2:y", 60)))
        taking.start()
        taking.join(0.5)
        assert taking.is_alive() and taken == []  # waits for the commit in flight
        go.set()
        committing.join(10)
        taking.join(10)
        assert errors == []
        (lease,) = taken
        assert lease is not None and getattr(lease, "token", None) == 2
        assert other.cursor("customers") == {"cursor": "in flight"}
        with pytest.raises(LeaseLostError):
            with holder.batch() as tx:
                tx.set_cursor("customers", {"cursor": "late"})


class TestRaces:
    def test_racing_owners_exactly_one_wins(self, opened: Open) -> None:
        stores = [opened() for _ in range(4)]
        tokens = []
        for round_ in range(8):
            start = threading.Barrier(len(stores))
            won: dict[int, object] = {}

            def race(index: int, store: SQLStateStore, round_: int = round_, start: threading.Barrier = start, won: dict[int, object] = won) -> None:
                start.wait(10)
                won[index] = store.acquire_lease(f"host-{index}:{index}:r{round_}", 60)

            threads = [threading.Thread(target=race, args=(i, s)) for i, s in enumerate(stores)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            winners = [i for i, lease in won.items() if lease is not None]
            assert len(won) == len(stores) and len(winners) == 1, won
            winner = stores[winners[0]]
            assert winner.lease is not None
            tokens.append(winner.lease.token)
            winner.release_lease(winner.lease.owner)
        assert tokens == list(range(1, 9))


_WORKER = textwrap.dedent(
    """
    import json, sys
    from connector_core.sync.store import MappedRecord, open_store

    location, name, batches = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open_store(location, name) as store:
        lease = store.acquire_lease(f"{name}-host:1:w", 600)
        assert lease is not None
        for n in range(batches):
            with store.batch() as tx:
                for k in range(5):
                    tx.map_record(MappedRecord("f", f"{n}-{k}", f"{name}-{n}-{k}", None, "h", 1.0, None, None))
                tx.set_cursor("f", {"n": n})
                tx.renew_lease(lease.owner, 600)
        store.release_lease(lease.owner)
    print(json.dumps({"token": lease.token}))
    """
)


def test_two_connections_work_on_one_database_from_two_processes(state_location: str) -> None:
    open_store(state_location, "setup").close()  # the schema first, so the two start together on their rows
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, state_location, name, "40"], stdout=subprocess.PIPE, text=True) for name in ("one", "two")]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0]
    assert [json.loads(output)["token"] for output in outputs] == [1, 1]
    for name in ("one", "two"):
        with open_store(state_location, name) as store:
            rows = store.mapped_rows("f")
            assert len(rows) == 200 and {row.dest_id.split("-")[0] for row in rows if row.dest_id} == {name}
            assert store.cursor("f") == {"n": 39} and store.lease_holder() is None


def test_acquiring_gives_up_on_a_lease_row_locked_too_long(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: a commit that hangs half-way keeps the lease row locked; an acquirer reports the lease
    held after ACQUIRE_WAIT rather than waiting for it."""
    from connector_core.sync.store import postgres

    monkeypatch.setattr(postgres, "ACQUIRE_WAIT", 1)
    clock = Clock()
    with open_store(postgres_url, "conn", clock=clock) as holder, open_store(postgres_url, "conn", clock=clock) as other:
        assert holder.acquire_lease("host-a:1:x", 60)
        with holder.batch():
            clock.now += 61
            started = time.monotonic()
            assert other.acquire_lease("host-b:2:y", 60) is None
            assert 0.9 < time.monotonic() - started < 5
        taken = other.acquire_lease("host-b:2:y", 60)
        assert taken is not None and taken.token == 2
