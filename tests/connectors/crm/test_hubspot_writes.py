"""HubSpot write operations through the `hubspot` spec against the emulator: batches, 207s, deals, associations."""

from __future__ import annotations

from typing import Any

import pytest

from connector_core.engine.connector import Connector
from connector_core.errors import FatalHTTPError
from connector_core.testing import read_stream
from connectors.crm.emulator import HubSpotEmulator

NS_ID = {"name": "netsuite_customer_id", "label": "NetSuite customer id", "hasUniqueValue": True}


@pytest.fixture
def with_ns_id(hubspot: Connector) -> Connector:
    hubspot.call("ensure_properties", {"object_type": "companies", "records": [NS_ID]})
    return hubspot


def _companies(n: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"netsuite_customer_id": f"C-{i}", "name": f"Customer {i}", **extra} for i in range(start, start + n)
    ]


def test_ensure_properties_creates_missing_ones_and_leaves_existing_ones(
    hubspot: Connector, emu: HubSpotEmulator
) -> None:
    records = [
        NS_ID,
        {
            "name": "netsuite_terms",
            "type": "enumeration",
            "fieldType": "select",
            "options": [{"label": "Net 30", "value": "net30"}],
        },
    ]
    first = hubspot.call("ensure_properties", {"object_type": "companies", "records": records})
    assert [(o["key"], o["ok"], o["status"]) for o in first["records"]] == [
        ("netsuite_customer_id", True, 201),
        ("netsuite_terms", True, 201),
    ]
    again = hubspot.call(
        "ensure_properties",
        {"object_type": "companies", "records": [*records, {"name": "netsuite_invoice_number"}]},
    )
    assert [(o["key"], o["status"]) for o in again["records"]] == [
        ("netsuite_customer_id", 409),
        ("netsuite_terms", 409),
        ("netsuite_invoice_number", 201),
    ]
    assert again["errors"] == []
    defined = {
        r["name"]: r for r in read_stream(hubspot, "properties").records if r["objectType"] == "companies"
    }
    assert (
        defined["netsuite_customer_id"]["hasUniqueValue"]
        and defined["netsuite_terms"]["type"] == "enumeration"
    )


def test_upsert_companies_in_batches_of_100_creates_then_updates_without_duplicates(
    with_ns_id: Connector, emu: HubSpotEmulator
) -> None:
    before = emu.count("companies")
    result = with_ns_id.call("upsert_companies", {"records": _companies(230)})
    assert result["requests"] == 3 and result["errors"] == []
    assert [o["key"] for o in result["records"]] == [f"C-{i}" for i in range(230)]
    assert all(o["ok"] and o["result"]["new"] for o in result["records"])
    assert emu.count("companies") == before + 230
    again = with_ns_id.call("upsert_companies", {"records": _companies(230, city="Oslo")})
    assert all(o["ok"] and not o["result"]["new"] for o in again["records"])
    assert emu.count("companies") == before + 230
    assert {o["result"]["properties"]["city"] for o in again["records"]} == {"Oslo"}


def test_a_207_splits_a_batch_into_successes_and_rejections_with_reasons(
    with_ns_id: Connector, emu: HubSpotEmulator
) -> None:
    with_ns_id.call(
        "ensure_properties",
        {"object_type": "companies", "records": [{"name": "vat_number", "hasUniqueValue": True}]},
    )
    with_ns_id.call(
        "upsert_companies",
        {"records": [{"netsuite_customer_id": "C-0", "name": "Taken", "vat_number": "FR1"}]},
    )
    records = _companies(5, start=1)
    records[2]["vat_number"] = "FR1"  # held by C-0: only this input fails
    result = with_ns_id.call("upsert_companies", {"records": records})
    outcomes = {o["key"]: o for o in result["records"]}
    assert [k for k, o in outcomes.items() if o["ok"]] == ["C-1", "C-2", "C-4", "C-5"]
    rejected = outcomes["C-3"]
    assert rejected["ok"] is False and rejected["status"] == 207 and rejected["index"] == 2
    assert "already has that value for unique property vat_number" in rejected["message"]
    assert rejected["error"]["category"] == "CONFLICT"
    assert len(result["errors"]) == 1


