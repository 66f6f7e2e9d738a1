"""Benchmark: 50,000 HubSpot companies read incrementally through search, connector-core vs a plain loop.

The HubSpot emulator runs in a separate process (its search limit and 10-second budget raised for the
run, the 10,000-result cap kept). In this process, alternately:

* ``connector-core``: ``Connector.open("hubspot", …).read("companies")`` — the shipped spec: search
  pages of 200 sorted by id, restarted past the cap from the last id, cursor tracking with dedupe,
  rate-budget headers read on every reply; each record serialised as a JSON line;
* ``plain loop``: a ``requests`` session doing the same search pagination (same body, same restart
  from the last id at the cap), ``json`` parsing and one JSON line per record; no retries, no state.

Both write to an in-memory sink. Reported: records/s (median of the rounds) and the ratio.

    python benchmarks/crm_read.py [--companies 50000] [--rounds 3] [--out benchmarks/out]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
PROPERTIES = [
    "name",
    "domain",
    "website",
    "phone",
    "city",
    "country",
    "industry",
    "createdate",
    "hs_lastmodifieddate",
]
CAP = 10_000


def start_emulator(companies: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    command = [
        sys.executable, "-m", "connectors.crm.emulator", "--port", "0", "--companies", str(companies),
        "--contacts", "0", "--deals", "0", "--search-per-second", "1000000", "--rate-limit", "100000000",
        "--daily-limit", "1000000000", "--search-cap", str(CAP),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise SystemExit("the emulator did not start")
    return process, json.loads(line)


def connector_core_read(url: str, token: str) -> int:
    from connector_core.engine.connector import Connector

    config = {
        "access_token": token,
        "base_url": url,
        "search_rate_limit": 1_000_000,
        "company_properties": PROPERTIES,
    }
    sink = io.BytesIO()
    count = 0
    with Connector.open("hubspot", config) as connector:
        for record in connector.read("companies"):
            sink.write(orjson.dumps(record) + b"\n")
            count += 1
    return count


def plain_loop_read(url: str, token: str) -> int:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    endpoint = url.rstrip("/") + "/crm/v3/objects/companies/search"
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    sink = io.StringIO()
    count, last_id, after, read_in_window = 0, "0", None, 0
    while True:
        body: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"},
                        {"propertyName": "hs_object_id", "operator": "GT", "value": last_id},
                    ]
                }
            ],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": PROPERTIES,
            "limit": 200,
        }
        if after is not None:
            body["after"] = after
        response = session.post(endpoint, json=body, timeout=60)
        response.raise_for_status()
        page = response.json()
        results = page["results"]
        for record in results:
            sink.write(dumps(record) + "\n")
        count += len(results)
        read_in_window += len(results)
        after = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not after or not results:
            return count
        if read_in_window + 200 > CAP:  # the cap: restart past the last id
            last_id, after, read_in_window = results[-1]["id"], None, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--companies", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args()

    process, info = start_emulator(args.companies)
    url = info["url"]
    token = info.get("token") or info.get("private_app_token") or info["credentials"]["private_app_token"]
    timings: dict[str, list[float]] = {"connector-core": [], "plain loop": []}
    try:
        connector_core_read(url, token)  # warm-up: imports, spec load, connection pool
        for _ in range(args.rounds):
            for name, run in (("connector-core", connector_core_read), ("plain loop", plain_loop_read)):
                started = time.perf_counter()
                count = run(url, token)
                elapsed = time.perf_counter() - started
                if count != args.companies:
                    raise SystemExit(f"{name} read {count} companies, expected {args.companies}")
                timings[name].append(args.companies / elapsed)
    finally:
        process.terminate()
        process.wait(timeout=10)

    rates = {name: statistics.median(values) for name, values in timings.items()}
    ratio = rates["connector-core"] / rates["plain loop"]
    result = {
        "benchmark": "crm_read",
        "companies": args.companies,
        "rounds": args.rounds,
        "records_per_second": {name: round(rate) for name, rate in rates.items()},
        "all_rounds": {name: [round(v) for v in values] for name, values in timings.items()},
        "ratio_connector_core_to_plain_loop": round(ratio, 3),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"crm_read-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(result, indent=2) + "\n"
    )
    for name, rate in rates.items():
        print(f"{name:15} {rate:10,.0f} records/s")
    print(f"ratio           {ratio:10.2f} (connector-core / plain loop)")


if __name__ == "__main__":
    main()
