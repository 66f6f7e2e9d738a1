"""connector_core/cli/examples/connections/salesforce_closed_won_to_invoice.yaml end to end: Closed Won Opportunities become
exactly one NetSuite invoice each, and its id and number go back onto the Opportunity."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crm_flow_support import (
    assert_resumed_state,
    kill_while_the_invoice_is_in_flight,
    only_dead_letter,
    resume_without_a_second_invoice,
)
from finance_flow_support import CURRENCY_CODES
from salesforce_flow_support import SalesforceFinance, salesforce_finance

from connector_core.plugins import Registry
from connectors.crm.salesforce_emulator import SalesforceSettings
from connectors.netsuite.emulator import EmulatorSettings

TO_INVOICE, BACK = "won-opportunities-to-invoices", "invoice-numbers-to-opportunities"


@pytest.fixture
def finance(tmp_path: Path, registry: Registry) -> Iterator[SalesforceFinance]:
    salesforce = SalesforceSettings(accounts=0, contacts=0, opportunities=0)
    netsuite = EmulatorSettings(customers=4, items=2, sales_orders=0, invoices=0)
    yield from salesforce_finance(
        "salesforce_closed_won_to_invoice.yaml", tmp_path, registry, salesforce, netsuite
    )


def customer_currencies(finance: SalesforceFinance) -> dict[str, str]:
    """NetSuite customer id → the currency code of its primary subsidiary."""
    rows = finance.suiteql(
        "SELECT c.id, s.currency FROM customer c JOIN subsidiary s ON s.id = c.subsidiary ORDER BY c.id"
    )
    return {row["id"]: CURRENCY_CODES[row["currency"]] for row in rows}


def opportunity(
    finance: SalesforceFinance,
    account: str,
    name: str,
    amount: float | None,
    currency: str,
    stage: str = "Negotiation/Review",
) -> str:
    fields: dict[str, Any] = {
        "AccountId": account,
        "Name": name,
        "StageName": stage,
        "CloseDate": "2026-06-30",
        "CurrencyIsoCode": currency,
    }
    if amount is not None:
        fields["Amount"] = amount
    return finance.create("Opportunity", **fields)


def line_item(
    finance: SalesforceFinance,
    opportunity_id: str,
    code: str | None,
    quantity: float,
    price: float,
    description: str | None = None,
) -> str:
    return finance.create(
        "OpportunityLineItem",
        OpportunityId=opportunity_id,
        ProductCode=code,
        Quantity=quantity,
        UnitPrice=price,
        Description=description,
    )


def win(finance: SalesforceFinance, opportunity_id: str) -> None:
    finance.edit("Opportunity", opportunity_id, StageName="Closed Won")


def test_each_won_opportunity_gets_exactly_one_invoice_and_its_number(finance: SalesforceFinance) -> None:
    currencies = customer_currencies(finance)
    usd = next(c for c, code in currencies.items() if code == "USD")
    other = next(c for c, code in currencies.items() if code != "USD")
    acme = finance.create("Account", Name="Acme", NetSuite_Id__c=usd)
    abroad = finance.create("Account", Name="Abroad Ltd", NetSuite_Id__c=other)
    unlinked = finance.create("Account", Name="Not in NetSuite")

    licences = opportunity(finance, acme, "Acme licences", 1200.5, "USD")
    line_item(finance, licences, "ITEM-0002", 2, 100, "Seats")
    line_item(finance, licences, "ITEM-0001", 1, 1000.5)
    renewal = opportunity(
        finance, abroad, "Abroad renewal", 800, currencies[other]
    )  # no line items: one line for the Amount
    still_open = opportunity(finance, acme, "Acme expansion", 999, "USD")
    line_item(finance, still_open, "ITEM-0001", 3, 333)
    mismatch = opportunity(finance, acme, "Acme in euros", 700, "EUR")
    no_customer = opportunity(finance, unlinked, "Unlinked", 10, "USD")
    unknown_product = opportunity(finance, acme, "Acme services", 50, "USD")
    line_item(finance, unknown_product, "ITEM-0001", 1, 20)
    line_item(finance, unknown_product, "CONSULTING", 1, 30)
    for won in (licences, renewal, mismatch, no_customer, unknown_product):
        win(finance, won)

    first = finance.run()
    assert first.status == "failed_records", first.errors
    assert first.counts[TO_INVOICE] == {"read": 5, "created": 2, "failed": 3}
    assert first.counts[BACK] == {"read": 2, "updated": 2}

    # NetSuite: one invoice per won Opportunity, for its customer, in the customer's subsidiary's currency, with one
    # line per OpportunityLineItem (its product's item, quantity and price)
    invoices = {row["externalid"]: row for row in finance.ns_invoices()}
    assert set(invoices) == {f"sf-opp-{licences}", f"sf-opp-{renewal}"}
    acme_invoice = invoices[f"sf-opp-{licences}"]
    assert acme_invoice["entity"] == usd and acme_invoice["currency"] == "1"
    assert float(acme_invoice["foreigntotal"]) == 1200.5
    assert acme_invoice["memo"] == f"Salesforce Opportunity {licences}: Acme licences"
    lines = [
        (line["item"], float(line["quantity"]), float(line["rate"]), line["memo"])
        for line in finance.ns_lines(acme_invoice["id"])
    ]
    assert lines == [("2", 2.0, 100.0, "Seats"), ("1", 1.0, 1000.5, "ITEM-0001")]
    renewal_invoice = invoices[f"sf-opp-{renewal}"]
    assert renewal_invoice["entity"] == other
    (line,) = finance.ns_lines(renewal_invoice["id"])
    assert line["item"] == "1" and float(line["quantity"]) == 1 and float(line["rate"]) == 800

    # Salesforce: the invoice's id and number are on each won Opportunity; the others have none
    opportunities = finance.records("Opportunity")
    for opp, invoice in ((licences, acme_invoice), (renewal, invoices[f"sf-opp-{renewal}"])):
        assert opportunities[opp]["NetSuite_Order_Number__c"] == invoice["tranid"]
        assert opportunities[opp]["NetSuite_Id__c"] == str(invoice["id"])
    for opp in (still_open, mismatch, no_customer, unknown_product):
        assert opportunities[opp]["NetSuite_Order_Number__c"] is None

    with finance.store() as store:
        letters = {letter.source_id: letter.reason for letter in store.dead_letters(TO_INVOICE)}
    assert set(letters) == {mismatch, no_customer, unknown_product}
    assert letters[unknown_product].startswith(
        f"record {unknown_product}: field item.items[1].item.id: value 'CONSULTING' (from each.template.1.ProductCode) is not in the value map"
    )
    assert letters[mismatch].startswith(
        f"record {mismatch}: check failed: currency mismatch: the Opportunity is in EUR (currency 4) but customer {usd}"
    )
    assert letters[no_customer].startswith(f"record {no_customer}: let.customer: ")
    assert (
        f"lookup found no record in destination.customers whose externalid is 'sf-{unlinked}'"
        in letters[no_customer]
    )

    # a second run writes nothing on either side: the Opportunities our write-back changed are our echo
    ns_writes, sf_writes = finance.ns_writes(), finance.sf_writes()
    second = finance.run()
    assert second.counts[TO_INVOICE] == {"retried": 3, "failed": 3, "read": 2, "echo": 2}
    assert second.counts[BACK] == {}
    assert (finance.ns_writes(), finance.sf_writes()) == (ns_writes, sf_writes)
    assert len(finance.ns_invoices()) == 2

    # the currency corrected in Salesforce: the edit moves SystemModstamp, so the next run reads it again (no
    # --full-refresh needed) and invoices it, once; the dead letter holds the Opportunity as first read, so its
    # retry still fails just before the fresh read succeeds and clears it
    finance.edit("Opportunity", mismatch, CurrencyIsoCode="USD")
    third = finance.run()
    assert third.counts[TO_INVOICE] == {"retried": 3, "failed": 3, "read": 1, "created": 1}
    fixed = finance.ns_invoices(f"t.externalid = 'sf-opp-{mismatch}'")[0]
    assert finance.records("Opportunity")[mismatch]["NetSuite_Order_Number__c"] == fixed["tranid"]
    assert len(finance.ns_invoices()) == 3
    with finance.store() as store:
        assert sorted(letter.source_id for letter in store.dead_letters(TO_INVOICE)) == sorted(
            [no_customer, unknown_product]
        )


def test_a_won_opportunity_without_an_amount_is_reported_not_invoiced(finance: SalesforceFinance) -> None:
    usd = next(c for c, code in customer_currencies(finance).items() if code == "USD")
    won = opportunity(
        finance,
        finance.create("Account", Name="Acme", NetSuite_Id__c=usd),
        "No amount",
        None,
        "USD",
        stage="Closed Won",
    )
    run = finance.run()
    assert run.counts[TO_INVOICE] == {"read": 1, "failed": 1}
    letter = only_dead_letter(finance, TO_INVOICE)
    assert letter.reason == f"record {won}: field item.items[0].rate: is required but from Amount gave None"
    assert finance.ns_invoices() == []


def test_a_run_killed_after_sending_the_invoice_resumes_without_a_second_one(
    finance: SalesforceFinance,
) -> None:
    usd = next(c for c, code in customer_currencies(finance).items() if code == "USD")
    won = opportunity(
        finance, finance.create("Account", Name="Acme", NetSuite_Id__c=usd), "Acme licences", 400, "USD"
    )
    line_item(finance, won, "ITEM-0001", 1, 100)
    line_item(finance, won, "ITEM-0002", 3, 100)
    win(finance, won)
    kill_while_the_invoice_is_in_flight(finance, TO_INVOICE, won)

    invoice = resume_without_a_second_invoice(finance, TO_INVOICE, f"sf-opp-{won}")
    # the update replaced the two lines instead of appending two more
    assert [(line["item"], float(line["quantity"])) for line in finance.ns_lines(invoice["id"])] == [
        ("1", 1.0),
        ("2", 3.0),
    ]
    assert finance.records("Opportunity")[won]["NetSuite_Order_Number__c"] == invoice["tranid"]
    assert_resumed_state(finance, TO_INVOICE, won, invoice)

    again = finance.run()
    assert not again.counts[TO_INVOICE].get("created") and not again.counts[TO_INVOICE].get("updated")
    assert len(finance.ns_invoices()) == 1
