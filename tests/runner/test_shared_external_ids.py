"""Two source records that render one external id are never merged onto one destination record: the
first keeps it, the others are set aside with the reason, in one run or across runs."""

from __future__ import annotations

from runner_support import Sync, customer_flow

SHARED = {"external_id": "shop-{{ record.id % 20 }}"}  # customers 1 and 21, 2 and 22, ... share one


def reasons(sync: Sync) -> dict[str, str]:
    with sync.store() as store:
        return {letter.source_id: letter.reason for letter in store.dead_letters()}


def test_in_one_run_the_first_record_keeps_the_external_id_and_the_others_are_set_aside(sync: Sync) -> None:
    sync.write([customer_flow(match=SHARED)])
    run = sync.run()
    assert run.counts["customers"] == {"read": 40, "created": 20, "failed": 20}
    assert sync.ns_count() == 20
    assert sync.ns_customer("shop-7")["companyname"] == "Customer 00007"  # not customer 27's name
    set_aside = reasons(sync)
    assert sorted(set_aside, key=int) == [str(n) for n in range(21, 41)]
    assert "its external id 'shop-7' already belongs to record 7 of this flow" in set_aside["27"]
    assert "make match.external_id unique per record" in set_aside["27"]


def test_across_runs_the_id_map_keeps_the_external_id_for_the_record_that_took_it(sync: Sync) -> None:
    sync.write([customer_flow(match=SHARED, filter="{{ record.id <= 20 }}")])
    first = sync.run()
    assert first.counts["customers"]["created"] == 20
    writes = sync.ns_writes()

    sync.write([customer_flow(match=SHARED)])
    second = sync.run(full_refresh=True)
    assert second.counts["customers"] == {"read": 40, "unchanged": 20, "failed": 20}
    assert sync.ns_writes() == writes and sync.ns_count() == 20
    assert "its external id 'shop-3' already belongs to record 3 of this flow" in reasons(sync)["23"]
