"""Syncs under injected faults on both emulators (5xx, 429, dropped connections, latency, slow bodies):
every record ends correct on the destination — exact counts, no duplicates, the fields right — and
only records the API rejected for a data reason are dead-lettered. Loopback HTTP, a real SQLite state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_batch_support import CrmSync, companies_to_customers, customers_to_companies

from connector_core.plugins import Registry
from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings
from connectors.netsuite.emulator import EmulatorSettings, NetSuiteEmulator

COMPANIES = 120
CUSTOMERS = 150
SEARCH = "/crm/v3/objects/companies/search"
RECORDS = "/services/rest/record/v1/customer"
SUITEQL = "/services/rest/query/v1/suiteql"
BATCH_UPSERT = "/crm/v3/objects/companies/batch/upsert"


@pytest.fixture
def hubspot() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(HubSpotSettings(companies=COMPANIES, contacts=0, deals=0)) as emulator:
        yield emulator


@pytest.fixture
def netsuite() -> Iterator[NetSuiteEmulator]:
    with NetSuiteEmulator(EmulatorSettings(customers=CUSTOMERS, items=1, sales_orders=0, invoices=0)) as emulator:
        yield emulator


@pytest.fixture
def sync(tmp_path: Path, hubspot: HubSpotEmulator, netsuite: NetSuiteEmulator, registry: Registry) -> CrmSync:
    return CrmSync(tmp_path, hubspot, netsuite, registry)


def synced_customers(sync: CrmSync) -> dict[str, dict]:
    rows = sync.suiteql("SELECT id, externalid, entityid, companyname, phone, creditlimit FROM customer WHERE externalid LIKE 'hs-%'")
    by_external = {r["externalid"]: r for r in rows}
    assert len(by_external) == len(rows), "a company became two customers"
    return by_external


def test_companies_reach_netsuite_exactly_once_through_faults_on_both_sides(sync: CrmSync) -> None:
    companies = {c["id"]: c for c in sync.companies()}
    # two companies name a currency NetSuite does not have: rejected for a data reason (a bad reference)
    sync.ensure_properties()
    bad = [sync.hubspot.insert("companies", {"name": f"Bad currency {i}", "netsuite_currency_id": "999"}) for i in range(2)]
    bad_ids = sorted(str(b["id"]) for b in bad)
    flow = companies_to_customers()
    flow["mapping"]["creditLimit"] = {"from": "properties.annualrevenue", "type": "number"}
    currency = "record.properties.netsuite_currency_id"
    flow["mapping"]["currency"] = {"template": f"{{{{ {{'id': {currency}}} if {currency} else none }}}}"}
    properties = ["name", "phone", "annualrevenue", "netsuite_currency_id", "hs_lastmodifieddate"]
    sync.write(
        [flow], direction="crm->netsuite",
        hubspot=sync.hubspot_config(company_properties=properties), netsuite=sync.netsuite_config(subsidiary_id="1", concurrency=5),
    )  # fmt: skip

    hs, ns = sync.hubspot.faults, sync.netsuite.faults
    hs.add(kind="status", status=503, count=1, path_prefix=SEARCH)
    hs.add(kind="status", status=429, count=1, path_prefix=SEARCH)
    hs.add(kind="drop", count=1, path_prefix=SEARCH)
    hs.add(kind="latency", seconds=0.01, count=None, path_prefix=SEARCH)  # last: HubSpot applies the first match
    ns.add("latency", seconds=0.02, path_prefix=RECORDS)
    ns.add("status", status=503, count=3, path_prefix=RECORDS)
    ns.add("status", status=500, count=1, path_prefix=RECORDS)
    ns.add("status", status=429, count=2, path_prefix=RECORDS)
    ns.add("drop", count=2, path_prefix=RECORDS)
    ns.add("slow", seconds=0.3, count=2, path_prefix=RECORDS)

    run = sync.run()
    assert run.status == "failed_records", run.errors
    assert run.counts["companies-to-customers"] == {"read": COMPANIES + 2, "created": COMPANIES, "failed": 2}, sync.reporter.messages[:3]
    hs_stats, ns_stats = sync.hubspot.stats.snapshot(), sync.netsuite.stats()
    assert hs_stats["by_status"].get("503") == 1 and hs_stats["by_status"].get("429") == 1 and hs_stats["faults"] >= 3, hs_stats
    assert ns_stats["by_status"]["503"] == 3 and ns_stats["by_status"]["429"] >= 2 and ns_stats["by_status"]["0"] == 2, ns_stats

    customers = synced_customers(sync)
    assert sorted(customers) == sorted(f"hs-{cid}" for cid in companies)
    for cid, company in companies.items():
        row = customers[f"hs-{cid}"]
        assert row["companyname"] == company["name"] and row["entityid"] == f"HS{cid}"
        assert row.get("phone") == company.get("phone")
        if company.get("annualrevenue") not in (None, ""):
            assert float(row["creditlimit"]) == float(company["annualrevenue"])
    with sync.store() as store:
        letters = {d.source_id: d.reason for d in store.dead_letters()}
        assert store.pending("companies-to-customers") == {}
        assert len(store.mapped_rows("companies-to-customers")) == COMPANIES
    assert sorted(letters) == bad_ids  # the faults left no dead letter: only the data rejections
    for reason in letters.values():
        assert "INVALID_CONTENT" in reason and "'currency'" in reason, reason

    # a rerun (faults still firing) writes nothing again and retries only the two rejections
    writes = sync.ns_writes()
    ns.add("status", status=503, count=1, path_prefix=RECORDS)
    again = sync.run()
    assert again.counts["companies-to-customers"] == {"retried": 2, "failed": 2}, again.counts
    assert sync.ns_writes() - writes <= 2 + 1
    assert len(synced_customers(sync)) == COMPANIES


def test_customers_reach_hubspot_exactly_once_when_batch_replies_are_lost(sync: CrmSync) -> None:
    seeded = {str(r["id"]): r for r in sync.suiteql("SELECT id, entityid, companyname FROM customer")}
    sync.write([customers_to_companies()], direction="netsuite->crm")

    hs, ns = sync.hubspot.faults, sync.netsuite.faults
    hs.add(kind="drop", count=1, path_prefix=BATCH_UPSERT, when="after")  # written, the reply lost
    hs.add(kind="status", status=500, count=1, path_prefix=BATCH_UPSERT, when="after")  # written, then a 500
    hs.add(kind="status", status=429, count=1, path_prefix=BATCH_UPSERT)
    hs.add(kind="latency", seconds=0.02, count=None, path_prefix=BATCH_UPSERT)
    ns.add("latency", seconds=0.02, path_prefix=SUITEQL)
    ns.add("status", status=503, count=1, path_prefix=SUITEQL)
    ns.add("drop", count=1, path_prefix=SUITEQL)

    run = sync.run()
    assert run.status == "ok", run.errors
    assert run.counts["customers-to-companies"] == {"read": CUSTOMERS, "created": CUSTOMERS}
    companies = [c for c in sync.companies() if c.get("netsuite_customer_id")]
    by_ns_id = {c["netsuite_customer_id"]: c for c in companies}
    assert len(companies) == len(by_ns_id) == CUSTOMERS  # the resent batches updated, never duplicated
    for ns_id, row in seeded.items():
        assert by_ns_id[ns_id]["name"] == (row.get("companyname") or row["entityid"])
        assert by_ns_id[ns_id]["netsuite_entity_id"] == row["entityid"]
    with sync.store() as store:
        assert store.dead_letters() == [] and store.pending("customers-to-companies") == {}
        rows = {r.source_id: r.dest_id for r in store.mapped_rows("customers-to-companies")}
    assert rows == {ns_id: c["id"] for ns_id, c in by_ns_id.items()}
