"""A realistic Airbyte read: the shipped HubSpot spec against the HubSpot emulator on 127.0.0.1.

Search-based incremental streams, parent -> child partitions and listed partitions, read as an Airbyte
source; every line parses with Airbyte's protocol models and the records are the plain read's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from interop_support import airbyte_messages, of_type, run

from connectors.crm.emulator import HubSpotEmulator, HubSpotSettings


@pytest.fixture(scope="module")
def emulator() -> Iterator[HubSpotEmulator]:
    emu = HubSpotEmulator(HubSpotSettings(companies=60, contacts=40, deals=50, rate_limit_per_10s=100_000, search_per_second=10_000))
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, emulator: HubSpotEmulator) -> Path:
    directory = tmp_path_factory.mktemp("hubspot-airbyte")
    config = {"access_token": emulator.token, "base_url": emulator.url, "search_rate_limit": 1000}
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return directory


def test_hubspot_streams_read_as_an_airbyte_source_give_the_plain_records(workdir: Path, emulator: HubSpotEmulator) -> None:
    [discovered] = airbyte_messages(run("discover", "hubspot", "--format", "airbyte", cwd=workdir).stdout)
    offered = {stream.name: stream.model_dump(mode="json", exclude_none=True) for stream in discovered.catalog.streams}
    assert offered["companies"]["default_cursor_field"] == ["updatedAt"]
    # a cursor path with a template in it is split between its steps, never inside the template
    assert offered["won_deals"]["default_cursor_field"] == ["properties", "hs_v2_date_entered_{{ partition.id }}"]
    assert offered["deal_stages"]["supported_sync_modes"] == ["full_refresh"]
    chosen = {"companies": "incremental", "deal_stages": "full_refresh", "properties": "full_refresh"}
    catalog = {"streams": [{"stream": offered[name], "sync_mode": mode, "destination_sync_mode": "append"} for name, mode in chosen.items()]}
    (workdir / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")

    result = run("read", "hubspot", "--format", "airbyte", "--config", "config.json", "--catalog", "catalog.json", cwd=workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    messages = airbyte_messages(result.stdout)
    for name in chosen:
        plain = run("read", "hubspot", "--config", "config.json", "-s", name, cwd=workdir)
        assert plain.returncode == 0, plain.stderr
        expected = [json.loads(line) for line in plain.stdout.splitlines()]
        got = [m.record.data for m in of_type(messages, "RECORD") if m.record.stream == name]
        assert got == expected and got, name
    assert len([m for m in of_type(messages, "RECORD") if m.record.stream == "companies"]) == 60
    states = [m.state.stream for m in of_type(messages, "STATE")]
    assert {s.stream_descriptor.name for s in states} == {"companies"}
    assert states[-1].stream_state.cursor  # an updatedAt the next read starts from
    assert emulator.token not in result.stdout + result.stderr
