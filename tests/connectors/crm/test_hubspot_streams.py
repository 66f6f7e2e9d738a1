"""HubSpot streams read through the `hubspot` spec against the emulator over loopback HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from hubspot_connector_support import endpoint_counts, spec_with_search_cap, token_config

from connector_core.engine.connector import Connector
from connector_core.engine.interpolation import parse_datetime
from connector_core.testing import read_stream
from connectors.crm.emulator import HubSpotEmulator

STREAMS = [
    "companies", "contacts", "deals", "deal_pipelines", "deal_stages", "won_deal_stages", "won_deals",
    "properties", "companies_full", "contacts_full", "deals_full",
]  # fmt: skip


@pytest.mark.parametrize("stream", STREAMS)
def test_every_stream_reads_records_with_their_primary_key(hubspot: Connector, stream: str) -> None:
    records = read_stream(hubspot, stream).records
    assert records
    key = hubspot.spec.streams[stream].primary_key
    keys = [key] if isinstance(key, str) else list(key or [])
    identities = [tuple(record[k] for k in keys) for record in records]
    assert len(identities) == len(set(identities))


def test_search_and_list_streams_read_every_object(hubspot: Connector, emu: HubSpotEmulator) -> None:
    for kind in ("companies", "contacts", "deals"):
        searched = {r["id"] for r in read_stream(hubspot, kind).records}
        listed = {r["id"] for r in read_stream(hubspot, f"{kind}_full").records}
        assert searched == listed and len(searched) == emu.count(kind)


def test_second_incremental_run_reads_only_what_changed(hubspot: Connector, emu: HubSpotEmulator) -> None:
    first = read_stream(hubspot, "companies")
    cursor = parse_datetime(first.state["cursor"])
    assert cursor.tzinfo is not None and first.state["cursor"].endswith("Z")
    assert cursor == max(parse_datetime(r["updatedAt"]) for r in first.records)
    changed = first.records[7]["id"]
    hubspot.call("update_companies", {"records": [{"id": changed, "properties": {"city": "Lyon"}}]})
    second = read_stream(hubspot, "companies", first.state)
    assert [r["id"] for r in second.records] == [changed]
    assert second.records[0]["properties"]["city"] == "Lyon"
    assert read_stream(hubspot, "companies", second.state).records == []


def test_start_date_bounds_the_first_run(
    emu: HubSpotEmulator, open_hubspot: Callable[..., Connector]
) -> None:
    everything = read_stream(open_hubspot(token_config(emu)), "deals").records
    times = sorted(parse_datetime(r["updatedAt"]) for r in everything)
    start = times[len(times) // 2]
    recent = read_stream(open_hubspot(token_config(emu, start_date=start.isoformat())), "deals").records
    assert {r["id"] for r in recent} == {
        r["id"] for r in everything if parse_datetime(r["updatedAt"]) >= start
    }


def test_search_past_the_result_cap_restarts_from_the_last_id(
    make_emulator: Callable[..., HubSpotEmulator], open_hubspot: Callable[..., Connector], tmp_path: Path
) -> None:
    emu = make_emulator(companies=1150, search_result_cap=400)
    connector = open_hubspot(token_config(emu), spec=spec_with_search_cap(tmp_path, 400))
    records = read_stream(connector, "companies").records
    ids = [int(r["id"]) for r in records]
    assert len(ids) == 1150 == len(set(ids)) and ids == sorted(ids)
    stats = emu.stats.snapshot()
    assert stats["by_status"] == {"200": stats["requests"]}  # never asked past the cap (that is a 400)
    assert stats["by_endpoint"]["objects.search"] == 6  # windows of 400, 400 and 350 records, two pages each


def test_deal_company_ids_come_from_one_batched_request_per_hundred_deals(
    make_emulator: Callable[..., HubSpotEmulator], open_hubspot: Callable[..., Connector]
) -> None:
    emu = make_emulator(deals=250, companies=80)
    records = read_stream(open_hubspot(token_config(emu)), "deals").records
    assert len(records) == 250
    for record in records:
        assert record["company_ids"] == [
            str(i) for i in emu.associated_ids("deals", record["id"], "companies")
        ]
    assert sum(bool(r["company_ids"]) for r in records) > 200
    counts = endpoint_counts(emu)
    assert counts["objects.search"] == 2 and counts["assoc.batch"] == 3  # pages of 200 + 50 → 100 + 100 + 50
    assert "assoc.list" not in counts  # no request per deal


def test_full_refresh_deals_carry_company_ids_without_extra_requests(
    hubspot: Connector, emu: HubSpotEmulator
) -> None:
    records = read_stream(hubspot, "deals_full").records
    for record in records:
        assert record["company_ids"] == [
            str(i) for i in emu.associated_ids("deals", record["id"], "companies")
        ]
        assert "associations" not in record
    assert "assoc.batch" not in endpoint_counts(emu)


def test_won_stages_are_found_from_pipeline_metadata(hubspot: Connector) -> None:
    stages = read_stream(hubspot, "won_deal_stages").records
    assert {(s["pipelineId"], s["id"]) for s in stages} == {
        ("default", "closedwon"),
        ("75318642", "148302003"),
    }
    every = read_stream(hubspot, "deal_stages").records
    assert len(every) > len(stages) and {s["pipelineId"] for s in every} == {"default", "75318642"}


def test_won_deals_are_the_deals_in_won_stages_and_new_wins_show_up_next_run(hubspot: Connector) -> None:
    deals = read_stream(hubspot, "deals_full").records
    won = {d["id"] for d in deals if d["properties"]["hs_is_closed_won"] == "true"}
    first = read_stream(hubspot, "won_deals")
    assert {r["id"] for r in first.records} == won and won
    for record in first.records:
        assert record["properties"]["dealstage"] == record["won_stage"]
        assert parse_datetime(record["won_at"]).tzinfo is not None
        assert isinstance(record["company_ids"], list)
    assert set(first.state["partitions"]) == {"closedwon", "148302003"}
    assert read_stream(hubspot, "won_deals", first.state).records == []

    open_deal = next(
        d
        for d in deals
        if d["properties"]["pipeline"] == "75318642" and d["properties"]["hs_is_closed"] == "false"
    )
    hubspot.call("update_deal", {"id": open_deal["id"], "properties": {"dealstage": "148302003"}})
    third = read_stream(hubspot, "won_deals", first.state).records
    assert [(r["id"], r["won_stage"], r["won_stage_label"]) for r in third] == [
        (open_deal["id"], "148302003", "Signed")
    ]
    assert parse_datetime(third[0]["won_at"]) > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def test_property_definitions_of_each_object_type(hubspot: Connector) -> None:
    records = read_stream(hubspot, "properties").records
    by_type = {
        t: {r["name"] for r in records if r["objectType"] == t} for t in ("companies", "contacts", "deals")
    }
    assert (
        "domain" in by_type["companies"]
        and "email" in by_type["contacts"]
        and "dealstage" in by_type["deals"]
    )


def test_check_succeeds_with_a_valid_token(hubspot: Connector) -> None:
    assert hubspot.check().ok
