"""Runs of shop → NetSuite (and back) against the real connectors and emulators over loopback."""

from __future__ import annotations

import pytest
from runner_support import Sync, customer_flow

from connector_core.errors import SpecError


def rename(sync: Sync, customer_id: int, name: str) -> None:
    with sync.shop.api.data.lock:
        sync.shop.api.data.customers[customer_id]["name"] = name
        sync.shop.api.data.customers[customer_id]["updated_at"] = "2030-01-01T00:00:00Z"


class TestFirstAndSecondRun:
    def test_a_run_creates_every_record_then_a_second_run_writes_nothing(self, sync: Sync) -> None:
        sync.write()
        first = sync.run()
        assert first.status == "ok", first.errors
        assert first.counts["customers"] == {"read": 40, "created": 40}
        assert sync.ns_count() == 40
        assert sync.ns_customer("shop-7")["companyname"] == "Customer 00007"
        writes = sync.ns_writes()

        second = sync.run()
        assert second.status == "ok"
        assert sync.ns_writes() == writes
        assert second.counts["customers"].get("created", 0) == 0 and second.counts["customers"].get("updated", 0) == 0

    def test_a_full_refresh_rereads_everything_and_writes_nothing_unchanged(self, sync: Sync) -> None:
        sync.write()
        sync.run()
        writes = sync.ns_writes()
        again = sync.run(full_refresh=True)
        assert again.counts["customers"] == {"read": 40, "unchanged": 40}
        assert sync.ns_writes() == writes

    def test_only_the_changed_record_is_written(self, sync: Sync) -> None:
        sync.write()
        sync.run()
        writes = sync.ns_writes()
        rename(sync, 5, "Renamed Ltd")
        run = sync.run()
        assert run.counts["customers"]["updated"] == 1
        assert sync.ns_writes() == writes + 1
        assert sync.ns_customer("shop-5")["companyname"] == "Renamed Ltd"
        assert sync.ns_count() == 40

    def test_the_id_map_and_cursor_are_saved(self, sync: Sync) -> None:
        sync.write()
        sync.run()
        with sync.store() as store:
            row = store.mapped("customers", "3")
            assert row is not None and row.external_id == "shop-3"
            assert row.dest_id == sync.ns_customer("shop-3")["id"]
            assert store.cursor("customers")["cursor"] == "2024-01-01T11:20:00Z"  # customer 40's updated_at
            assert store.runs()[0].status == "ok"


class TestDryRun:
    def test_dry_run_prints_the_writes_and_writes_nothing(self, sync: Sync) -> None:
        sync.write()
        before = sync.ns_writes()
        run = sync.run(dry_run=True)
        assert run.status == "ok" and run.dry_run
        assert sync.ns_writes() == before and sync.ns_count() == 0
        assert len(sync.reporter.writes) == 40
        assert sync.reporter.writes[0] == {
            "flow": "customers",
            "action": "create",
            "source_id": "1",
            "external_id": "shop-1",
            "dest_id": None,
            "operation": "upsert_customer",
            "input": {"external_id": "shop-1", "payload": {"companyName": "Customer 00001", "entityId": "SHOP1", "email": "customer1@example.test"}},
        }
        with sync.store() as store:
            assert store.cursor("customers") is None and store.mapped_rows("customers") == [] and store.runs() == []

    def test_dry_run_after_a_change_shows_only_the_update(self, sync: Sync) -> None:
        sync.write()
        sync.run()
        rename(sync, 9, "Nine plc")
        writes = sync.ns_writes()
        sync.run(dry_run=True)
        assert [(w["action"], w["source_id"], w["dest_id"] is not None) for w in sync.reporter.writes] == [("update", "9", True)]
        assert sync.ns_writes() == writes


