"""connector_core/cli/examples/connections/salesforce_revenue_to_accounts.yaml end to end: NetSuite revenue per customer and
month, summed per customer onto the Salesforce Account that carries its NetSuite_Id__c (paid revenue, open balance)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crm_flow_support import pay_first_open_invoice
from salesforce_flow_support import SalesforceFinance, salesforce_finance

from connector_core.plugins import Registry
from connectors.crm.salesforce_emulator import SalesforceSettings
from connectors.netsuite.emulator import EmulatorSettings

TOTALS = """
SELECT t.entity AS customer, SUM(t.foreigntotal) AS revenue, SUM(t.amountremaining) AS outstanding
FROM transaction t WHERE t.type = 'CustInvc' GROUP BY t.entity
"""


@pytest.fixture
def sync(tmp_path: Path, registry: Registry) -> Iterator[SalesforceFinance]:
    salesforce = SalesforceSettings(accounts=5, contacts=0, opportunities=0)
    netsuite = EmulatorSettings(customers=20, items=3, sales_orders=0, invoices=30)
    yield from salesforce_finance(
        "salesforce_revenue_to_accounts.yaml", tmp_path, registry, salesforce, netsuite
    )


def totals(sync: SalesforceFinance) -> dict[str, dict[str, Any]]:
    return {str(r["customer"]): r for r in sync.suiteql(TOTALS)}


def link_accounts(sync: SalesforceFinance, customer_ids: list[str]) -> dict[str, str]:
    """Accounts carrying NetSuite_Id__c (as the customer sync leaves them): customer id → Account Id."""
    return {
        customer_id: sync.create("Account", Name=f"Customer {customer_id}", NetSuite_Id__c=customer_id)
        for customer_id in customer_ids
    }


def test_totals_land_on_linked_accounts_only_and_a_rerun_writes_nothing(sync: SalesforceFinance) -> None:
    expected = totals(sync)
    billed = sorted(expected, key=int)
    assert len(billed) >= 4
    linked = link_accounts(sync, billed[:-2])  # the last two customers have no Account
    accounts_before = len(sync.records("Account"))

    run = sync.run()
    assert run.status == "ok", (run.errors, sync.reporter.messages)
    assert run.counts["revenue"] == {"read": len(billed), "updated": len(linked), "skipped": 2}
    accounts = sync.records("Account")
    assert len(accounts) == accounts_before  # nothing created for the unlinked customers
    for customer_id, account_id in linked.items():
        account, want = accounts[account_id], expected[customer_id]
        assert float(account["Paid_Revenue__c"]) == pytest.approx(
            float(want["revenue"]) - float(want["outstanding"])
        )
        assert float(account["Open_Balance__c"]) == pytest.approx(float(want["outstanding"]))
    seeded = [a for a in accounts.values() if not a.get("NetSuite_Id__c")]
    assert seeded and all(a["Paid_Revenue__c"] is None for a in seeded)  # Accounts of no customer: untouched

    writes = sync.sf_writes()
    again = sync.run()
    assert again.status == "ok"
    assert again.counts["revenue"] == {"read": len(billed), "unchanged": len(linked), "skipped": 2}
    assert sync.sf_writes() == writes


def test_a_payment_in_netsuite_moves_only_that_accounts_balance_to_paid(sync: SalesforceFinance) -> None:
    expected = totals(sync)
    linked = link_accounts(sync, sorted(expected, key=int))
    assert sync.run().status == "ok"
    invoice = pay_first_open_invoice(sync)

    run = sync.run()
    assert run.status == "ok", run.errors
    assert run.counts["revenue"]["updated"] == 1
    want = expected[str(invoice["entity"])]
    account = sync.records("Account")[linked[str(invoice["entity"])]]
    assert float(account["Open_Balance__c"]) == pytest.approx(
        float(want["outstanding"]) - float(invoice["amountremaining"])
    )
    assert float(account["Paid_Revenue__c"]) == pytest.approx(
        float(want["revenue"]) - float(want["outstanding"]) + float(invoice["amountremaining"])
    )
