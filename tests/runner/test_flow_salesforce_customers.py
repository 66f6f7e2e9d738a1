"""connector_core/cli/examples/connections/salesforce_accounts_customers.yaml end to end: Salesforce Accounts <-> NetSuite
customers, checked on both sides (the Salesforce and NetSuite emulators on loopback, state in tmp_path)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from salesforce_flow_support import SalesforceFinance, salesforce_finance

from connector_core.plugins import Registry
from connectors.crm.salesforce_emulator import SalesforceSettings
from connectors.netsuite.emulator import EmulatorSettings

TO_NS, TO_SF = "accounts-to-customers", "customers-to-accounts"
SUBSIDIARY = {"United Kingdom": "Acme UK", "Ireland": "Acme UK"}  # the file's value map; others: Acme US


@pytest.fixture
def sync(tmp_path: Path, registry: Registry) -> Iterator[SalesforceFinance]:
    salesforce = SalesforceSettings(accounts=30, contacts=0, opportunities=0)
    netsuite = EmulatorSettings(customers=20, items=3, sales_orders=0, invoices=0)
    yield from salesforce_finance(
        "salesforce_accounts_customers.yaml", tmp_path, registry, salesforce, netsuite
    )


def is_customer(account: dict[str, Any]) -> bool:
    return str(account.get("Type") or "").startswith("Customer")


def from_salesforce(sync: SalesforceFinance) -> dict[str, dict[str, Any]]:
    """NetSuite customers created from Salesforce, by Account Id."""
    return {
        r["externalid"][3:]: r for r in sync.suiteql("SELECT * FROM customer WHERE externalid LIKE 'sf-%'")
    }


def ns_count(sync: SalesforceFinance) -> int:
    return int(sync.suiteql("SELECT COUNT(*) AS n FROM customer")[0]["n"])


class TestFirstRun:
    def test_customer_accounts_become_customers_with_subsidiary_and_the_id_written_back(
        self, sync: SalesforceFinance
    ) -> None:
        accounts = sync.records("Account")
        customers = {aid: a for aid, a in accounts.items() if is_customer(a)}
        assert 0 < len(customers) < len(accounts), "the seed has customer and non-customer Accounts"
        run = sync.run()
        assert run.status == "ok", run.errors
        assert run.counts[TO_NS] == {"read": 30, "created": len(customers), "skipped": 30 - len(customers)}

        created = from_salesforce(sync)
        assert sorted(created) == sorted(customers)
        subsidiaries = {s["name"]: str(s["id"]) for s in sync.suiteql("SELECT id, name FROM subsidiary")}
        after = sync.records("Account")
        for account_id, account in customers.items():
            row = created[account_id]
            assert row["companyname"] == account["Name"] and row["entityid"] == f"SF{account_id}"
            assert (
                str(row["subsidiary"]) == subsidiaries[SUBSIDIARY.get(account["BillingCountry"], "Acme US")]
            )
            assert after[account_id]["NetSuite_Id__c"] == str(row["id"])  # the write-back
        assert {a["BillingCountry"] for a in customers.values()} & set(SUBSIDIARY), (
            "the seed has UK customers"
        )

    def test_netsuite_customers_become_accounts_keyed_by_netsuite_id(self, sync: SalesforceFinance) -> None:
        seeded = {str(r["id"]): r for r in sync.suiteql("SELECT * FROM customer WHERE isinactive = 'F'")}
        run = sync.run()
        assert run.status == "ok", run.errors
        by_ns_id = {
            a["NetSuite_Id__c"]: a for a in sync.records("Account").values() if a.get("NetSuite_Id__c")
        }
        for ns_id, row in seeded.items():
            account = by_ns_id[ns_id]
            assert account["Name"] == (row.get("companyname") or row["entityid"])
            assert account["Type"] == "Customer - Direct"
            assert account["NetSuite_Subsidiary_Id__c"] == str(row["subsidiary"])
        # the customers created from Salesforce are our own echo: not sent back as new Accounts
        assert run.counts[TO_SF]["echo"] == len(from_salesforce(sync))
        assert run.counts[TO_SF]["created"] == len(seeded)
        assert len(sync.records("Account")) == 30 + len(seeded)


class TestReruns:
    def test_a_second_run_writes_nothing_and_duplicates_nothing(self, sync: SalesforceFinance) -> None:
        assert sync.run().status == "ok"
        writes = (sync.sf_writes(), sync.ns_writes())
        accounts, customers = len(sync.records("Account")), ns_count(sync)
        again = sync.run()
        assert again.status == "ok", again.errors
        for counts in again.counts.values():
            assert not counts.get("created") and not counts.get("updated"), again.counts
        # the Accounts our write-backs and creates touched are read again, and recognised
        assert again.counts[TO_NS]["read"] == again.counts[TO_NS].get("echo", 0) + again.counts[TO_NS].get(
            "unchanged", 0
        )
        assert (sync.sf_writes(), sync.ns_writes()) == writes
        assert (len(sync.records("Account")), ns_count(sync)) == (accounts, customers)
        per_ns_id = Counter(
            a["NetSuite_Id__c"] for a in sync.records("Account").values() if a.get("NetSuite_Id__c")
        )
        assert [ns_id for ns_id, n in per_ns_id.items() if n > 1] == []
        assert sync.run().counts == {TO_NS: {}, TO_SF: {}}

    def test_each_side_writes_only_the_fields_it_owns_and_nothing_echoes(
        self, sync: SalesforceFinance
    ) -> None:
        sync.run()
        account_id, customer = next(iter(from_salesforce(sync).items()))
        ns_id = str(customer["id"])
        # sales renames the Account; finance edits the name and moves the customer in NetSuite
        sync.edit("Account", account_id, Name="Renamed In CRM Ltd", Phone="+44 20 0000 0000")
        sync.edit_customer(ns_id, companyName="Edited In NetSuite", subsidiary={"id": "3"})
        run = sync.run()
        assert run.status == "ok", (run.counts, sync.reporter.messages)
        assert run.counts[TO_NS]["updated"] == 1 and run.counts[TO_SF]["updated"] == 1
        row, account = sync.customer(ns_id), sync.records("Account")[account_id]
        assert (
            row["companyname"] == "Renamed In CRM Ltd" and row["phone"] == "+44 20 0000 0000"
        )  # the CRM owns them
        assert row["entityid"] == f"SF{account_id}" and str(row["subsidiary"]) == "3"  # NetSuite's, untouched
        assert account["Name"] == "Renamed In CRM Ltd"  # NetSuite's name edit does not overwrite the CRM's
        assert account["NetSuite_Subsidiary_Id__c"] == "3"  # NetSuite owns the subsidiary
        assert (
            sync.suiteql(f"SELECT COUNT(*) AS n FROM customer WHERE externalid = 'sf-{account_id}'")[0]["n"]
            == "1"
        )
        writes = (sync.sf_writes(), sync.ns_writes())
        quiet = sync.run()
        assert not any(c.get("created") or c.get("updated") for c in quiet.counts.values()), quiet.counts
        assert (sync.sf_writes(), sync.ns_writes()) == writes


class TestWriteBack:
    def test_a_refused_write_back_is_dead_lettered_and_retried_without_duplicates(
        self, sync: SalesforceFinance
    ) -> None:
        customers = [aid for aid, a in sync.records("Account").items() if is_customer(a)]
        # the write-backs go out as one sObject Collections request (PATCH /composite/sobjects): Salesforce refuses it
        sync.salesforce.faults.add(
            kind="status",
            status=400,
            count=1,
            method="PATCH",
            path_prefix="/services/data/v59.0/composite/sobjects",
        )
        first = sync.run()
        assert first.status == "failed_records", first.errors
        assert first.counts[TO_NS]["failed"] == len(customers)
        with sync.store() as store:
            letters = {letter.source_id: letter.reason for letter in store.dead_letters(TO_NS)}
        assert sorted(letters) == sorted(customers)
        assert all("write-back update_records failed" in reason for reason in letters.values())
        assert all(sync.records("Account")[aid]["NetSuite_Id__c"] is None for aid in customers)

        second = sync.run()
        assert second.status == "ok", (second.counts, sync.reporter.messages)
        assert second.counts[TO_NS]["retried"] == len(customers)
        created = from_salesforce(sync)
        assert sorted(created) == sorted(customers)  # the upsert by external id: no duplicate
        after = sync.records("Account")
        assert all(after[aid]["NetSuite_Id__c"] == str(created[aid]["id"]) for aid in customers)
        with sync.store() as store:
            assert store.dead_letters() == []


class TestCollections:
    def test_writes_and_write_backs_go_200_records_a_request(self, sync: SalesforceFinance) -> None:
        """Through sObject Collections, the first run's 20 upserts and every write-back take one request each way,
        not one per record (upsert_record and update_record, before, made one request per Account)."""
        customers = [aid for aid, a in sync.records("Account").items() if is_customer(a)]
        seeded = sync.suiteql("SELECT id FROM customer WHERE isinactive = 'F'")
        sync.salesforce.stats.reset()
        run = sync.run()
        assert run.status == "ok", run.errors
        assert run.counts[TO_SF]["created"] == len(seeded) and run.counts[TO_NS]["created"] == len(customers)
        routes = sync.salesforce.stats.snapshot(0)["by_route"]
        writes = {route: n for route, n in routes.items() if route.startswith(("sobjects.", "composite."))}
        assert set(writes) == {"composite.update", "composite.upsert"}, writes
        assert writes["composite.upsert"] == 1  # all the new Accounts in one request
        assert (
            writes["composite.update"] <= 2
        )  # the write-backs, drained while the last writes finish and once the read is over
