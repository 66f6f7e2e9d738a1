"""NetSuite customers → HubSpot companies through the batch upsert (`upsert_companies`, 100 per request):
outcomes per record, 207 partial failures dead-lettered with HubSpot's reason and retried, the ID map
filled from the batch results. Both emulators on loopback, the state in a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sync_batch_support import CrmSync, customers_to_companies

from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

CUSTOMERS = 250  # three requests: 100, 100, 50


@pytest.fixture
def hubspot() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(HubSpotSettings(companies=0, contacts=0, deals=0)) as emulator:
        yield emulator


@pytest.fixture
def netsuite() -> Iterator[NetSuiteEmulator]:
    with NetSuiteEmulator(EmulatorSettings(customers=CUSTOMERS, items=1, sales_orders=0, invoices=0)) as emulator:
        yield emulator


@pytest.fixture
def sync(tmp_path: Path, hubspot: HubSpotEmulator, netsuite: NetSuiteEmulator, registry: Registry) -> CrmSync:
    sync = CrmSync(tmp_path, hubspot, netsuite, registry)
    sync.write([customers_to_companies()], direction="netsuite->crm")
    return sync


def customers(sync: CrmSync) -> dict[str, dict]:
    return {str(r["id"]): r for r in sync.suiteql("SELECT id, entityid, companyname, creditlimit FROM customer ORDER BY id")}


def by_ns_id(sync: CrmSync) -> dict[str, dict]:
    companies = [c for c in sync.companies() if c.get("netsuite_customer_id")]
    keyed = {c["netsuite_customer_id"]: c for c in companies}
    assert len(keyed) == len(companies), "two companies for one NetSuite customer"
    return keyed


def plant_clash(sync: CrmSync, entity_id: str) -> str:
    """A company already holding `entity_id` in the unique netsuite_entity_id: that customer's upsert clashes."""
    planted = sync.hubspot.insert("companies", {"name": f"Owner of {entity_id}", "netsuite_entity_id": entity_id})
    return str(planted["id"])


class TestBatches:
    def test_every_customer_becomes_a_company_in_batches_of_100_and_the_id_map_holds_hubspot_ids(self, sync: CrmSync) -> None:
        seeded = customers(sync)
        assert len(seeded) == CUSTOMERS
        run = sync.run()
        assert run.status == "ok", run.errors
        assert run.counts["customers-to-companies"] == {"read": CUSTOMERS, "created": CUSTOMERS}
        assert sync.batch_upserts() == 3  # 250 records: 100 + 100 + 50, one request each
        companies = by_ns_id(sync)
        assert sorted(companies) == sorted(seeded)
        for ns_id, row in seeded.items():
            company = companies[ns_id]
            assert company["name"] == (row.get("companyname") or row["entityid"])  # SuiteQL leaves out nulls
            assert company["netsuite_entity_id"] == row["entityid"]
            assert float(company["netsuite_credit_limit"]) == float(row.get("creditlimit") or 0)
        with sync.store() as store:
            rows = {r.source_id: r for r in store.mapped_rows("customers-to-companies")}
            assert store.pending("customers-to-companies") == {} and store.dead_letters() == []
        assert sorted(rows) == sorted(seeded)
        for ns_id, row in rows.items():
            assert row.dest_id == companies[ns_id]["id"]  # read from the batch results
            assert row.external_id == ns_id and row.hash

    def test_a_second_run_sends_no_batch_and_a_change_sends_only_that_record(self, sync: CrmSync) -> None:
        assert sync.run().status == "ok"
        assert sync.batch_upserts() == 3
        again = sync.run(full_refresh=True)
        assert again.counts["customers-to-companies"] == {"read": CUSTOMERS, "unchanged": CUSTOMERS}
        assert sync.batch_upserts() == 3
        ns_id = next(iter(customers(sync)))
        sync.netsuite.advance_time(5)
        response = requests.patch(f"{sync.netsuite.url}/_emulator/records/customer/{ns_id}", json={"companyName": "Renamed Ltd"}, timeout=10)
        response.raise_for_status()
        changed = sync.run()
        assert changed.counts["customers-to-companies"].get("updated") == 1, changed.counts
        assert sync.batch_upserts() == 4
        companies = by_ns_id(sync)
        assert companies[ns_id]["name"] == "Renamed Ltd" and len(companies) == CUSTOMERS