def test_a_chunk_rejected_as_a_whole_fails_only_its_records(with_ns_id: Connector) -> None:
    records = _companies(150)
    records[120]["numberofemployees"] = "many"  # an invalid value fails its whole request (400)
    result = with_ns_id.call("upsert_companies", {"records": records})
    ok = [o for o in result["records"] if o["ok"]]
    failed = [o for o in result["records"] if o["ok"] is False]
    assert len(ok) == 100 and [o["index"] for o in failed] == list(range(100, 150))
    assert failed[0]["status"] == 400
    assert failed[0]["message"].startswith("HubSpot VALIDATION_ERROR: Property values were not valid")
    assert "correlationId" in failed[0]["message"]


def test_update_companies_reports_unknown_ids(hubspot: Connector, emu: HubSpotEmulator) -> None:
    existing = read_stream(hubspot, "companies_full", limit=1).records[0]["id"]
    result = hubspot.call(
        "update_companies",
        {
            "records": [
                {"id": existing, "properties": {"city": "Oslo"}},
                {"id": "123", "properties": {"city": "Rome"}},
            ]
        },
    )
    outcomes = {o["key"]: o for o in result["records"]}
    assert outcomes[existing]["ok"] is True and outcomes[existing]["result"]["properties"]["city"] == "Oslo"
    assert outcomes["123"]["ok"] is False and "OBJECT_NOT_FOUND" in str(outcomes["123"]["error"])


def test_create_companies_matches_outcomes_on_a_key_property(with_ns_id: Connector) -> None:
    result = with_ns_id.call(
        "create_companies", {"records": _companies(3, start=500), "key_property": "netsuite_customer_id"}
    )
    assert [(o["key"], o["ok"]) for o in result["records"]] == [
        ("C-500", True),
        ("C-501", True),
        ("C-502", True),
    ]
    assert all(o["result"]["id"] for o in result["records"])


def test_update_deal_sets_invoice_and_revenue_properties(hubspot: Connector, emu: HubSpotEmulator) -> None:
    hubspot.call(
        "ensure_properties",
        {
            "object_type": "deals",
            "records": [
                {"name": "netsuite_invoice_number"},
                {"name": "netsuite_invoice_status"},
                {"name": "netsuite_invoice_due_date", "type": "date", "fieldType": "date"},
                {"name": "netsuite_revenue", "type": "number", "fieldType": "number"},
            ],
        },
    )
    deal = read_stream(hubspot, "deals_full", limit=1).records[0]["id"]
    properties = {
        "netsuite_invoice_number": "INV-1001",
        "netsuite_invoice_status": "Open",
        "amount": "1250.50",
        "netsuite_invoice_due_date": "2024-07-31",
        "netsuite_revenue": "1250.5",
    }
    result = hubspot.call("update_deal", {"id": deal, "properties": properties})
    assert result["status"] == 200 and result["id"] == deal
    stored = emu.get_object("deals", deal)["properties"]
    assert {k: stored[k] for k in properties} == properties | {"netsuite_revenue": stored["netsuite_revenue"]}
    batch = hubspot.call(
        "update_deals", {"records": [{"id": deal, "properties": {"netsuite_invoice_status": "Paid"}}]}
    )
    assert (
        batch["records"][0]["ok"]
        and emu.get_object("deals", deal)["properties"]["netsuite_invoice_status"] == "Paid"
    )


def test_deal_to_company_associations(hubspot: Connector, emu: HubSpotEmulator) -> None:
    deal = read_stream(hubspot, "deals_full", limit=1).records[0]["id"]
    company, other = (r["id"] for r in read_stream(hubspot, "companies_full").records[-2:])
    hubspot.call("associate_deal_company", {"deal_id": deal, "company_id": company})
    assert int(company) in emu.associated_ids("deals", deal, "companies")
    result = hubspot.call("associate_deals_companies", {"records": [{"deal_id": deal, "company_id": other}]})
    assert result["errors"] == [] and int(other) in emu.associated_ids("deals", deal, "companies")


def test_a_bad_update_says_what_hubspot_said(hubspot: Connector) -> None:
    with pytest.raises(FatalHTTPError) as caught:
        hubspot.call(
            "update_deal",
            {
                "id": read_stream(hubspot, "deals_full", limit=1).records[0]["id"],
                "properties": {"no_such_property": "x"},
            },
        )
    message = str(caught.value)
    assert (
        "HubSpot VALIDATION_ERROR" in message and "no_such_property" in message and "correlationId" in message
    )
