"""State back ends: the same sync with its state in SQLite and in PostgreSQL (issue 12 §4, second bullet).

The sync of ``sync_throughput.py`` (HubSpot companies → NetSuite customers against the emulators, NetSuite
requests delayed 20 ms, concurrency 5; its emulator processes and connection are reused from there) runs
as a whole process, ``connector-core run CONNECTION --state LOCATION``, once on a new SQLite file and once
on a new PostgreSQL database, alternately, for each round (NetSuite is reset before every run, so each
writes every customer). Reported, in one run:

  ratio         PostgreSQL wall time / SQLite wall time, per round and the median (goal ≤ 1.2×);
  store share   the time the run spent inside the state store (every StateStore call, the transaction of
                each committed batch included, nested calls counted once) as a share of its wall time,
                and per committed batch; measured by wrapping the store's methods in the run process
                (``perf_counter`` around each call: about a microsecond each);
  checks        every run exits 0, the emulator holds exactly N customers, no dead letter.

PostgreSQL is the server at 127.0.0.1:5432 (``CONNECTOR_CORE_TEST_POSTGRES`` names another maintenance
database); a database with a random name is made for each run and dropped after.

    .venv/bin/python benchmarks/state_backends.py                   # 2,000 companies, 3 rounds (about 2 minutes)
    .venv/bin/python benchmarks/state_backends.py --companies 5000  # the README's figure
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sync_throughput as base  # noqa: E402  (the emulators, the connection and the timed process)

ADMIN = os.environ.get("CONNECTOR_CORE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
GOAL = 1.2
NAME = "hubspot-to-netsuite-bench"


# --- in the run process: the CLI with the store's methods timed ---------------------------------------

_STORE_METHODS = (
    "__init__", "cursor", "mapped", "mapped_rows", "holder_of_external_id", "written_as", "pending", "add_pending",
    "dead_letters", "outbox", "cursors", "batch", "start_run", "finish_run", "mark_interrupted_runs", "runs",
    "last_run", "acquire_lease", "renew_lease", "release_lease", "lease_holder", "close",
)  # fmt: skip


def timed_cli(argv: list[str], out: str) -> int:
    """``connector-core ARGV`` in this process, every state store call timed; the totals go to OUT (JSON)."""
    from connector_core.cli import main
    from connector_core.sync.store import PostgresStateStore, SQLiteStateStore, SQLStateStore

    totals: dict[str, list[float]] = {}  # method → [calls, seconds]
    local = threading.local()

    def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if getattr(local, "depth", 0):
                return func(*args, **kwargs)  # a store call inside another: counted in the outer one
            local.depth = 1
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                local.depth = 0
                entry = totals.setdefault(name, [0, 0.0])
                entry[0] += 1
                entry[1] += time.perf_counter() - started

        return call

    def timed_batch(func: Callable[..., Any]) -> Callable[..., Any]:
        @contextmanager
        def batch(*args: Any, **kwargs: Any) -> Iterator[Any]:
            outer = not getattr(local, "depth", 0)
            local.depth = getattr(local, "depth", 0) + 1
            started = time.perf_counter()
            try:
                with func(*args, **kwargs) as tx:
                    yield tx
            finally:
                local.depth -= 1
                if outer:
                    entry = totals.setdefault("batch", [0, 0.0])
                    entry[0] += 1
                    entry[1] += time.perf_counter() - started

        return batch

    for cls in (SQLStateStore, SQLiteStateStore, PostgresStateStore):
        for name in _STORE_METHODS:
            if name in vars(cls):
                setattr(cls, name, timed_batch(vars(cls)[name]) if name == "batch" else timed(name, vars(cls)[name]))
    started = time.perf_counter()
    try:
        main(argv, standalone_mode=False)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        Path(out).write_text(json.dumps({"wall_s": time.perf_counter() - started, "store": totals}))
    return code


# --- the benchmark ------------------------------------------------------------------------------------


@contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg
    from psycopg import sql
    from sqlalchemy import make_url

    name = f"cc_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def one_run(path: Path, location: str, work: Path, label: str, ns: dict[str, Any]) -> dict[str, Any]:
    """NetSuite reset (every customer to write again), then the run as a whole process, timed."""
    base._http(ns["url"] + "/_emulator/reset", "POST", {})
    base._http(ns["url"] + "/_emulator/faults", "POST", {"kind": "latency", "seconds": base.LATENCY, "path_prefix": "/services/"})
    figures = work / f"{label}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "timed-cli", str(figures), "run", str(path), "--state", location]
    result = base.timed_run(cmd, work / f"{label}.log")
    result["log_tail"] = (work / f"{label}.log").read_text()[-1500:]
    result["customers"], result["distinct"] = base.ns_customers(ns)
    inner = json.loads(figures.read_text()) if figures.exists() else {"wall_s": float("nan"), "store": {}}
    store = inner["store"]
    result["store_s"] = sum(seconds for _, seconds in store.values())
    result["store_share"] = result["store_s"] / inner["wall_s"]
    calls, seconds = store.get("batch", [0, 0.0])
    result["batches"] = calls
    result["per_batch_ms"] = 1000 * seconds / calls if calls else float("nan")
    result["store"] = store
    from connector_core.sync.store import open_store

    with open_store(location, NAME) as opened:
        result["dead_letters"] = len(opened.dead_letters())
        last = opened.last_run()
        result["status"] = last.status if last else None
    return result


def bench(companies: int, rounds: int, work: Path) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with base.netsuite_emulator() as ns, base.hubspot_emulator(companies) as hs:
        connection = base.connection(ns, hs)
        connection.pop("state")
        path = work / "bench.yaml"
        path.write_text(yaml.safe_dump(connection, sort_keys=False))
        warm = dict(connection, name="warm", flows=[dict(connection["flows"][0], filter="{{ false }}")])
        (work / "warm.yaml").write_text(yaml.safe_dump(warm, sort_keys=False))
        with postgres_database() as url:  # bytecode and both back ends' first connections, untimed
            for location in (str(work / "warm.sqlite"), url):
                base.timed_run([*base._connector_cli(), "run", str(work / "warm.yaml"), "--state", location], work / "warm.log")
        for number in range(1, rounds + 1):
            order = ("sqlite", "postgresql") if number % 2 else ("postgresql", "sqlite")  # alternate which goes first
            for backend in order:
                label = f"round{number}-{backend}"
                if backend == "sqlite":
                    result = one_run(path, str(work / f"{label}.sqlite"), work, label, ns)
                else:
                    with postgres_database() as url:
                        result = one_run(path, url, work, label, ns)
                runs.append({"round": number, "backend": backend, **result})
                print(f"  {label}: {result['wall_s']:.1f} s, exit {result['exit']}, store {result['store_share']:.1%}", file=sys.stderr)
    ratios = []
    for number in range(1, rounds + 1):
        wall = {r["backend"]: r["wall_s"] for r in runs if r["round"] == number}
        ratios.append(wall["postgresql"] / wall["sqlite"])
    return {"companies": companies, "rounds": rounds, "runs": runs, "ratios": ratios, "ratio": statistics.median(ratios)}


def check(result: dict[str, Any]) -> list[str]:
    problems = []
    for run in result["runs"]:
        label = f"round {run['round']} {run['backend']}"
        if run["exit"] != 0:
            problems.append(f"{label}: exited {run['exit']}: {run['log_tail']}")
        if (run["customers"], run["distinct"]) != (result["companies"], result["companies"]):
            problems.append(f"{label}: the emulator holds {run['customers']} customers ({run['distinct']} distinct), expected {result['companies']}")
        if run["dead_letters"] or run["status"] != "ok":
            problems.append(f"{label}: status {run['status']}, {run['dead_letters']} dead letters")
    return problems


def report(result: dict[str, Any]) -> str:
    rows = [("round", "back end", "wall", "store share", "per batch", "batches", "mapped()", "peak RSS")]
    for run in result["runs"]:
        calls, seconds = run["store"].get("mapped", [0, 0.0])
        rows.append((
            str(run["round"]), run["backend"], f"{run['wall_s']:.2f} s", f"{run['store_share']:.1%}", f"{run['per_batch_ms']:.2f} ms",
            str(run["batches"]), f"{1e6 * seconds / calls:.0f} µs" if calls else "-", f"{run['max_rss_mb']:.0f} MB",
        ))  # fmt: skip
    width = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = "\n".join("  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)).rstrip() for r in rows)
    by = {b: [r["wall_s"] for r in result["runs"] if r["backend"] == b] for b in ("sqlite", "postgresql")}
    verdict = "PASS" if result["ratio"] <= GOAL else "MISS"
    return (
        f"{table}\n\nmedian wall: SQLite {statistics.median(by['sqlite']):.2f} s, PostgreSQL {statistics.median(by['postgresql']):.2f} s\n"
        f"PostgreSQL / SQLite per round: {', '.join(f'{r:.2f}×' for r in result['ratios'])}; median {result['ratio']:.2f}× "
        f"(goal ≤ {GOAL}×)  {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "timed-cli":
        return timed_cli(argv[2:], argv[1])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here (default benchmarks/out/state_backends-<time>.json)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="state-bench-") as tmp:
        result = bench(args.companies, args.rounds, Path(tmp))
    result["when"] = dt.datetime.now(dt.UTC).isoformat()
    result["machine"] = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "platform": platform.platform(), "load_before": load_before, "load_after": os.getloadavg()}
    text = report(result)
    print(text)
    print(f"load average before {' / '.join(f'{x:.2f}' for x in load_before)}, after {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    problems = check(result)
    for problem in problems:
        print("PROBLEM:", problem)
    out = args.json or HERE / "out" / f"state_backends-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({**result, "table": text, "problems": problems}, indent=2, default=str))
    return 0 if result["ratio"] <= GOAL and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
