"""connector_core/cli/examples/connections/salesforce_invoices_to_opportunities.yaml end to end: NetSuite invoices written
onto their Salesforce Opportunity (the Salesforce and NetSuite emulators on loopback, state in tmp_path)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from salesforce_flow_support import SalesforceFinance, salesforce_finance

from connector_core.plugins import Registry
from connectors.crm.salesforce_emulator import SalesforceSettings
from connectors.netsuite.emulator import EmulatorSettings

FLOW = "invoices-to-opportunities"


@pytest.fixture
def finance(tmp_path: Path, registry: Registry) -> Iterator[SalesforceFinance]:
    salesforce = SalesforceSettings(accounts=0, contacts=0, opportunities=0)
    netsuite = EmulatorSettings(customers=4, items=2, sales_orders=0, invoices=0)
    yield from salesforce_finance(
        "salesforce_invoices_to_opportunities.yaml", tmp_path, registry, salesforce, netsuite
    )


def opportunity(finance: SalesforceFinance, account: str, name: str, stage: str, close: str) -> str:
    return finance.create("Opportunity", AccountId=account, Name=name, StageName=stage, CloseDate=close)


def test_invoices_land_on_their_opportunities_and_a_second_run_writes_nothing(
    finance: SalesforceFinance,
) -> None:
    acme = finance.create("Account", Name="Acme", NetSuite_Id__c="1")
    globex = finance.create("Account", Name="Globex", NetSuite_Id__c="2")
    won = opportunity(finance, acme, "Acme won", "Closed Won", "2026-01-10")
    newest_open = opportunity(finance, acme, "Acme renewal", "Negotiation/Review", "2026-03-01")
    opportunity(finance, acme, "Acme lost", "Closed Lost", "2026-06-01")  # closed lost: never chosen
    opportunity(finance, globex, "Globex lost", "Closed Lost", "2026-02-01")

    carried = finance.invoice(
        "1", 1200.0, external_id=f"sf-opp-{won}"
    )  # created from the Opportunity: it carries its Id
    by_account = finance.invoice("1", 300.0)  # plain invoice: the Account's latest open or won Opportunity
    no_opportunity = finance.invoice("2", 50.0)  # Globex has only a lost one
    no_account = finance.invoice("3", 75.0)  # no Account has NetSuite_Id__c 3

    first = finance.run()
    assert first.status == "failed_records", first.errors
    assert first.counts[FLOW] == {"read": 4, "updated": 2, "failed": 2}

    shown = finance.records("Opportunity")[won]
    assert shown["Invoice_Number__c"] == carried["tranid"]
    assert shown["Invoice_Status__c"] == "Open"
    assert float(shown["Invoice_Amount__c"]) == 1200.0 and float(shown["Amount_Remaining__c"]) == 1200.0
    month, day, year = (int(part) for part in carried["duedate"].split("/"))  # SuiteQL's M/D/YYYY
    assert shown["Invoice_Due_Date__c"] == dt.date(year, month, day)
    assert finance.records("Opportunity")[newest_open]["Invoice_Number__c"] == by_account["tranid"]
    assert finance.ns_writes() == 4  # NetSuite only read

    with finance.store() as store:
        assert store.mapped(FLOW, carried["id"]).dest_id == won  # type: ignore[union-attr]
        letters = {letter.source_id: letter.reason for letter in store.dead_letters(FLOW)}
    assert set(letters) == {no_opportunity["id"], no_account["id"]}
    assert letters[no_opportunity["id"]].startswith(
        f"record {no_opportunity['id']}: no counterpart on the source side to write to: "
    )
    assert (
        f"lookup found no record in source.opportunities whose AccountId is '{globex}' and that passes the lookup filter"
        in letters[no_opportunity["id"]]
    )
    assert (
        "lookup found no record in source.accounts whose NetSuite_Id__c is '3'" in letters[no_account["id"]]
    )

    writes = finance.sf_writes()
    second = finance.run()
    assert second.counts[FLOW] == {"retried": 2, "failed": 2}
    assert finance.sf_writes() == writes and finance.ns_writes() == 4


def test_a_payment_updates_the_opportunity_and_a_dead_letter_lands_once_its_opportunity_exists(
    finance: SalesforceFinance,
) -> None:
    acme = finance.create("Account", Name="Acme", NetSuite_Id__c="1")
    globex = finance.create("Account", Name="Globex", NetSuite_Id__c="2")
    renewal = opportunity(finance, acme, "Acme renewal", "Proposal/Price Quote", "2026-05-01")
    invoice = finance.invoice("1", 500.0)
    waiting = finance.invoice("2", 80.0)
    assert finance.run().counts[FLOW] == {"read": 2, "updated": 1, "failed": 1}

    finance.netsuite.advance_time(2)  # the payment is a later change
    requests.post(
        f"{finance.netsuite.url}/_emulator/invoices/{invoice['id']}/pay", json={}, timeout=10
    ).raise_for_status()
    globex_won = opportunity(finance, globex, "Globex first order", "Closed Won", "2026-04-01")

    again = finance.run()
    assert again.status == "ok", again.errors
    assert again.counts[FLOW] == {"retried": 1, "read": 1, "updated": 2}
    paid = finance.records("Opportunity")[renewal]
    assert paid["Invoice_Status__c"] == "Paid In Full" and float(paid["Amount_Remaining__c"]) == 0
    assert finance.records("Opportunity")[globex_won]["Invoice_Number__c"] == waiting["tranid"]
    with finance.store() as store:
        assert store.dead_letters() == []
