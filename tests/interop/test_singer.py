"""``--format singer``: the example spec as a Singer tap, piped into a real Singer target.

The tap runs as Meltano runs one (``connector-core-tap --config ... --catalog ... --state ...``, the spec
named by CONNECTOR_CORE_CONNECTOR) against the example shop on 127.0.0.1; its stdout goes into
``target-jsonl`` from PyPI, which writes one file per stream, and the state that target hands back
resumes the next run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from interop_support import EXAMPLE_SPEC, TAP, cache_dir, run, singer_lines, singer_target

from connectors.example.server import ShopServer

API_KEY = "shop-key-singer-c81e728d9d4c2f63"
TAP_ENV = {"CONNECTOR_CORE_CONNECTOR": str(EXAMPLE_SPEC)}


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopServer]:
    with ShopServer(customers=230, orders=120, api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, shop: ShopServer) -> Path:
    directory = tmp_path_factory.mktemp("singer")
    (directory / "config.json").write_text(json.dumps({"base_url": shop.url, "api_key": API_KEY}), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def discovered(workdir: Path) -> dict[str, Any]:
    result = run("--config", "config.json", "--discover", cwd=workdir, env=TAP_ENV, command=[str(TAP)])
    assert result.returncode == 0, result.stderr
    catalog: dict[str, Any] = json.loads(result.stdout)
    return catalog


def tap(workdir: Path, *args: str) -> Any:
    return run("--config", "config.json", *args, cwd=workdir, env=TAP_ENV, command=[str(TAP)])


def write_catalog(workdir: Path, catalog: dict[str, Any], name: str, **changes: dict[str, Any]) -> str:
    """``catalog`` with root metadata changed per stream (``customers={"selected": True}``), as Meltano writes it."""
    edited = json.loads(json.dumps(catalog))
    for entry in edited["streams"]:
        root = next(item for item in entry["metadata"] if item["breadcrumb"] == [])
        root["metadata"].update(changes.get(entry["tap_stream_id"], {}))
    (workdir / name).write_text(json.dumps(edited, indent=2), encoding="utf-8")
    return name


def test_discovery_describes_streams_the_singer_way(workdir: Path, discovered: dict[str, Any]) -> None:
    streams = {entry["tap_stream_id"]: entry for entry in discovered["streams"]}
    customers = streams["customers"]
    assert customers["key_properties"] == ["id"] and customers["replication_key"] == "updated_at"
    assert customers["replication_method"] == "INCREMENTAL" and streams["orders"]["replication_method"] == "FULL_TABLE"
    root = customers["metadata"][0]
    assert root["breadcrumb"] == [] and root["metadata"]["selected-by-default"] is True
    assert root["metadata"]["valid-replication-keys"] == ["updated_at"]
    same = run("discover", str(EXAMPLE_SPEC), "--format", "singer", cwd=workdir)
    assert json.loads(same.stdout) == discovered


def test_the_tap_piped_into_target_jsonl_writes_every_record_and_resumes_from_its_state(workdir: Path, shop: ShopServer, discovered: dict[str, Any]) -> None:
    target = singer_target(cache_dir())
    catalog = write_catalog(workdir, discovered, "catalog.json", customers={"selected": True}, orders={"selected": True})
    first = tap(workdir, "--catalog", catalog)
    assert first.returncode == 0, first.stderr
    lines = singer_lines(first.stdout)
    assert [line["type"] for line in lines][:1] == ["SCHEMA"] and lines[-1]["type"] == "STATE"

    out = workdir / "first"
    (workdir / "target.json").write_text(json.dumps({"destination_path": str(out), "do_timestamp_file": False}), encoding="utf-8")
    loaded = run("--config", str(workdir / "target.json"), cwd=workdir, stdin=first.stdout, command=[str(target)])
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    customers = [json.loads(line) for line in (out / "customers.jsonl").read_text().splitlines()]
    orders = [json.loads(line) for line in (out / "orders.jsonl").read_text().splitlines()]
    assert [c["id"] for c in customers] == list(range(1, 231)) and len(orders) == 120
    assert customers[0] == {k: v for k, v in shop.api.data.customers[1].items()}

    # the target prints the last state it received: what Meltano saves and passes back with --state
    (workdir / "state.json").write_text(loaded.stdout.strip().splitlines()[-1], encoding="utf-8")
    created = requests.post(f"{shop.url}/api/customers", json={"name": "Grace"}, headers={"X-API-Key": API_KEY}, timeout=10).json()
    only_customers = write_catalog(workdir, discovered, "customers.json", customers={"selected": True}, orders={"selected": False})
    second = tap(workdir, "--properties", only_customers, "--state", "state.json")
    assert second.returncode == 0, second.stderr
    out2 = workdir / "second"
    (workdir / "target2.json").write_text(json.dumps({"destination_path": str(out2), "do_timestamp_file": False}), encoding="utf-8")
    resumed = run("--config", str(workdir / "target2.json"), cwd=workdir, stdin=second.stdout, command=[str(target)])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert [json.loads(line)["id"] for line in (out2 / "customers.jsonl").read_text().splitlines()] == [created["id"]]
    assert not (out2 / "orders.jsonl").exists()
    assert json.loads(resumed.stdout.strip())["bookmarks"]["customers"]["cursor"] == created["updated_at"]
    assert API_KEY not in first.stderr + second.stderr


def test_deselected_fields_are_left_out_but_the_key_and_cursor_stay(workdir: Path, discovered: dict[str, Any]) -> None:
    edited = json.loads(json.dumps(discovered))
    customers = next(entry for entry in edited["streams"] if entry["tap_stream_id"] == "customers")
    customers["metadata"] += [{"breadcrumb": ["properties", name], "metadata": {"selected": False}} for name in ("email", "id", "updated_at")]
    (workdir / "fields.json").write_text(json.dumps(edited), encoding="utf-8")
    result = tap(workdir, "--catalog", "fields.json", "--limit", "5")
    assert result.returncode == 0, result.stderr
    records = [line["record"] for line in singer_lines(result.stdout) if line["type"] == "RECORD" and line["stream"] == "customers"]
    assert records and all(set(record) == {"id", "name", "country", "updated_at"} for record in records)


def test_a_sampled_catalog_gives_typed_schemas_and_a_deselected_field_leaves_the_schema(workdir: Path) -> None:
    sampled = run("discover", str(EXAMPLE_SPEC), "--format", "singer", "--sample", "--config", "config.json", cwd=workdir)
    assert sampled.returncode == 0, sampled.stderr
    catalog = json.loads(sampled.stdout)
    customers = next(entry for entry in catalog["streams"] if entry["tap_stream_id"] == "customers")
    assert customers["schema"]["properties"]["id"] == {"type": "integer"}
    inclusion = {tuple(item["breadcrumb"]): item["metadata"].get("inclusion") for item in customers["metadata"]}
    assert inclusion[("properties", "id")] == inclusion[("properties", "updated_at")] == "automatic"
    assert inclusion[("properties", "email")] == "available"
    for item in customers["metadata"]:
        if item["breadcrumb"] == ["properties", "email"]:
            item["metadata"]["selected"] = False
    (workdir / "sampled.json").write_text(json.dumps(catalog), encoding="utf-8")
    result = tap(workdir, "--catalog", "sampled.json", "--stream", "customers", "--limit", "3")
    assert result.returncode == 0, result.stderr
    schema, *records = [line for line in singer_lines(result.stdout) if line["type"] != "STATE"]
    assert "email" not in schema["schema"]["properties"] and "name" in schema["schema"]["properties"]
    assert len(records) == 3 and all("email" not in line["record"] for line in records)


def test_a_full_table_choice_reads_everything_and_keeps_no_bookmark(workdir: Path, discovered: dict[str, Any]) -> None:
    catalog = write_catalog(workdir, discovered, "full.json", customers={"selected": True, "replication-method": "FULL_TABLE"}, orders={"selected": False})
    (workdir / "future.json").write_text(json.dumps({"bookmarks": {"customers": {"cursor": "2099-01-01T00:00:00Z"}}}), encoding="utf-8")
    result = tap(workdir, "--catalog", catalog, "--state", "future.json")
    assert result.returncode == 0, result.stderr
    lines = singer_lines(result.stdout)
    assert len([line for line in lines if line["type"] == "RECORD"]) >= 230
    assert [line for line in lines if line["type"] == "STATE"] == []
    assert "bookmark_properties" not in lines[0]


def test_a_catalog_asking_the_impossible_is_a_located_error_without_a_traceback(workdir: Path, discovered: dict[str, Any]) -> None:
    catalog = write_catalog(workdir, discovered, "impossible.json", orders={"selected": True, "replication-method": "INCREMENTAL"})
    result = tap(workdir, "--catalog", catalog)
    assert result.returncode == 1 and result.stdout == ""
    line = next(n for n, text in enumerate((workdir / catalog).read_text().splitlines(), 1) if '"replication-method": "INCREMENTAL"' in text)
    assert f"impossible.json:{line}:" in result.stderr and "streams[1].metadata[0].metadata.replication-method" in result.stderr
    assert "stream 'orders' has no cursor" in result.stderr and "Traceback" not in result.stderr


def test_a_state_file_that_is_not_json_says_where(workdir: Path) -> None:
    (workdir / "broken-state.json").write_text('{"bookmarks": {"customers": {"cursor": }}}', encoding="utf-8")
    result = tap(workdir, "--state", "broken-state.json")
    assert result.returncode == 1
    assert "broken-state.json:1:" in result.stderr and "invalid JSON" in result.stderr and "Traceback" not in result.stderr


def test_stream_narrows_the_read_to_one_selected_stream(workdir: Path) -> None:
    result = tap(workdir, "--stream", "orders")
    assert result.returncode == 0, result.stderr
    assert {line["stream"] for line in singer_lines(result.stdout)} == {"orders"}
    typo = tap(workdir, "--stream", "ordres")
    assert typo.returncode == 1 and "did you mean 'orders'?" in typo.stderr


def test_singer_has_no_spec_message(workdir: Path) -> None:
    result = run("spec", str(EXAMPLE_SPEC), "--format", "singer", cwd=workdir)
    assert result.returncode == 2 and "meltano.yml" in result.stderr
