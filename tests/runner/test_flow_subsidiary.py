"""connector_core/cli/examples/connections/multi_subsidiary.yaml end to end: the customer sync restricted to one subsidiary
(Acme UK, NetSuite config subsidiary_id 3) reads and writes only that subsidiary's customers."""

from __future__ import annotations

from pathlib import Path

import pytest
from finance_support import Finance, hubspot, netsuite_ns  # noqa: F401

from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator
from connectors.netsuite.emulator import NetSuiteEmulator

UK = "3"


@pytest.fixture
def sync(tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry) -> Finance:  # noqa: F811
    return Finance("multi_subsidiary.yaml", tmp_path, hubspot, netsuite_ns, registry)


def test_only_the_subsidiarys_customers_are_read_and_written(sync: Finance) -> None:
    assert sync.load().connection.destination.config == "config/netsuite-acme-uk.json"
    companies = sync.companies()
    uk_companies = {c["id"] for c in companies if c["lifecyclestage"] == "customer" and c["country"] in ("United Kingdom", "Ireland")}
    assert uk_companies, "the seed has UK/Irish customers"
    trading_with_uk = {
        str(r["id"])
        for r in sync.suiteql(
            f"SELECT c.id FROM customer c WHERE c.isinactive = 'F' AND c.id IN (SELECT r.entity FROM customersubsidiaryrelationship r WHERE r.subsidiary = {UK})"
        )
    }
    others = {str(r["id"]) for r in sync.suiteql("SELECT id FROM customer")} - trading_with_uk
    assert trading_with_uk and others

    run = sync.run()
    assert run.status == "ok", (run.errors, sync.reporter.messages)
    # CRM -> NetSuite: only UK/Irish customers, each created in subsidiary 3
    created = {r["externalid"][4:]: r for r in sync.suiteql("SELECT * FROM customer WHERE externalid LIKE 'crm-9000%'")}
    assert set(created) == uk_companies
    assert {str(r["subsidiary"]) for r in created.values()} == {UK}
    # NetSuite -> CRM: only customers trading with subsidiary 3 (plus our own creations, as echoes)
    linked = {c["netsuite_customer_id"] for c in sync.companies() if c.get("netsuite_customer_id")}
    assert linked == trading_with_uk | {str(r["id"]) for r in created.values()}
    assert not linked & others
    assert run.counts["customers-to-companies"]["created"] == len(trading_with_uk)
    assert run.counts["customers-to-companies"]["echo"] == len(created)

    writes = (sync.hubspot_writes(), sync.ns_writes())
    again = sync.run()
    assert again.status == "ok"
    assert (sync.hubspot_writes(), sync.ns_writes()) == writes


def test_a_change_in_another_subsidiary_is_not_carried(sync: Finance) -> None:
    sync.run()
    (outsider,) = sync.suiteql(
        f"SELECT c.id FROM customer c WHERE c.id NOT IN (SELECT r.entity FROM customersubsidiaryrelationship r WHERE r.subsidiary = {UK}) ORDER BY c.id FETCH FIRST 1 ROWS ONLY"
    )
    sync.edit_customer(str(outsider["id"]), creditLimit=99000)
    run = sync.run()
    assert run.counts["customers-to-companies"].get("read", 0) == 0
    assert str(outsider["id"]) not in {c.get("netsuite_customer_id") for c in sync.companies()}


def test_a_second_connection_sharing_keys_updates_and_keeps_crm_owned_fields(
    tmp_path: Path, hubspot: HubSpotEmulator, netsuite_ns: NetSuiteEmulator, registry: Registry  # noqa: F811
) -> None:
    """Run customers_both_ways first (as the demo does), edit a CRM-owned field, then run this connection
    for the first time: its upserts land on companies the other connection already paired, so they are
    updates (counted so) that leave the CRM's fields alone."""
    both_ways = Finance("customers_both_ways.yaml", tmp_path / "a", hubspot, netsuite_ns, registry)
    uk = Finance("multi_subsidiary.yaml", tmp_path / "b", hubspot, netsuite_ns, registry)
    first = both_ways.run()
    assert first.status == "ok", first.errors
    trading_with_uk = {
        str(r["id"])
        for r in uk.suiteql(f"SELECT c.id FROM customer c WHERE c.isinactive = 'F' AND c.id IN (SELECT r.entity FROM customersubsidiaryrelationship r WHERE r.subsidiary = {UK})")
    }
    companies = {c["netsuite_customer_id"]: c for c in uk.companies() if c.get("netsuite_customer_id") in trading_with_uk}
    assert set(companies) == trading_with_uk  # the first connection made or paired every one
    edited = companies[sorted(companies)[0]]
    uk.edit_company(edited["id"], name="Renamed in HubSpot", phone="+44 20 7946 0000")

    second = uk.run()
    assert second.status == "ok", (second.errors, uk.reporter.messages)
    counts = second.counts["customers-to-companies"]
    assert counts.get("created", 0) == 0 and counts["updated"] + counts.get("echo", 0) + counts.get("unchanged", 0) == len(trading_with_uk)
    assert counts["updated"] > 0
    after = uk.company(edited["id"])
    assert after["name"] == "Renamed in HubSpot" and after["phone"] == "+44 20 7946 0000"  # the CRM's edit survived
    assert len(uk.companies()) == len(both_ways.companies())  # and no company was added
