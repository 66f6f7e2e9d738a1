"""Sync benchmark: ``connector-core run`` of HubSpot companies → NetSuite customers against the emulators.

Each emulator runs in its own process; the sync runs as a third, whole process (``connector-core run
CONNECTION``, start-up included), as cron would start it:

  HubSpot   10,000 seeded companies read incrementally through search (pages of 200). The search limit
            (5/s on real HubSpot) and the 10-second budget are raised so the read does not hide the
            write path under test; the 10,000-result search cap is kept.
  NetSuite  every request delayed 20 ms (an injected ``latency`` fault on ``/services/``), the account's
            concurrency limit 5 (429 above it); the connector's concurrency 5. Each company is upserted
            as a customer by external id (``upsert_customer``: ``PUT /customer/eid:hs-<id>``).

The floor is what the destination allows: 10,000 × 20 ms / 5 = 40 s. Reported, in one run:

  first run   wall time of the whole process as a ratio to the floor (target ≤ 1.3×), with zero failed
              records: the emulator must hold exactly 10,000 customers with external id ``hs-…`` and the
              state no dead letter;
  second run  the same command again with nothing changed, as a share of the first run (target < 10 %);
              no record may be written (the emulator's record-API counter must not move);
  memory      the peak RSS of the ``connector-core run`` process (``ru_maxrss`` from ``os.wait4``).

Times are wall-clock on a shared, noisy 2-core machine: only the ratios within one run mean anything.

    .venv/bin/python benchmarks/sync_throughput.py                  # 10,000 companies (about a minute)
    .venv/bin/python benchmarks/sync_throughput.py --companies 1000 # smoke run
    .venv/bin/python benchmarks/sync_throughput.py --profile        # also write a cProfile of the first run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LATENCY = 0.020
CONCURRENCY = 5
TARGET_FIRST = 1.3
TARGET_SECOND = 0.10
EXTERNAL_PREFIX = "hs-"


# --- the baseline: what a hand-written threaded script does (run as its own process) ------------------


def plain(config_path: str) -> None:
    """Read every company through search (pages of 200, restarted past the 10,000 cap from the last id),
    then PUT each as a customer by external id from 5 threads: requests + requests_oauthlib (HMAC-SHA256,
    realm), the same fields. No state, no retries, no checkpoints."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests
    from requests_oauthlib import OAuth1

    config = json.loads(Path(config_path).read_text())
    hs, ns = config["hubspot"], config["netsuite"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {hs['token']}"
    companies: list[dict[str, Any]] = []
    after_id = 0
    while True:
        after: str | None = None
        count = 0
        while True:
            body: dict[str, Any] = {
                "filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "GT", "value": str(after_id)}]}],
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "properties": ["name", "phone", "domain"], "limit": 200,
            }  # fmt: skip
            if after:
                body["after"] = after
            response = session.post(hs["url"] + "/crm/v3/objects/companies/search", json=body, timeout=60)
            response.raise_for_status()
            page = response.json()
            companies += page["results"]
            count += len(page["results"])
            after = (page.get("paging") or {}).get("next", {}).get("after")
            if not after or count >= 10_000:
                break
        if count < 10_000:
            break
        after_id = int(companies[-1]["id"])
    auth = OAuth1(ns["consumer_key"], ns["consumer_secret"], ns["token_id"], ns["token_secret"],
                  signature_method="HMAC-SHA256", realm=ns["account_id"].upper().replace("-", "_"))  # fmt: skip
    local = threading.local()

    def put(company: dict[str, Any]) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        props = company["properties"]
        customer = {
            "companyName": props.get("name"), "entityId": f"PL{company['id']}", "phone": props.get("phone"),
            "comments": f"HubSpot company {company['id']} ({props.get('domain')})", "subsidiary": {"id": "1"},
        }  # fmt: skip
        url = f"{ns['url']}/services/rest/record/v1/customer/eid:pl-{company['id']}"
        response = local.session.put(url, json=customer, auth=auth, timeout=60)
        response.raise_for_status()

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(put, companies))


# --- processes ------------------------------------------------------------------------------------


def _connector_cli() -> list[str]:
    script = Path(sys.executable).with_name("connector-core")
    return [str(script)] if script.exists() else [sys.executable, "-m", "connector_core"]


