"""connector_core/cli/examples/connections/revenue_to_crm.yaml end to end: NetSuite revenue per customer and month, summed per
customer onto the HubSpot company that carries its netsuite_customer_id."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from crm_flow_support import pay_first_open_invoice
from finance_support import Finance, hubspot, netsuite_ns  # noqa: F401

from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator
from connectors.netsuite.emulator import NetSuiteEmulator

TOTALS = """
SELECT t.entity AS customer, SUM(t.foreigntotal) AS revenue, SUM(t.amountremaining) AS outstanding, COUNT(*) AS invoices,
       MAX(TO_CHAR(t.trandate, 'YYYY-MM')) AS lastmonth
FROM transaction t WHERE t.type = 'CustInvc' GROUP BY t.entity
"""


@pytest.fixture
def sync(tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry) -> Finance:  # noqa: F811
    return Finance("revenue_to_crm.yaml", tmp_path, hubspot, netsuite_ns, registry)


def totals(sync: Finance) -> dict[str, dict]:
    return {str(r["customer"]): r for r in sync.suiteql(TOTALS)}


def link_companies(sync: Finance, customer_ids: list[str]) -> dict[str, str]:
    """Companies carrying netsuite_customer_id (as the customer sync leaves them): customer id → company id."""
    linked = {}
    for customer_id in customer_ids:
        created = requests.post(
            f"{sync.hubspot.url}/_emulator/objects/companies",
            json={"properties": {"name": f"Customer {customer_id}", "netsuite_customer_id": customer_id}},
            timeout=10,
        ).json()
        linked[customer_id] = str(created["id"])
    return linked


def test_totals_land_on_linked_companies_only_and_a_rerun_writes_nothing(sync: Finance) -> None:
    expected = totals(sync)
    billed = sorted(expected, key=int)
    assert len(billed) >= 4
    linked = link_companies(sync, billed[:-2])  # the last two customers have no company
    companies_before = len(sync.companies())

    run = sync.run()
    assert run.status == "ok", (run.errors, sync.reporter.messages)
    assert run.counts["revenue"]["updated"] == len(linked)
    assert run.counts["revenue"]["skipped"] == 2
    assert len(sync.companies()) == companies_before  # nothing created for the unlinked customers
    for customer_id, company_id in linked.items():
        company, want = sync.company(company_id), expected[customer_id]
        assert float(company["netsuite_total_revenue"]) == pytest.approx(float(want["revenue"]))
        assert float(company["netsuite_outstanding_amount"]) == pytest.approx(float(want["outstanding"]))
        assert int(company["netsuite_invoice_count"]) == int(want["invoices"])
        assert company["netsuite_last_invoice_month"] == want["lastmonth"]

    writes = sync.hubspot_writes()
    again = sync.run()
    assert again.status == "ok"
    assert again.counts["revenue"]["unchanged"] == len(linked)
    assert sync.hubspot_writes() == writes


def test_a_payment_in_netsuite_updates_only_that_companys_open_amount(sync: Finance) -> None:
    expected = totals(sync)
    linked = link_companies(sync, sorted(expected, key=int))
    assert sync.run().status == "ok"
    invoice = pay_first_open_invoice(sync)

    run = sync.run()
    assert run.status == "ok", run.errors
    assert run.counts["revenue"]["updated"] == 1
    company = sync.company(linked[str(invoice["entity"])])
    want = float(expected[str(invoice["entity"])]["outstanding"]) - float(invoice["amountremaining"])
    assert float(company["netsuite_outstanding_amount"]) == pytest.approx(want)
    assert float(company["netsuite_total_revenue"]) == pytest.approx(float(expected[str(invoice["entity"])]["revenue"]))
