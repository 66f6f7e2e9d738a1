"""connector_core/cli/examples/connections/invoices_to_deals.yaml end to end: NetSuite invoices written onto their HubSpot deals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from finance_flow_support import FinanceSync

from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

FLOW = "invoices-to-deals"


@pytest.fixture
def finance(tmp_path: Path, registry: Registry) -> Iterator[FinanceSync]:
    with (
        HubSpotEmulator(HubSpotSettings(companies=0, contacts=0, deals=0)) as hubspot,
        NetSuiteEmulator(EmulatorSettings(customers=4, items=2, sales_orders=0, invoices=0)) as netsuite,
    ):
        sync = FinanceSync(tmp_path, hubspot, netsuite, registry, "invoices_to_deals.yaml")
        sync.ensure_company_property()
        yield sync


def test_invoices_land_on_their_deals_and_a_second_run_writes_nothing(finance: FinanceSync) -> None:
    acme = finance.company("Acme", netsuite_customer_id="1")
    globex = finance.company("Globex", netsuite_customer_id="2")
    won = finance.deal("Acme won", acme, stage="closedwon", closedate="2026-01-10T00:00:00Z")
    newest_open = finance.deal("Acme renewal", acme, stage="contractsent", closedate="2026-03-01T00:00:00Z")
    finance.deal("Acme lost", acme, stage="closedlost", closedate="2026-06-01T00:00:00Z")  # closed lost: never chosen
    finance.deal("Globex lost", globex, stage="closedlost")

    carried = finance.invoice("1", 1200.0, external_id=f"hubspot-deal-{won}")  # created from the deal: it carries its id
    by_company = finance.invoice("1", 300.0)  # plain invoice: the company's latest open/won deal
    no_deal = finance.invoice("2", 50.0)  # Globex has only a lost deal
    no_company = finance.invoice("3", 75.0)  # no company has netsuite_customer_id 3

    first = finance.run()
    assert first.status == "failed_records", first.errors
    assert first.counts[FLOW] == {"read": 4, "updated": 2, "failed": 2}

    # HubSpot: the properties were ensured, and each deal shows its invoice
    shown = finance.deal_properties(won)
    assert shown["netsuite_invoice_number"] == carried["tranid"]
    assert shown["netsuite_invoice_status"] == "Open"
    assert float(shown["netsuite_invoice_amount"]) == 1200.0
    assert float(shown["netsuite_invoice_amount_remaining"]) == 1200.0
    assert shown["netsuite_invoice_due_date"] is not None and len(shown["netsuite_invoice_due_date"]) == 10
    assert finance.deal_properties(newest_open)["netsuite_invoice_number"] == by_company["tranid"]
    # NetSuite: untouched (the flow only reads it)
    assert finance.ns_writes() == 4

    with finance.store() as store:
        assert store.mapped(FLOW, carried["id"]).dest_id == won  # type: ignore[union-attr]
        letters = {letter.source_id: letter.reason for letter in store.dead_letters(FLOW)}
    assert set(letters) == {no_deal["id"], no_company["id"]}
    assert letters[no_deal["id"]].startswith(f"record {no_deal['id']}: no counterpart on the source side to write to: ")
    assert "template gave ''; fallback: lookup found no record in source.deals_full whose company_ids is" in letters[no_deal["id"]]
    assert "and that passes the lookup filter" in letters[no_deal["id"]]
    assert "lookup found no record in source.companies_full whose properties.netsuite_customer_id is '3'" in letters[no_company["id"]]

    writes = finance.hs_writes()
    second = finance.run()
    assert second.counts[FLOW] == {"retried": 2, "failed": 2}
    assert finance.hs_writes() == writes and finance.ns_writes() == 4


def test_a_payment_updates_the_deal_and_a_dead_letter_lands_once_its_deal_exists(finance: FinanceSync) -> None:
    acme = finance.company("Acme", netsuite_customer_id="1")
    globex = finance.company("Globex", netsuite_customer_id="2")
    deal = finance.deal("Acme renewal", acme)
    invoice = finance.invoice("1", 500.0)
    waiting = finance.invoice("2", 80.0)
    assert finance.run().counts[FLOW] == {"read": 2, "updated": 1, "failed": 1}

    finance.netsuite.advance_time(2)  # the payment is a later change
    response = finance.hs_http.post(f"{finance.netsuite.url}/_emulator/invoices/{invoice['id']}/pay", json={}, timeout=10)
    assert response.status_code < 300, response.text
    globex_deal = finance.deal("Globex first order", globex, stage="closedwon")

    again = finance.run()
    assert again.status == "ok", again.errors
    assert again.counts[FLOW] == {"retried": 1, "read": 1, "updated": 2}
    paid = finance.deal_properties(deal)
    assert paid["netsuite_invoice_status"] == "Paid In Full" and float(paid["netsuite_invoice_amount_remaining"]) == 0
    assert finance.deal_properties(globex_deal)["netsuite_invoice_number"] == waiting["tranid"]
    with finance.store() as store:
        assert store.dead_letters() == []