def _env() -> dict[str, str]:
    """A deployed-like environment: buffered stdout, bytecode cached (outside the source tree)."""
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "cc-bench-pycache")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@contextmanager
def _process(cmd: list[str]) -> Iterator[dict[str, Any]]:
    """A server process that prints one JSON line when ready; yields that line."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(), cwd=ROOT)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("{"):
            raise RuntimeError(f"{' '.join(cmd[2:4])} did not start (said {line!r})")
        info = json.loads(line)
        info["pid"] = proc.pid
        yield info
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def netsuite_emulator() -> Any:
    return _process([
        sys.executable, "-m", "connectors.netsuite.emulator", "--port", "0", "--customers", "0",
        "--invoices", "0", "--sales-orders", "0", "--items", "1", "--concurrency-limit", str(CONCURRENCY),
    ])  # fmt: skip


def hubspot_emulator(companies: int) -> Any:
    return _process([
        sys.executable, "-m", "connectors.crm.emulator", "--port", "0", "--companies", str(companies),
        "--contacts", "0", "--deals", "0", "--search-per-second", "1000", "--rate-limit", "100000",
        "--daily-limit", "100000000",
    ])  # fmt: skip


def _http(url: str, method: str = "GET", body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_run(cmd: list[str], log: Path) -> dict[str, Any]:
    """Run one whole process; wall time around it, its own peak RSS from wait4."""
    with open(log, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL, env=_env(), cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": wall, "exit": proc.returncode, "max_rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}


# --- the connection ---------------------------------------------------------------------------------


def connection(ns: dict[str, Any], hs: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "hubspot-to-netsuite-bench",
        "source": {
            "connector": "hubspot",
            "config": {"base_url": hs["url"], "access_token": hs["private_app_token"], "search_rate_limit": 1000, "concurrency": 4},
        },
        "destination": {
            "connector": "netsuite",
            "config": {
                "account_id": ns["account_id"], "base_url": ns["url"], **ns["tba"], "subsidiary_id": "1",
                "concurrency": CONCURRENCY,
            },
        },
        "direction": "crm->netsuite",
        "state": "state.sqlite",
        "flows": [
            {
                "name": "customers",
                "from": {"stream": "companies"},
                "to": {"operation": "upsert_customer", "into": "payload", "external_id": "external_id"},
                "match": {"external_id": EXTERNAL_PREFIX + "{{ record.id }}"},
                "mapping": {
                    "companyName": "properties.name",
                    "entityId": {"template": "HS{{ record.id }}"},
                    "phone": "properties.phone",
                    "comments": {"template": "HubSpot company {{ record.id }} ({{ record.properties.domain }})"},
                },
            }
        ],
    }  # fmt: skip


def ns_customers(ns: dict[str, Any], prefix: str = EXTERNAL_PREFIX) -> tuple[int, int]:
    """(customers with our external ids, distinct external ids among them)."""
    q = f"SELECT COUNT(*) AS n, COUNT(DISTINCT externalid) AS d FROM customer WHERE externalid LIKE '{prefix}%'"
    page = _http(ns["url"] + "/_emulator/suiteql?limit=1&offset=0", "POST", {"q": q})
    row = page["items"][0]
    return int(row["n"]), int(row["d"])


def ns_record_requests(ns: dict[str, Any]) -> int:
    stats = _http(ns["url"] + "/_emulator/stats?recent=0")
    return int(stats.get("by_route", {}).get("record", 0))


def state_figures(state: Path, name: str) -> dict[str, Any]:
    from connector_core.sync.store import SQLiteStateStore

    with SQLiteStateStore(state, name) as store:
        runs = store.runs(5)
        return {
            "dead_letters": len(store.dead_letters()),
            "mapped": len(store.mapped_rows("customers")),
            "last_run": {"status": runs[0].status, "counts": runs[0].counts, "duration": runs[0].duration} if runs else None,
        }


# --- the benchmark ----------------------------------------------------------------------------------


def bench(companies: int, work: Path, profile: bool, py_spy: str | None = None) -> dict[str, Any]:
    with netsuite_emulator() as ns, hubspot_emulator(companies) as hs:
        _http(ns["url"] + "/_emulator/faults", "POST", {"kind": "latency", "seconds": LATENCY, "path_prefix": "/services/"})
        path = work / "hubspot-to-netsuite.yaml"
        path.write_text(yaml.safe_dump(connection(ns, hs), sort_keys=False))
        cmd = [*_connector_cli(), "run", str(path)]
        (HERE / "out").mkdir(exist_ok=True)
        if profile:
            cmd = [sys.executable, "-m", "cProfile", "-o", str(HERE / "out" / "sync_throughput.prof"), "-m", "connector_core", "run", str(path)]
        if py_spy:
            # every thread (cProfile sees only the main one): the writes run in worker threads
            cmd = [py_spy, "record", "--threads", "--gil", "--rate", "250", "--format", "raw", "--output", str(HERE / "out" / "sync_throughput.pyspy.txt"), "--", *cmd]
        # warm the bytecode cache once, against a throwaway connection with nothing to write
        warm = work / "warm.yaml"
        warm_conn = connection(ns, hs)
        warm_conn["name"], warm_conn["state"] = "warm", "warm.sqlite"
        warm_conn["flows"][0]["filter"] = "{{ false }}"
        warm.write_text(yaml.safe_dump(warm_conn, sort_keys=False))
        timed_run([*_connector_cli(), "run", str(warm)], work / "warm.log")

        # the baseline first, then a fresh account (reseeded, the fault added again) for connector-core
        plain_config = work / "plain.json"
        plain_config.write_text(json.dumps({"hubspot": {"url": hs["url"], "token": hs["private_app_token"]},
                                            "netsuite": {"url": ns["url"], "account_id": ns["account_id"], **ns["tba"]}}))  # fmt: skip
        baseline = timed_run([sys.executable, str(Path(__file__).resolve()), "plain", str(plain_config)], work / "plain.log")
        baseline["customers"] = ns_customers(ns, "pl-")[0]
        _http(ns["url"] + "/_emulator/reset", "POST", {})
        _http(ns["url"] + "/_emulator/faults", "POST", {"kind": "latency", "seconds": LATENCY, "path_prefix": "/services/"})

        ns_cpu, hs_cpu = cpu_seconds(ns["pid"]), cpu_seconds(hs["pid"])
        first = timed_run(cmd, work / "first.log")
        first["netsuite_emulator_cpu_s"] = cpu_seconds(ns["pid"]) - ns_cpu
        first["hubspot_emulator_cpu_s"] = cpu_seconds(hs["pid"]) - hs_cpu
        first["log_tail"] = (work / "first.log").read_text()[-1500:]
        first["customers"], first["distinct"] = ns_customers(ns)
        first["record_requests"] = ns_record_requests(ns)
        stats = _http(ns["url"] + "/_emulator/stats?recent=0")
        first["ns_max_in_flight"] = stats.get("max_in_flight")
        first["ns_rejected_concurrency"] = stats.get("rejected_concurrency")
        first["state"] = state_figures(work / "state.sqlite", "hubspot-to-netsuite-bench")

        second = timed_run([*_connector_cli(), "run", str(path)], work / "second.log")
        second["log_tail"] = (work / "second.log").read_text()[-1500:]
        second["customers"], second["distinct"] = ns_customers(ns)
        second["record_requests"] = ns_record_requests(ns) - first["record_requests"]
        second["state"] = state_figures(work / "state.sqlite", "hubspot-to-netsuite-bench")
    floor = companies * LATENCY / CONCURRENCY
    return {
        "companies": companies,
        "floor_s": floor,
        "first": first,
        "second": second,
        "plain": baseline,
        "plain_ratio": baseline["wall_s"] / floor,
        "versus_plain": first["wall_s"] / baseline["wall_s"],
        "first_ratio": first["wall_s"] / floor,
        "second_share": second["wall_s"] / first["wall_s"],
    }


def check(result: dict[str, Any]) -> list[str]:
    n = result["companies"]
    first, second = result["first"], result["second"]
    problems = []
    if first["exit"] != 0:
        problems.append(f"first run exited {first['exit']}: {first['log_tail']}")
    if result["plain"]["exit"] != 0 or result["plain"]["customers"] != n:
        problems.append(f"the plain script exited {result['plain']['exit']} with {result['plain']['customers']} customers written")
    if (first["customers"], first["distinct"]) != (n, n):
        problems.append(f"first run: the emulator holds {first['customers']} customers ({first['distinct']} distinct), expected {n}")
    if first["state"]["dead_letters"]:
        problems.append(f"first run: {first['state']['dead_letters']} dead letters")
    if second["exit"] != 0:
        problems.append(f"second run exited {second['exit']}: {second['log_tail']}")
    if second["record_requests"]:
        problems.append(f"second run wrote {second['record_requests']} records")
    if (second["customers"], second["distinct"]) != (n, n):
        problems.append(f"second run: the emulator holds {second['customers']} customers, expected {n}")
    return problems


def report(result: dict[str, Any]) -> str:
    first, second = result["first"], result["second"]
    ok = lambda good: "PASS" if good else "MISS"  # noqa: E731
    rows = [
        ("companies → customers", f"{result['companies']:,}", f"floor {result['companies']:,} × {LATENCY * 1000:.0f} ms / {CONCURRENCY}"),
        ("floor", f"{result['floor_s']:.1f} s", ""),
        ("first run (whole process)", f"{first['wall_s']:.1f} s", f"cpu {first['cpu_s']:.1f} s"),
        ("  emulators' cpu", f"{first['netsuite_emulator_cpu_s']:.1f} s", f"NetSuite; HubSpot {first['hubspot_emulator_cpu_s']:.1f} s (2 cores shared by all)"),
        ("  ratio to floor", f"{result['first_ratio']:.2f}×", f"target ≤ {TARGET_FIRST}×  {ok(result['first_ratio'] <= TARGET_FIRST)}"),
        ("  customers at the emulator", f"{first['customers']:,}", f"distinct {first['distinct']:,}"),
        ("  dead letters", str(first["state"]["dead_letters"]), f"run status {first['state']['last_run']['status'] if first['state']['last_run'] else '-'}"),
        ("  NetSuite max in flight / 429s", f"{first['ns_max_in_flight']} / {first['ns_rejected_concurrency']}", "concurrency-limit rejections"),
        ("plain threaded script (baseline)", f"{result['plain']['wall_s']:.1f} s", f"{result['plain_ratio']:.2f}× the floor; cpu {result['plain']['cpu_s']:.1f} s; {result['plain']['customers']:,} customers"),
        ("  connector-core / plain script", f"{result['versus_plain']:.2f}×", "same machine, same run"),
        ("second run, nothing changed", f"{second['wall_s']:.2f} s", f"{second['record_requests']} record writes"),
        ("  share of the first run", f"{result['second_share']:.1%}", f"target < {TARGET_SECOND:.0%}  {ok(result['second_share'] < TARGET_SECOND)}"),
        ("peak RSS, first run", f"{first['max_rss_mb']:.1f} MB", "ru_maxrss of the run process"),
        ("peak RSS, second run", f"{second['max_rss_mb']:.1f} MB", ""),
    ]
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)).rstrip() for r in rows)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "plain":
        plain(argv[1])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="run the first sync under cProfile (benchmarks/out/sync_throughput.prof)")
    parser.add_argument("--py-spy", metavar="PY_SPY", help="record the first sync with this py-spy binary (benchmarks/out/sync_throughput.pyspy.txt, collapsed stacks)")
    parser.add_argument("--json", type=Path, help="also write the figures here (default benchmarks/out/sync_throughput-<time>.json)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        result = bench(args.companies, Path(tmp), args.profile, args.py_spy)
    result["when"] = dt.datetime.now(dt.UTC).isoformat()
    result["machine"] = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "platform": platform.platform(), "load": os.getloadavg()}
    text = report(result)
    print(text)
    problems = check(result)
    for problem in problems:
        print("PROBLEM:", problem)
    out = args.json or HERE / "out" / f"sync_throughput-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({**result, "table": text, "problems": problems}, indent=2, default=str))
    met = result["first_ratio"] <= TARGET_FIRST and result["second_share"] < TARGET_SECOND
    return 0 if met and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
