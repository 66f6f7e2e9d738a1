"""connector_core/cli/examples/connections/customers_both_ways.yaml end to end: HubSpot companies <-> NetSuite customers,
checked on both sides (emulators on loopback, state in tmp_path)."""

from __future__ import annotations

from pathlib import Path

import pytest
from finance_support import Finance, hubspot, netsuite_ns  # noqa: F401

from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator
from connectors.netsuite.emulator import NetSuiteEmulator

SUBSIDIARY = {"United Kingdom": "Acme UK", "Ireland": "Acme UK"}  # the file's value map; others: Acme US


@pytest.fixture
def sync(tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry) -> Finance:  # noqa: F811
    return Finance("customers_both_ways.yaml", tmp_path, hubspot, netsuite_ns, registry)


def from_hubspot(sync: Finance) -> dict[str, dict]:
    """NetSuite customers created from HubSpot, by HubSpot id."""
    return {r["externalid"][4:]: r for r in sync.suiteql("SELECT * FROM customer WHERE externalid LIKE 'crm-9000%'")}


class TestFirstRun:
    def test_crm_customers_become_netsuite_customers_with_subsidiary_and_the_id_written_back(self, sync: Finance) -> None:
        companies = {c["id"]: c for c in sync.companies()}
        customers = {cid: c for cid, c in companies.items() if c["lifecyclestage"] == "customer"}
        run = sync.run()
        assert run.status == "ok", run.errors
        assert run.counts["companies-to-customers"] == {"read": 30, "created": len(customers), "skipped": 30 - len(customers)}

        created = from_hubspot(sync)
        assert sorted(created) == sorted(customers)
        subsidiaries = {s["name"]: str(s["id"]) for s in sync.suiteql("SELECT id, name FROM subsidiary")}
        after = {c["id"]: c for c in sync.companies()}
        for company_id, company in customers.items():
            row = created[company_id]
            assert row["companyname"] == company["name"] and row["entityid"] == f"HS{company_id}"
            assert str(row["subsidiary"]) == subsidiaries[SUBSIDIARY.get(company["country"], "Acme US")]
            # the write-back: the company carries its NetSuite internal id
            assert after[company_id]["netsuite_customer_id"] == str(row["id"])
        assert {c["country"] for c in customers.values()} & set(SUBSIDIARY), "the seed has UK/Irish customers"

    def test_netsuite_customers_become_companies_keyed_by_netsuite_customer_id(self, sync: Finance) -> None:
        seeded = {str(r["id"]): r for r in sync.suiteql("SELECT * FROM customer WHERE isinactive = 'F'")}
        run = sync.run()
        assert run.status == "ok", run.errors
        by_ns_id = {c["netsuite_customer_id"]: c for c in sync.companies() if c.get("netsuite_customer_id")}
        for ns_id, row in seeded.items():
            company = by_ns_id[ns_id]
            assert company["name"] == (row.get("companyname") or row["entityid"])
            assert company["lifecyclestage"] == "customer"
            assert float(company["netsuite_credit_limit"]) == float(row.get("creditlimit") or 0)
        # the customers created from HubSpot are our own echo: not sent back as new companies
        assert run.counts["customers-to-companies"]["echo"] == len(from_hubspot(sync))
        assert run.counts["customers-to-companies"]["created"] == len(seeded)
        assert len(sync.companies()) == 30 + len(seeded)


class TestReruns:
    def test_a_second_run_writes_nothing_on_either_side(self, sync: Finance) -> None:
        assert sync.run().status == "ok"
        hubspot_writes, ns_writes = sync.hubspot_writes(), sync.ns_writes()
        companies, customers = len(sync.companies()), sync.suiteql("SELECT COUNT(*) AS n FROM customer")[0]["n"]
        again = sync.run()
        assert again.status == "ok", again.errors
        for counts in again.counts.values():
            assert not counts.get("created") and not counts.get("updated"), again.counts
        assert (sync.hubspot_writes(), sync.ns_writes()) == (hubspot_writes, ns_writes)
        assert len(sync.companies()) == companies
        assert sync.suiteql("SELECT COUNT(*) AS n FROM customer")[0]["n"] == customers

    def test_each_side_writes_only_the_fields_it_owns_and_nothing_echoes(self, sync: Finance) -> None:
        sync.run()
        company_id, customer = next(iter(from_hubspot(sync).items()))
        ns_id = str(customer["id"])
        # the CRM renames the company; finance raises the credit limit and edits the name in NetSuite
        sync.edit_company(company_id, name="Renamed In CRM Ltd", phone="+44 20 0000 0000")
        sync.edit_customer(ns_id, creditLimit=25000, companyName="Edited In NetSuite")
        run = sync.run()
        assert run.status == "ok", (run.counts, sync.reporter.messages)
        assert run.counts["companies-to-customers"]["updated"] == 1
        assert run.counts["customers-to-companies"]["updated"] == 1
        row = sync.customer(ns_id)
        company = sync.company(company_id)
        assert row["companyname"] == "Renamed In CRM Ltd" and row["phone"] == "+44 20 0000 0000"  # the CRM owns them
        assert float(row["creditlimit"]) == 25000 and row["entityid"] == f"HS{company_id}"  # untouched by the CRM
        assert company["name"] == "Renamed In CRM Ltd"  # NetSuite's name edit does not overwrite the CRM's
        assert float(company["netsuite_credit_limit"]) == 25000  # NetSuite owns the credit limit
        assert sync.suiteql(f"SELECT COUNT(*) AS n FROM customer WHERE externalid = 'crm-{company_id}'")[0]["n"] == "1"
        # the writes just made are not carried back again
        writes = (sync.hubspot_writes(), sync.ns_writes())
        quiet = sync.run()
        assert quiet.counts["companies-to-customers"].get("echo", 0) >= 1
        assert (sync.hubspot_writes(), sync.ns_writes()) == writes


class TestWriteBack:
    def test_a_refused_write_back_is_dead_lettered_and_retried_without_duplicates(self, sync: Finance) -> None:
        sync.hubspot.faults.add(kind="status", status=400, count=1, path_prefix="/crm/v3/objects/companies/batch/update")
        first = sync.run()
        assert first.status == "failed_records"
        created = from_hubspot(sync)
        assert first.counts["companies-to-customers"]["failed"] == len(created)
        with sync.store() as store:
            letters = store.dead_letters("companies-to-customers")
            assert len(letters) == len(created)
            assert "write-back update_companies" in letters[0].reason
        assert not any(sync.company(cid).get("netsuite_customer_id") for cid in created)

        second = sync.run()
        assert second.status == "ok", (second.counts, sync.reporter.messages)
        assert second.counts["companies-to-customers"]["retried"] == len(created)
        assert from_hubspot(sync).keys() == created.keys()  # the upsert by external id: no duplicates
        for company_id, row in created.items():
            assert sync.company(company_id)["netsuite_customer_id"] == str(row["id"])
        with sync.store() as store:
            assert store.dead_letters() == []
