"""NetSuite read benchmark: ``connector-core read netsuite --stream customers`` against the emulator.

Two measurements, in one run, against one emulator process (``python -m connectors.netsuite.emulator``):

  throughput  200,000 seeded customers read over TBA by ``connector-core read`` (concurrency 1, i.e. the
              same sequential pagination) and by a plain ``requests`` + ``requests_oauthlib`` loop (OAuth 1.0a
              HMAC-SHA256 with realm, the same SuiteQL text, offset pages of 1,000 and the same keyset
              restart at the 100,000-row cap), each writing the same JSON lines to a file. Runs alternate;
              medians are compared, and the two outputs are checked to be byte-identical. Target: the
              connector reaches ≥ 0.7× the plain loop's records/s. ``connector-core read`` at its default
              concurrency (5) is shown for information.
  latency     fewer customers, 100 ms injected on every SuiteQL request: the same read at concurrency 5
              vs 1, timed around the read itself (in-process, Python API). Target: ≥ 4× faster.

Times are wall-clock on a shared machine: only ratios within one run mean anything.

    .venv/bin/python benchmarks/netsuite_read.py            # full run (a few minutes)
    .venv/bin/python benchmarks/netsuite_read.py --quick    # 20,000 customers, one round
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SUITEQL = "/services/rest/query/v1/suiteql"
LIMIT = 1000
ROW_CAP = 100_000
AFTER = "__AFTER__"
TARGET_RATIO = 0.7
TARGET_SPEEDUP = 4.0


# --- the plain loop (run as its own process: `netsuite_read.py plain …`) ---------------------------


def plain(config_path: str, query_path: str, out_path: str) -> None:
    """What a hand-written script would do: sign, page, restart past the cap, write JSON lines."""
    import requests
    from requests_oauthlib import OAuth1

    config = json.loads(Path(config_path).read_text())
    template = Path(query_path).read_text()
    realm = config["account_id"].upper().replace("-", "_")
    auth = OAuth1(config["consumer_key"], config["consumer_secret"], config["token_id"], config["token_secret"],
                  signature_method="HMAC-SHA256", realm=realm)
    session = requests.Session()
    url = config["base_url"].rstrip("/") + SUITEQL
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    after = 0
    with open(out_path, "w", encoding="utf-8") as out:
        while True:
            body = {"q": template.replace(AFTER, str(after))}
            offset, last = 0, None
            while True:
                response = session.post(url, params={"limit": LIMIT, "offset": offset}, json=body,
                                        headers={"Prefer": "transient"}, auth=auth, timeout=120)
                response.raise_for_status()
                page = response.json()
                items = page["items"]
                for record in items:
                    record["lastmodifieddate"] = record["lastmodified"].replace(" ", "T") + "Z"  # a UTC account
                    del record["links"], record["lastmodified"], record["tz"]
                    out.write(dumps(record) + "\n")
                if items:
                    last = items[-1]["id"]
                offset += LIMIT
                if not items or offset >= min(int(page["totalResults"]), ROW_CAP):
                    break
            if offset < ROW_CAP or last is None or int(page["totalResults"]) <= ROW_CAP:
                break
            after = int(last)  # past the cap: restart the query after the last id


# --- processes ------------------------------------------------------------------------------------


def _connector_cli() -> list[str]:
    script = Path(sys.executable).with_name("connector-core")
    return [str(script)] if script.exists() else [sys.executable, "-m", "connector_core.cli"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)  # buffered stdout, as deployed
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _timed(cmd: list[str], stdout: Path) -> float:
    with open(stdout, "wb") as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        done = subprocess.run(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=_env(), cwd=ROOT)
        wall = time.perf_counter() - started
        if done.returncode:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd[:4])}… failed: {err.read().decode()[-2000:]}")
    return wall


@contextmanager
def emulator(customers: int, concurrency_limit: int = 20) -> Iterator[dict[str, Any]]:
    """The emulator in its own process; yields its credentials line (url, tba, …)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors.netsuite.emulator", "--port", "0", "--customers", str(customers),
         "--invoices", "10", "--sales-orders", "5", "--concurrency-limit", str(concurrency_limit)],
        stdout=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("{"):
            raise RuntimeError(f"the emulator did not start (said {line!r})")
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _control(info: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(info["url"] + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def _config(info: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"account_id": info["account_id"].lower().replace("_", "-"), "base_url": info["url"], **info["tba"], **extra}


def _query_template(config: dict[str, Any]) -> str:
    """The customers stream's SuiteQL text as the connector renders it, with a marker for page.after."""
    from connector_core.engine.connector import Connector

    with Connector.open("netsuite", config) as connector:
        stream = connector.spec.streams["customers"]
        args = connector.build_request(stream.request, {"state": {"cursor": None, "since": None, "until": None}, "page": {"after": 987654321}, "partition": None,
                                                        "stream": "customers"}, "bench")
    return str(args.json["q"]).replace("987654321", AFTER)


def _digest(path: Path) -> tuple[int, str]:
    data = path.read_bytes()
    return data.count(b"\n"), hashlib.sha256(data).hexdigest()


# --- the two measurements ---------------------------------------------------------------------------


def throughput(customers: int, rounds: int, work: Path) -> dict[str, Any]:
    with emulator(customers) as info:
        config_path = work / "netsuite.json"
        config_path.write_text(json.dumps(_config(info, concurrency=1)))
        default_path = work / "netsuite-default.json"
        default_path.write_text(json.dumps(_config(info)))
        query_path = work / "customers.sql"
        query_path.write_text(_query_template(_config(info)))
        read = [*_connector_cli(), "read", "netsuite", "--stream", "customers", "--config"]
        ours_cmd = [*read, str(config_path)]
        plain_cmd = [sys.executable, str(Path(__file__).resolve()), "plain", str(config_path), str(query_path)]
        ours, loop, wide = [], [], []
        _timed([*read, str(config_path), "--limit", "10"], work / "warm.jsonl")  # compile .pyc once
        for _ in range(rounds):
            loop.append(_timed([*plain_cmd, str(work / "plain.jsonl")], work / "plain-stdout.txt"))
            ours.append(_timed(ours_cmd, work / "ours.jsonl"))
        wide.append(_timed([*read, str(default_path)], work / "ours-c5.jsonl"))
        ours_lines, ours_hash = _digest(work / "ours.jsonl")
        plain_lines, plain_hash = _digest(work / "plain.jsonl")
        wide_lines, _ = _digest(work / "ours-c5.jsonl")
    if not ours_lines == plain_lines == wide_lines == customers:
        raise RuntimeError(f"record counts differ: connector {ours_lines}, c5 {wide_lines}, plain {plain_lines}, seeded {customers}")
    ours_s, loop_s = statistics.median(ours), statistics.median(loop)
    return {
        "customers": customers,
        "rounds": rounds,
        "identical_output": ours_hash == plain_hash,
        "connector_s": ours_s,
        "plain_s": loop_s,
        "connector_c5_s": wide[0],
        "connector_rps": customers / ours_s,
        "plain_rps": customers / loop_s,
        "connector_c5_rps": customers / wide[0],
        "ratio": loop_s / ours_s,
    }


def latency(customers: int, delay: float) -> dict[str, Any]:
    from connector_core.engine.connector import Connector

    with emulator(customers) as info:
        _control(info, "POST", "/_emulator/faults", {"kind": "latency", "seconds": delay, "path_prefix": "/services/rest/query/"})
        timings = {}
        for concurrency in (1, 5):
            with Connector.open("netsuite", _config(info, concurrency=concurrency)) as connector:
                started = time.perf_counter()
                count = sum(1 for _ in connector.read("customers"))
                timings[concurrency] = time.perf_counter() - started
            if count != customers:
                raise RuntimeError(f"read {count} of {customers} customers at concurrency {concurrency}")
        stats = _control(info, "GET", "/_emulator/stats?recent=0")
    return {
        "customers": customers,
        "pages": -(-customers // LIMIT),
        "latency_s": delay,
        "c1_s": timings[1],
        "c5_s": timings[5],
        "speedup": timings[1] / timings[5],
        "emulator_max_in_flight": stats["max_in_flight"],
    }


def report(tp: dict[str, Any], lat: dict[str, Any]) -> str:
    ok = lambda good: "yes" if good else "NO"  # noqa: E731
    rows = [
        ("throughput, customers", f"{tp['customers']:,}", "", ""),
        ("plain requests + requests_oauthlib loop", f"{tp['plain_rps']:,.0f} rec/s", f"{tp['plain_s']:.2f} s", ""),
        ("connector-core read (concurrency 1)", f"{tp['connector_rps']:,.0f} rec/s", f"{tp['connector_s']:.2f} s", ""),
        ("connector-core read (concurrency 5)", f"{tp['connector_c5_rps']:,.0f} rec/s", f"{tp['connector_c5_s']:.2f} s", "(info)"),
        ("ratio connector / plain", f"{tp['ratio']:.2f}×", f"target ≥ {TARGET_RATIO}×", ok(tp["ratio"] >= TARGET_RATIO)),
        ("same JSON lines (sha256)", str(tp["identical_output"]), "", ok(tp["identical_output"])),
        (f"latency {lat['latency_s'] * 1000:.0f} ms, {lat['pages']} pages", f"{lat['customers']:,} customers", "", ""),
        ("concurrency 1", f"{lat['c1_s']:.2f} s", "", ""),
        ("concurrency 5", f"{lat['c5_s']:.2f} s", f"emulator peak {lat['emulator_max_in_flight']} in flight", ""),
        ("speedup", f"{lat['speedup']:.2f}×", f"target ≥ {TARGET_SPEEDUP}×", ok(lat["speedup"] >= TARGET_SPEEDUP)),
    ]
    width = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, width, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "plain":
        plain(*argv[1:4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 customers, one round, 20 latency pages")
    parser.add_argument("--customers", type=int, help="customers for the throughput part (default 200,000)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 3)")
    parser.add_argument("--latency-customers", type=int, help="customers for the latency part (default 40,000)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    customers = args.customers or (20_000 if args.quick else 200_000)
    rounds = args.rounds or (1 if args.quick else 3)
    lat_customers = args.latency_customers or (20_000 if args.quick else 40_000)
    with tempfile.TemporaryDirectory(prefix="netsuite-bench-") as tmp:
        tp = throughput(customers, rounds, Path(tmp))
    lat = latency(lat_customers, 0.1)
    print(report(tp, lat))
    if args.json:
        figures = {"when": dt.datetime.now(dt.UTC).isoformat(), "python": sys.version.split()[0], "throughput": tp, "latency": lat}
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if tp["ratio"] >= TARGET_RATIO and lat["speedup"] >= TARGET_SPEEDUP and tp["identical_output"] else 1


if __name__ == "__main__":
    sys.exit(main())
