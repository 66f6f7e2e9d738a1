"""kill -9 at random moments through salesforce_accounts_customers.yaml: exactly once on both sides, write-backs
included, as test_kill_write_backs.py does for HubSpot.

Salesforce Accounts of a customer type become NetSuite customers and get their NetSuite id written back
(`NetSuite_Id__c`); NetSuite customers become Accounts. The run is killed at random moments while both
emulators answer slowly, then run to the end. Every effect must be there exactly once: one NetSuite customer
per customer Account, one Account per NetSuite customer, and the write-back on every Account, so that an edit
in NetSuite afterwards updates the existing Account instead of creating a second one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from both_ways_support import assert_paired_exactly
from kill_support import (
    assert_kills_reported,
    assert_state_settled,
    kill_runs_at_random,
    run_after_edit,
    run_to_the_end,
)
from salesforce_flow_support import SalesforceFinance, salesforce_finance

from connector_core.plugins import Registry
from connectors.crm.salesforce_emulator import SalesforceSettings
from connectors.netsuite.emulator import EmulatorSettings

TO_NETSUITE, TO_SALESFORCE = "accounts-to-customers", "customers-to-accounts"

pytestmark = pytest.mark.slow


@pytest.fixture
def sync(tmp_path: Path, registry: Registry) -> Iterator[SalesforceFinance]:
    salesforce = SalesforceSettings(accounts=600, contacts=0, opportunities=0, daily_api_limit=1_000_000)
    netsuite = EmulatorSettings(customers=50, items=3, sales_orders=0, invoices=0)
    yield from salesforce_finance(
        "salesforce_accounts_customers.yaml", tmp_path, registry, salesforce, netsuite
    )


def customer_accounts(sync: SalesforceFinance) -> set[str]:
    return {
        aid for aid, a in sync.records("Account").items() if str(a.get("Type") or "").startswith("Customer")
    }


def assert_exact_both_ways(
    sync: SalesforceFinance, sf_customers: set[str], seeded_ns: set[str], seed: int
) -> dict[str, str]:
    """One NetSuite customer per customer Account (`sf-<Id>`), none twice; every customer Account carries its
    NetSuite id (the write-back); one Account per NetSuite customer. Returns {Account Id: NetSuite id}."""
    rows = sync.suiteql("SELECT id, externalid FROM customer WHERE externalid LIKE 'sf-%'")
    return assert_paired_exactly(
        rows,
        "sf-",
        sync.records("Account"),
        "NetSuite_Id__c",
        sf_customers,
        seeded_ns,
        seed,
        one="an Account",
        many="Accounts",
    )


@pytest.mark.timeout(600)
def test_write_backs_and_both_sides_are_exact_after_random_kills(sync: SalesforceFinance) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    sf_customers = customer_accounts(sync)
    seeded_ns = {str(r["id"]) for r in sync.suiteql("SELECT id FROM customer WHERE isinactive = 'F'")}
    assert len(sf_customers) > 100 and len(seeded_ns) > 40
    sync.netsuite.faults.add("latency", seconds=0.03, path_prefix="/services/rest/record")
    sync.salesforce.faults.add("latency", seconds=0.05, path_prefix="/services/data/")

    def new_work(round_: int) -> None:
        # new work on both sides each round, so that every run has something to be killed in
        sf_customers.update(
            sync.create(
                "Account",
                Name=f"Kill round {round_} #{n}",
                Type="Customer - Direct",
                BillingCountry="United States",
            )
            for n in range(40)
        )
        for ns_id in rng.sample(
            sorted(seeded_ns), 10
        ):  # NetSuite owns the subsidiary: each change reaches the Account
            requests.patch(
                f"{sync.netsuite.url}/_emulator/records/customer/{ns_id}",
                json={"subsidiary": {"id": rng.choice(["2", "3"])}},
                timeout=10,
            ).raise_for_status()

    owed_at_kills = kill_runs_at_random(sync, rng, seed, new_work)
    assert_kills_reported(sync, seed, owed_at_kills)

    run_to_the_end(sync, sync.salesforce.faults, seed)

    ns_id_of = assert_exact_both_ways(sync, sf_customers, seeded_ns, seed)
    assert_state_settled(sync, TO_NETSUITE)

    # an edit in NetSuite of a customer that came from Salesforce updates its Account, never a new one
    edited = sorted(ns_id_of.items())[:5]
    before = len(sync.records("Account"))
    for _, ns_id in edited:
        sync.edit_customer(ns_id, subsidiary={"id": "3"})
    run_after_edit(sync)
    accounts = sync.records("Account")
    assert len(accounts) == before, f"seed {seed}: an edit created Accounts"
    assert all(accounts[aid]["NetSuite_Subsidiary_Id__c"] == "3" for aid, _ in edited)