class TestDeadLetters:
    def test_a_rejected_record_is_dead_lettered_the_others_written_and_it_is_retried_next_run(self, sync: Sync) -> None:
        sync.write()
        sync.netsuite.faults.add("status", status=400, count=1, path_prefix="/services/rest/record/v1/customer/eid:shop-4", detail="Invalid field value")
        first = sync.run()
        assert first.status == "failed_records"
        assert first.counts["customers"] == {"read": 40, "created": 39, "failed": 1}
        with sync.store() as store:
            (letter,) = store.dead_letters()
            assert letter.source_id == "4" and letter.attempts == 1
            assert letter.reason.startswith("record 4: upsert_customer was rejected:")
            assert letter.record["email"] == "customer4@example.test"
            assert store.cursor("customers") is not None  # the cursor moved on: the record waits in the dead-letter store
        second = sync.run()
        assert second.status == "ok"
        assert second.counts["customers"] == {"retried": 1, "created": 1}
        assert sync.ns_count() == 40
        with sync.store() as store:
            assert store.dead_letters() == []

    def test_a_mapping_problem_is_dead_lettered_with_record_and_field(self, sync: Sync) -> None:
        flow = customer_flow()
        flow["mapping"]["creditLimit"] = {"from": "country", "map": {"DE": 1000, "FR": 2000, "GB": 3000, "US": 4000}, "type": "number"}
        sync.write([flow])
        run = sync.run()
        letters = {d.source_id: d.reason for d in sync.store().dead_letters()}
        nl = [c["id"] for c in sync.shop.api.data.customers.values() if c["country"] == "NL"]
        assert sorted(letters, key=int) == [str(i) for i in nl]
        assert letters[str(nl[0])] == (
            f"record {nl[0]}: field creditLimit: value 'NL' (from country) is not in the value map (known: 'DE', 'FR', 'GB', 'US'); "
            "add it to `map` or set a `default`"
        )
        assert run.counts["customers"]["failed"] == len(nl)
        # the fix: a default; the next run retries the dead letters and clears them
        flow["mapping"]["creditLimit"]["default"] = 500
        sync.write([flow])
        again = sync.run()
        assert again.status == "ok" and again.counts["customers"]["retried"] == len(nl)
        assert sync.store().dead_letters() == []
        assert sync.ns_count() == 40

    def test_an_api_failure_stops_the_run_and_keeps_the_cursor(self, sync: Sync) -> None:
        sync.write(destination={"connector": "netsuite", "config": sync.ns_config(token_secret="not-the-secret")})
        run = sync.run()
        assert run.status == "api_error"
        assert "INVALID_LOGIN" in run.errors[0] or "Invalid login" in run.errors[0]
        with sync.store() as store:
            assert store.cursor("customers") is None
            assert store.runs()[0].status == "api_error"


class TestLookups:
    def test_lookups_are_read_once_per_run(self, sync: Sync) -> None:
        flow = customer_flow()
        flow["mapping"]["subsidiary.id"] = {
            "template": "{{ 'Acme UK' if record.country == 'GB' else 'Acme US' }}",
            "lookup": {"stream": "destination.subsidiaries", "key": "name", "value": "id"},
        }
        sync.write([flow])
        sync.netsuite.stats()  # warm
        run = sync.run()
        assert run.status == "ok", run.errors
        subsidiary_reads = [r for r in sync.netsuite.stats(recent=500)["recent"] if r["route"] == "suiteql"]
        # one SuiteQL page for the subsidiaries; the shop is read over its own API
        assert len(subsidiary_reads) == 1
        gb = next(c for c in sync.shop.api.data.customers.values() if c["country"] == "GB")
        assert sync.ns_customer(f"shop-{gb['id']}")["subsidiary"] == "3"


class TestDeletes:
    def inactivating(self) -> dict:
        return customer_flow(delete={"policy": "inactivate", "detect": "missing", "max_share": 0.2, "inactivate_mapping": {"isInactive": {"const": True}}})

    def test_missing_records_are_inactivated_on_a_full_read(self, sync: Sync) -> None:
        sync.write([self.inactivating()])
        sync.run()
        with sync.shop.api.data.lock:
            del sync.shop.api.data.customers[12]
        incremental = sync.run()
        assert incremental.counts["customers"].get("deleted", 0) == 0  # an incremental read cannot tell
        full = sync.run(full_refresh=True)
        assert full.counts["customers"]["deleted"] == 1
        assert sync.ns_customer("shop-12")["isinactive"] == "T"
        assert sync.ns_customer("shop-13")["isinactive"] == "F"
        assert sync.run(full_refresh=True).counts["customers"].get("deleted", 0) == 0

    def test_the_breaker_stops_a_mass_delete(self, sync: Sync) -> None:
        sync.write([self.inactivating()])
        sync.run()
        with sync.shop.api.data.lock:
            for customer_id in range(1, 12):  # 11 of 40 > 20 %
                del sync.shop.api.data.customers[customer_id]
        writes = sync.ns_writes()
        run = sync.run(full_refresh=True)
        assert run.status == "breaker"
        assert "would inactivate 11 of its 40 mapped records" in run.errors[0]
        assert sync.ns_writes() == writes
        assert sync.ns_count("isinactive = 'T'") == 0

    def test_the_breaker_holds_until_a_run_passes_it_or_the_deletions_are_accepted(self, sync: Sync) -> None:
        sync.write([self.inactivating()])
        sync.run()
        with sync.shop.api.data.lock:
            for customer_id in range(1, 12):
                del sync.shop.api.data.customers[customer_id]
        assert sync.run(full_refresh=True).status == "breaker"
        with sync.store() as store:
            assert store.cursor("customers:breaker")["would_delete"] == 11  # type: ignore[index]
        # the next incremental run reads in full again instead of reporting ok
        again = sync.run()
        assert again.status == "breaker" and sync.ns_count("isinactive = 'T'") == 0
        accepted = sync.run(accept_deletes=True)
        assert accepted.status == "ok" and accepted.counts["customers"]["deleted"] == 11
        assert sync.ns_count("isinactive = 'T'") == 11
        with sync.store() as store:
            assert store.cursor("customers:breaker") is None
        assert sync.run().status == "ok"

    def test_a_breaker_that_no_longer_trips_is_released(self, sync: Sync) -> None:
        sync.write([self.inactivating()])
        sync.run()
        removed = {i: sync.shop.api.data.customers[i] for i in range(1, 12)}
        with sync.shop.api.data.lock:
            for customer_id in removed:
                del sync.shop.api.data.customers[customer_id]
        assert sync.run(full_refresh=True).status == "breaker"
        with sync.shop.api.data.lock:  # the read side was wrong (a filter hid them): they are back
            sync.shop.api.data.customers.update(removed)
        passed = sync.run()
        assert passed.status == "ok" and passed.counts["customers"].get("deleted", 0) == 0
        with sync.store() as store:
            assert store.cursor("customers:breaker") is None


