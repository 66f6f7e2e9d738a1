"""connector_core/cli/examples/connections/closed_won_to_invoice.yaml end to end: won deals become exactly one NetSuite invoice each,
and the invoice number goes back onto the deal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crm_flow_support import (
    assert_resumed_state,
    kill_while_the_invoice_is_in_flight,
    only_dead_letter,
    resume_without_a_second_invoice,
)
from finance_flow_support import FinanceSync

from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

TO_INVOICE, BACK = "won-deals-to-invoices", "invoice-numbers-to-deals"


@pytest.fixture
def finance(tmp_path: Path, registry: Registry) -> Iterator[FinanceSync]:
    with (
        HubSpotEmulator(HubSpotSettings(companies=0, contacts=0, deals=0)) as hubspot,
        NetSuiteEmulator(EmulatorSettings(customers=4, items=2, sales_orders=0, invoices=0)) as netsuite,
    ):
        sync = FinanceSync(tmp_path, hubspot, netsuite, registry, "closed_won_to_invoice.yaml")
        sync.ensure_company_property()
        yield sync


def test_each_won_deal_gets_exactly_one_invoice_and_its_number(finance: FinanceSync) -> None:
    customers = finance.customers()
    usd = next(c for c, code in customers.items() if code == "USD")
    other = next(c for c, code in customers.items() if code != "USD")
    acme = finance.company("Acme", netsuite_customer_id=usd)
    abroad = finance.company("Abroad Ltd", netsuite_customer_id=other)
    unlinked = finance.company("Not in NetSuite")

    default_won = finance.deal("Acme licences", acme, amount="1200.50", deal_currency_code="USD")
    custom_won = finance.deal("Abroad renewal", abroad, amount="800", pipeline="75318642", stage="148302002",
                              deal_currency_code=customers[other])
    still_open = finance.deal("Acme expansion", acme, amount="999", deal_currency_code="USD")
    mismatch = finance.deal("Acme in euros", acme, amount="700", deal_currency_code="EUR")
    no_customer = finance.deal("Unlinked", unlinked, amount="10", deal_currency_code="USD")
    for deal in (default_won, mismatch, no_customer):
        finance.win(deal)
    finance.win(custom_won, stage="148302003")  # the custom pipeline's won stage is "Signed", not closedwon

    first = finance.run()
    assert first.status == "failed_records", first.errors
    assert first.counts[TO_INVOICE] == {"read": 4, "created": 2, "failed": 2}
    assert first.counts[BACK] == {"read": 2, "updated": 2}

    # NetSuite: one invoice per won deal, for its customer, in the customer's subsidiary, one line of the configured item
    invoices = {row["externalid"]: row for row in finance.ns_invoices()}
    assert set(invoices) == {f"hubspot-deal-{default_won}", f"hubspot-deal-{custom_won}"}
    licences = invoices[f"hubspot-deal-{default_won}"]
    assert licences["entity"] == usd and licences["currency"] == "1"
    assert float(licences["foreigntotal"]) == 1200.5
    assert licences["memo"] == f"HubSpot deal {default_won}: Acme licences"
    subsidiary = finance.netsuite.suiteql(f"SELECT subsidiary FROM customer WHERE id = {usd}")[0]["subsidiary"]
    assert licences["subsidiary"] == subsidiary
    (line,) = finance.ns_lines(licences["id"])
    assert line["item"] == "1" and float(line["quantity"]) == 1 and float(line["rate"]) == 1200.5
    assert invoices[f"hubspot-deal-{custom_won}"]["entity"] == other

    # HubSpot: the invoice number is on each won deal; the others have none
    for deal, invoice in ((default_won, licences), (custom_won, invoices[f"hubspot-deal-{custom_won}"])):
        shown = finance.deal_properties(deal)
        assert shown["netsuite_invoice_number"] == invoice["tranid"] and shown["netsuite_invoice_status"] == "Open"
    for deal in (still_open, mismatch, no_customer):
        assert finance.deal_properties(deal).get("netsuite_invoice_number") is None

    # the two that could not be invoiced say why
    with finance.store() as store:
        letters = {letter.source_id: letter.reason for letter in store.dead_letters(TO_INVOICE)}
    assert set(letters) == {mismatch, no_customer}
    assert letters[mismatch] == (
        f"record {mismatch}: check failed: currency mismatch: the deal is in EUR (currency 4) but customer {usd} belongs to subsidiary "
        f"{subsidiary}, whose currency is 1; move the customer to a subsidiary in the deal's currency (the next run retries), "
        "or correct the deal's currency and run with --full-refresh"
    )
    assert letters[no_customer].startswith(f"record {no_customer}: let.customer: ")
    assert f"lookup found no record in destination.customers whose externalid is 'crm-{unlinked}'" in letters[no_customer]

    # a second run writes nothing on either side
    ns_writes, hs_writes = finance.ns_writes(), finance.hs_writes()
    second = finance.run()
    assert second.counts[TO_INVOICE] == {"retried": 2, "failed": 2}
    assert second.counts[BACK] == {}
    assert finance.ns_writes() == ns_writes and finance.hs_writes() == hs_writes
    assert len(finance.ns_invoices()) == 2

    # the deal's currency corrected: a full refresh rereads the won deals and invoices it, once (the dead letter
    # holds the deal as first read, so its retry still fails before the fresh read succeeds)
    finance.hs("PATCH", f"/crm/v3/objects/deals/{mismatch}", {"properties": {"deal_currency_code": "USD"}})
    third = finance.run(full_refresh=True)
    # retried 2 (both fail again, as read before) · read 4: the 2 invoiced deals are as our write-back left them (echo),
    # the corrected one is invoiced, the unlinked one fails again
    assert third.counts[TO_INVOICE] == {"retried": 2, "failed": 3, "read": 4, "echo": 2, "created": 1}
    assert third.counts[BACK] == {"read": 3, "unchanged": 2, "updated": 1}
    fixed = finance.ns_invoice(f"t.externalid = 'hubspot-deal-{mismatch}'")
    assert finance.deal_properties(mismatch)["netsuite_invoice_number"] == fixed["tranid"]
    assert len(finance.ns_invoices()) == 3
    with finance.store() as store:
        assert [letter.source_id for letter in store.dead_letters(TO_INVOICE)] == [no_customer]


def test_a_won_deal_without_an_amount_is_reported_not_invoiced(finance: FinanceSync) -> None:
    usd = next(c for c, code in finance.customers().items() if code == "USD")
    deal = finance.deal("No amount", finance.company("Acme", netsuite_customer_id=usd), amount="", deal_currency_code="USD")
    finance.win(deal)
    run = finance.run()
    assert run.counts[TO_INVOICE] == {"read": 1, "failed": 1}
    letter = only_dead_letter(finance, TO_INVOICE)
    assert letter.reason == f"record {deal}: field item.items[0].rate: is required but from properties.amount gave None"
    assert finance.ns_invoices() == []


def test_a_run_killed_after_sending_the_invoice_resumes_without_a_second_one(finance: FinanceSync) -> None:
    usd = next(c for c, code in finance.customers().items() if code == "USD")
    deal = finance.deal("Acme licences", finance.company("Acme", netsuite_customer_id=usd), amount="400", deal_currency_code="USD")
    finance.win(deal)
    kill_while_the_invoice_is_in_flight(finance, TO_INVOICE, deal)

    invoice = resume_without_a_second_invoice(finance, TO_INVOICE, f"hubspot-deal-{deal}")
    assert len(finance.ns_lines(invoice["id"])) == 1  # the update replaced the lines instead of appending a second one
    assert finance.deal_properties(deal)["netsuite_invoice_number"] == invoice["tranid"]
    assert_resumed_state(finance, TO_INVOICE, deal, invoice)

    again = finance.run()
    assert again.counts[TO_INVOICE] == {} and len(finance.ns_invoices()) == 1
