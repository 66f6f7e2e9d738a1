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
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from salesforce_flow_support import SalesforceFinance
from test_kill_write_backs import CLI, after_seconds, after_writes, run_killed_at, when_write_backs_are_owed

from connector_core.plugins import Registry
from connectors.crm.salesforce_emulator import SalesforceEmulator, SalesforceSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

KILLS = 12
TO_NETSUITE, TO_SALESFORCE = "accounts-to-customers", "customers-to-accounts"

pytestmark = pytest.mark.slow


@pytest.fixture
def sync(tmp_path: Path, registry: Registry) -> Iterator[SalesforceFinance]:
    with (
        SalesforceEmulator(SalesforceSettings(accounts=600, contacts=0, opportunities=0, daily_api_limit=1_000_000)) as salesforce,
        NetSuiteEmulator(EmulatorSettings(customers=50, items=3, sales_orders=0, invoices=0)) as netsuite,
    ):
        yield SalesforceFinance("salesforce_accounts_customers.yaml", tmp_path, salesforce, netsuite, registry)


def customer_accounts(sync: SalesforceFinance) -> set[str]:
    return {aid for aid, a in sync.records("Account").items() if str(a.get("Type") or "").startswith("Customer")}


def assert_exact_both_ways(sync: SalesforceFinance, sf_customers: set[str], seeded_ns: set[str], seed: int) -> dict[str, str]:
    """One NetSuite customer per customer Account (`sf-<Id>`), none twice; every customer Account carries its
    NetSuite id (the write-back); one Account per NetSuite customer. Returns {Account Id: NetSuite id}."""
    rows = sync.suiteql("SELECT id, externalid FROM customer WHERE externalid LIKE 'sf-%'")
    per_external_id = Counter(r["externalid"] for r in rows)
    assert [eid for eid, n in per_external_id.items() if n > 1] == [], f"seed {seed}: duplicate NetSuite customers"
    assert set(per_external_id) == {f"sf-{aid}" for aid in sf_customers}, f"seed {seed}: missing NetSuite customers"
    ns_id_of = {r["externalid"][3:]: str(r["id"]) for r in rows}
    accounts = sync.records("Account")
    lacking = [aid for aid in sf_customers if accounts[aid].get("NetSuite_Id__c") != ns_id_of[aid]]
    assert lacking == [], f"seed {seed}: {len(lacking)} Accounts lack their write-back"
    per_ns_id = Counter(a["NetSuite_Id__c"] for a in accounts.values() if a.get("NetSuite_Id__c"))
    assert [i for i, n in per_ns_id.items() if n > 1] == [], f"seed {seed}: duplicate Accounts"
    assert seeded_ns <= set(per_ns_id), f"seed {seed}: NetSuite customers without an Account"
    return ns_id_of


@pytest.mark.timeout(600)
def test_write_backs_and_both_sides_are_exact_after_random_kills(sync: SalesforceFinance) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    sf_customers = customer_accounts(sync)
    seeded_ns = {str(r["id"]) for r in sync.suiteql("SELECT id FROM customer WHERE isinactive = 'F'")}
    assert len(sf_customers) > 100 and len(seeded_ns) > 40
    sync.netsuite.faults.add("latency", seconds=0.03, path_prefix="/services/rest/record")
    sync.salesforce.faults.add("latency", seconds=0.05, path_prefix="/services/data/")

    kills = owed_at_kills = 0
    for round_ in range(KILLS * 3):
        if kills == KILLS:
            break
        # new work on both sides each round, so that every run has something to be killed in
        sf_customers |= {sync.create("Account", Name=f"Kill round {round_} #{n}", Type="Customer - Direct", BillingCountry="United States")
                         for n in range(40)}
        for ns_id in rng.sample(sorted(seeded_ns), 10):  # NetSuite owns the subsidiary: each change reaches the Account
            requests.patch(f"{sync.netsuite.url}/_emulator/records/customer/{ns_id}", json={"subsidiary": {"id": rng.choice(["2", "3"])}},
                           timeout=10).raise_for_status()
        # a third of the kills at a random time, a third at a random point of the write phase, a third as soon
        # as write-backs are owed (committed in the outbox, not yet sent)
        moment = [
            after_seconds(rng.uniform(0.5, 2.5)),
            after_writes(sync, rng.randrange(1, 45), rng.uniform(0, 0.3)),  # type: ignore[arg-type]
            when_write_backs_are_owed(sync),  # type: ignore[arg-type]
        ][round_ % 3]
        ended = run_killed_at(sync, moment)  # type: ignore[arg-type]
        if ended is None:
            kills += 1
            with sync.store() as store:
                owed_at_kills += bool(store.outbox())
        else:
            assert ended[0] in (0, 5), f"seed {seed}: a run ended with exit {ended[0]}: {ended[1][-2000:]}"
    assert kills == KILLS, f"seed {seed}: the runs finished before they could be killed {KILLS} times"
    shown = subprocess.run([*CLI, "status", str(sync.path), "--runs", "50"], cwd=sync.path.parent, capture_output=True, text=True, timeout=60)
    interrupted = [line for line in shown.stdout.splitlines() if ": interrupted " in line]
    assert interrupted and all(re.search(r"after \d+ writes?", line) for line in interrupted), shown.stdout[-3000:]
    assert any(not re.search(r"after 0 writes", line) for line in interrupted), f"seed {seed}: no kill landed after a commit"
    assert owed_at_kills >= 2, f"seed {seed}: only {owed_at_kills} kills left write-backs owed"

    sync.netsuite.faults.clear()
    sync.salesforce.faults.clear()
    for _ in range(2):
        finished = subprocess.run([*CLI, "run", str(sync.path)], cwd=sync.path.parent, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, f"seed {seed}: {finished.stderr[-2000:]}"

    ns_id_of = assert_exact_both_ways(sync, sf_customers, seeded_ns, seed)
    with sync.store() as store:
        assert store.outbox() == [] and store.dead_letters() == [] and store.pending(TO_NETSUITE) == {}
        statuses = Counter(r.status for r in store.runs(100))
        assert statuses["ok"] >= 2 and statuses["interrupted"] >= KILLS // 2 and statuses["running"] == 0, statuses

    # an edit in NetSuite of a customer that came from Salesforce updates its Account, never a new one
    edited = sorted(ns_id_of.items())[:5]
    before = len(sync.records("Account"))
    for _, ns_id in edited:
        sync.edit_customer(ns_id, subsidiary={"id": "3"})
    after_edit = subprocess.run([*CLI, "run", str(sync.path)], cwd=sync.path.parent, capture_output=True, text=True, timeout=120)
    assert after_edit.returncode == 0, after_edit.stderr[-2000:]
    accounts = sync.records("Account")
    assert len(accounts) == before, f"seed {seed}: an edit created Accounts"
    assert all(accounts[aid]["NetSuite_Subsidiary_Id__c"] == "3" for aid, _ in edited)