class TestConflictsAndEchoes:
    def test_fields_owned_by_the_other_side_are_only_written_on_create(self, sync: Sync) -> None:
        flow = customer_flow(conflict={"policy": "owner", "owners": {"email": "netsuite"}})
        flow["match"]["lookup"] = {"stream": "customers", "key": "externalid", "id": "id"}
        sync.write([flow])
        sync.run()
        with sync.shop.api.data.lock:
            sync.shop.api.data.customers[2]["email"] = "changed@example.test"
        rename(sync, 2, "Two GmbH")
        sync.run()
        customer = sync.ns_customer("shop-2")
        assert customer["companyname"] == "Two GmbH"
        assert customer["email"] == "customer2@example.test"

    def test_an_upsert_that_would_overwrite_the_other_sides_fields_needs_a_lookup(self, sync: Sync) -> None:
        sync.write([customer_flow(conflict={"policy": "owner", "owners": {"email": "netsuite"}})])
        with pytest.raises(SpecError) as caught:
            sync.load()
        (problem,) = caught.value.problems
        assert "flows[0].match: to.operation 'upsert_customer' (upsert) can write onto a destination record that already exists" in problem
        assert "gives email to the other side: add match.lookup" in problem

    def test_our_own_write_is_not_echoed_back(self, sync: Sync) -> None:
        back = {
            "name": "customers-back",
            "from": {"side": "destination", "stream": "customers", "modified": "lastmodifieddate"},
            "to": {"side": "source", "operation": "create_customer", "update": "update_customer", "id": "id"},
            "match": {"external_id": "ns-{{ record.id }}"},
            "filter": "{{ record.externalid is defined and record.externalid.startswith('shop-') }}",
            "mapping": {"name": "companyname"},
        }
        sync.write([customer_flow(), back], direction="bidirectional")
        first = sync.run()
        assert first.status == "ok", first.errors
        assert first.counts["customers"]["created"] == 40
        assert first.counts["customers-back"]["echo"] == 40
        assert len(sync.shop.api.data.customers) == 40
        # a change made in NetSuite is not an echo: it comes back to the shop
        sync.netsuite.advance_time(5)
        ns_id = sync.ns_customer("shop-6")["id"]
        import requests

        requests.patch(f"{sync.netsuite.url}/_emulator/records/customer/{ns_id}", json={"companyName": "Six (edited in NetSuite)"}, timeout=10).raise_for_status()
        second = sync.run()
        assert second.status == "ok", second.errors
        assert sync.shop.api.data.customers[6]["name"] == "Six (edited in NetSuite)"
        assert len(sync.shop.api.data.customers) == 40
        assert second.counts["customers-back"]["updated"] == 1
        # ... and the shop's change that our write caused is not sent back to NetSuite
        writes = sync.ns_writes()
        third = sync.run()
        assert third.counts["customers"] == {"read": 1, "echo": 1}
        assert sync.ns_writes() == writes


class TestNewestWins:
    def test_the_later_change_wins_when_both_sides_changed(self, sync: Sync) -> None:
        import requests

        back = {
            "name": "customers-back",
            "from": {"side": "destination", "stream": "customers", "modified": "lastmodifieddate"},
            "to": {"side": "source", "operation": "create_customer", "update": "update_customer", "id": "id"},
            "match": {"external_id": "ns-{{ record.id }}"},
            "filter": "{{ record.externalid is defined and record.externalid.startswith('shop-') }}",
            "mapping": {"name": "companyname"},
        }
        forward = customer_flow(from_={"stream": "customers"}, conflict={"policy": "newest_wins"})
        forward["from"] = forward.pop("from_")
        sync.write([forward, back], direction="bidirectional")
        assert sync.run().status == "ok"
        # the shop changed first (its updated_at is older), then NetSuite: NetSuite's change wins
        with sync.shop.api.data.lock:
            sync.shop.api.data.customers[8].update(name="Eight (shop)", updated_at="2025-06-01T00:00:00Z")
        sync.netsuite.advance_time(5)
        ns_id = sync.ns_customer("shop-8")["id"]
        requests.patch(f"{sync.netsuite.url}/_emulator/records/customer/{ns_id}", json={"companyName": "Eight (NetSuite)"}, timeout=10).raise_for_status()
        run = sync.run()
        assert run.status == "ok", run.errors
        assert run.counts["customers"]["conflict"] == 1
        assert sync.ns_customer("shop-8")["companyname"] == "Eight (NetSuite)"
        assert sync.shop.api.data.customers[8]["name"] == "Eight (NetSuite)"
