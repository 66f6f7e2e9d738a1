"""salesforce_accounts_customers.yaml, `customers-to-accounts`: a customer already paired with an Account updates it by its
Id (`to.batch.update: update_records`), whatever the Account's NetSuite_Id__c holds now. Before, every customer went
through the upsert by NetSuite_Id__c, so a key a Salesforce user cleared or edited made a second Account. The
Salesforce and NetSuite emulators on loopback, state in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from salesforce_flow_support import SalesforceFinance, salesforce_finance

from connector_core.plugins import Registry
from connectors.crm.salesforce_emulator import SalesforceSettings
from connectors.netsuite.emulator import EmulatorSettings

TO_SF = "customers-to-accounts"


@pytest.fixture
def sync(tmp_path: Path, registry: Registry) -> Iterator[SalesforceFinance]:
    salesforce = SalesforceSettings(accounts=10, contacts=0, opportunities=0)
    netsuite = EmulatorSettings(customers=12, items=1, sales_orders=0, invoices=0)
    yield from salesforce_finance(
        "salesforce_accounts_customers.yaml", tmp_path, registry, salesforce, netsuite
    )


def accounts_of(sync: SalesforceFinance, ns_id: str) -> list[dict[str, Any]]:
    """The live Accounts made from NetSuite customer `ns_id` (by name: a cleared key no longer says which)."""
    row = sync.customer(ns_id)
    name = row.get("companyname") or row["entityid"]
    return [a for a in sync.records("Account").values() if a["Name"] == name]


def paired_accounts(sync: SalesforceFinance) -> dict[str, str]:
    """NetSuite id → Account Id, from the ID map of the flow that made the Accounts."""
    with sync.store() as store:
        return {row.source_id: str(row.dest_id) for row in store.mapped_rows(TO_SF) if not row.deleted}


def move_subsidiary(sync: SalesforceFinance, ns_id: str) -> str:
    """Move the customer to the seed's other subsidiary (NetSuite owns it) and return its id."""
    moved = "2" if str(sync.customer(ns_id)["subsidiary"]) == "3" else "3"
    sync.edit_customer(ns_id, subsidiary={"id": moved})
    return moved


def composite_writes(sync: SalesforceFinance) -> dict[str, int]:
    routes = sync.salesforce.stats.snapshot(0)["by_route"]
    return {route: n for route, n in routes.items() if route.startswith("composite.")}


def first_run(sync: SalesforceFinance) -> dict[str, str]:
    run = sync.run()
    assert run.status == "ok", run.errors
    pairs = paired_accounts(sync)
    assert len(pairs) == run.counts[TO_SF]["created"] > 2
    return pairs


class TestAKeyChangedInSalesforce:
    @pytest.mark.parametrize("key", [None, "someone-typed-this"], ids=["cleared", "edited"])
    def test_the_paired_account_is_updated_by_id_and_gets_its_key_back(
        self, sync: SalesforceFinance, key: str | None
    ) -> None:
        pairs = first_run(sync)
        ns_id, account_id = next(iter(pairs.items()))
        accounts = len(sync.records("Account"))
        sync.edit("Account", account_id, NetSuite_Id__c=key)
        assert sync.records("Account")[account_id]["NetSuite_Id__c"] == key
        moved = move_subsidiary(sync, ns_id)
        sync.salesforce.stats.reset()

        run = sync.run()
        assert run.status == "ok", (run.errors, sync.reporter.messages)
        assert run.counts[TO_SF].get("updated") == 1 and not run.counts[TO_SF].get("created"), run.counts
        assert len(sync.records("Account")) == accounts  # no second Account
        (account,) = accounts_of(sync, ns_id)
        assert account["Id"] == account_id
        assert account["NetSuite_Subsidiary_Id__c"] == moved  # the change arrived
        assert account["NetSuite_Id__c"] == ns_id  # the key is put back: the mapping carries it
        assert composite_writes(sync) == {"composite.update": 1}  # by Id, not through the upsert
        assert paired_accounts(sync)[ns_id] == account_id

        quiet = sync.run()
        assert (
            quiet.status == "ok"
            and not quiet.counts[TO_SF].get("created")
            and not quiet.counts[TO_SF].get("updated")
        ), quiet.counts


class TestAPairedAccountDeleted:
    def test_its_customer_is_dead_lettered_with_salesforces_reason_and_not_recreated_while_the_others_update(
        self, sync: SalesforceFinance
    ) -> None:
        pairs = first_run(sync)
        (gone_ns, gone_account), (kept_ns, kept_account) = list(pairs.items())[:2]
        sync.sf("DELETE", f"/sobjects/Account/{gone_account}")
        accounts = len(sync.records("Account"))
        moved = {ns_id: move_subsidiary(sync, ns_id) for ns_id in (gone_ns, kept_ns)}
        sync.salesforce.stats.reset()

        run = sync.run()
        assert run.status == "failed_records", run.errors
        assert run.counts[TO_SF].get("updated") == 1 and run.counts[TO_SF].get("failed") == 1, run.counts
        assert not run.counts[TO_SF].get("created")
        assert composite_writes(sync) == {
            "composite.update": 1
        }  # both in one request; one refused, one written
        assert len(sync.records("Account")) == accounts  # the deleted one is not made again
        assert sync.records("Account")[kept_account]["NetSuite_Subsidiary_Id__c"] == moved[kept_ns]
        with sync.store() as store:
            (letter,) = store.dead_letters(TO_SF)
            assert store.pending(TO_SF) == {}
        assert letter.source_id == gone_ns
        assert (
            letter.reason
            == f"record {gone_ns}: update_records rejected it: ENTITY_IS_DELETED: entity is deleted"
        ), letter.reason

        again = sync.run()  # retried each run, refused again, still no new Account
        assert again.counts[TO_SF].get("retried") == 1 and again.counts[TO_SF].get("failed") == 1, (
            again.counts
        )
        assert len(sync.records("Account")) == accounts