class TestPartialFailure:
    def test_a_207_splits_into_successes_and_dead_letters_with_hubspots_reason_and_a_rerun_retries_them(self, sync: CrmSync) -> None:
        seeded = customers(sync)
        ids = list(seeded)
        # two clashes in the first batch, one in the last: each rejection must carry its own reason
        rejected = {ids[4]: None, ids[7]: None, ids[230]: None}
        sync.ensure_properties()
        for ns_id in rejected:
            rejected[ns_id] = plant_clash(sync, seeded[ns_id]["entityid"])

        first = sync.run()
        assert first.status == "failed_records"
        assert first.counts["customers-to-companies"] == {"read": CUSTOMERS, "created": CUSTOMERS - 3, "failed": 3}
        assert sync.hubspot.stats.snapshot()["by_status"].get("207") == 2  # the first and the last batch
        companies = by_ns_id(sync)
        assert sorted(companies) == sorted(set(ids) - set(rejected))
        with sync.store() as store:
            letters = {d.source_id: d for d in store.dead_letters("customers-to-companies")}
            mapped = {r.source_id for r in store.mapped_rows("customers-to-companies")}
            assert store.pending("customers-to-companies") == {}
            assert store.cursor("customers-to-companies") is not None  # the rejected records wait as dead letters
        assert sorted(letters) == sorted(rejected)
        for ns_id, owner in rejected.items():
            reason = letters[ns_id].reason
            assert reason.startswith(f"record {ns_id}: upsert_companies rejected it:"), reason
            assert f"{seeded[ns_id]['entityid']} already has that value for unique property netsuite_entity_id on company {owner}" in reason
            assert not [other for other in rejected.values() if other != owner and f"company {other}" in reason]  # its own reason only
            assert letters[ns_id].record["entityid"] == seeded[ns_id]["entityid"]
        assert mapped == set(ids) - set(rejected)

        # still clashing: retried, rejected again, counted as a second attempt; nothing else is sent again
        upserts = sync.batch_upserts()
        second = sync.run()
        assert second.counts["customers-to-companies"] == {"retried": 3, "failed": 3}
        assert sync.batch_upserts() == upserts + 1  # the three retries in one request
        with sync.store() as store:
            assert {d.source_id: d.attempts for d in store.dead_letters()} == dict.fromkeys(rejected, 2)

        # the clash resolved on the HubSpot side: the retry succeeds and the letters are cleared
        for owner in rejected.values():
            response = requests.patch(
                f"{sync.hubspot.url}/crm/v3/objects/companies/{owner}", json={"properties": {"netsuite_entity_id": ""}},
                headers={"Authorization": f"Bearer {sync.hubspot.token}"}, timeout=10,
            )  # fmt: skip
            response.raise_for_status()
        third = sync.run()
        assert third.status == "ok", third.errors
        assert third.counts["customers-to-companies"] == {"retried": 3, "created": 3}
        companies = by_ns_id(sync)
        assert sorted(companies) == sorted(ids)
        assert len(sync.companies()) == CUSTOMERS + 3  # the planted owners, and no duplicate
        with sync.store() as store:
            assert store.dead_letters() == []
            rows = {r.source_id: r.dest_id for r in store.mapped_rows("customers-to-companies")}
        assert rows == {ns_id: company["id"] for ns_id, company in companies.items()}

    def test_a_batch_the_api_refuses_for_a_while_is_retried_and_nothing_is_dead_lettered(self, sync: CrmSync) -> None:
        sync.hubspot.faults.add(kind="status", status=503, count=1, path_prefix="/crm/v3/objects/companies/batch/upsert")
        run = sync.run()
        assert run.status == "ok", run.errors
        assert run.counts["customers-to-companies"] == {"read": CUSTOMERS, "created": CUSTOMERS}
        assert len(by_ns_id(sync)) == CUSTOMERS
        with sync.store() as store:
            assert store.dead_letters() == []


class TestWholeBatchRefused:
    def test_a_batch_refused_for_one_bad_value_is_split_until_only_that_record_is_dead_lettered(self, sync: CrmSync) -> None:
        seeded = customers(sync)
        bad = list(seeded)[17]
        flow = customers_to_companies()
        # one record carries a value HubSpot refuses for a number property: the whole request gets a 400
        flow["mapping"]["annualrevenue"] = {"template": "{{ 'lots' if record.id == '" + bad + "' else 1000 }}"}
        sync.write([flow], direction="netsuite->crm")
        run = sync.run()
        assert run.counts["customers-to-companies"] == {"read": CUSTOMERS, "created": CUSTOMERS - 1, "failed": 1}, run.counts
        with sync.store() as store:
            letters = store.dead_letters("customers-to-companies")
            mapped = {r.source_id for r in store.mapped_rows("customers-to-companies")}
        assert [letter.source_id for letter in letters] == [bad]
        assert "lots was not a valid number" in letters[0].reason
        assert sorted(by_ns_id(sync)) == sorted(set(seeded) - {bad}) and mapped == set(seeded) - {bad}
        # halving the refused 100 down to the one record costs a handful of requests, not one per record
        assert sync.batch_upserts() <= 3 + 2 * 7
