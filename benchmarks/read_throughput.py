"""Read benchmarks for ``connector-core read`` against a local SuiteQL look-alike.

Everything is measured as whole processes, started one after the other in the same run, so that only
ratios within one run are compared (the machine is shared and noisy):

  (a/b) throughput  ``connector-core read`` (concurrency 1, i.e. the same sequential pagination) vs
                    ``benchmarks/plain_loop.py`` (requests + stdlib json), run alternately, medians;
                    plus ``connector-core read`` at concurrency 4 for information.
  (c)   start-up    ``connector-core read`` of an empty stream (totalResults 0), median of N runs.
  (d)   memory      peak RSS of ``connector-core read`` for 100k and 1M records (and the growth).
  (e)   latency     with a fixed delay per request: concurrency 8 vs concurrency 1 wall time.

The server (benchmarks/suiteql_server.py) runs in its own process. Usage:

    .venv/bin/python benchmarks/read_throughput.py            # full run, a few minutes
    .venv/bin/python benchmarks/read_throughput.py --quick    # smoke run, ~30 s

Results are printed as a table and written to benchmarks/out/ as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPEC = HERE / "suiteql_bench.yaml"
SERVER = HERE / "suiteql_server.py"
PLAIN = HERE / "plain_loop.py"
OUT = HERE / "out"
STREAM = "transactions"
EMPTY_QUERY = "SELECT * FROM transaction WHERE 1 = 0"

TARGETS = {
    "throughput_ratio": ("≥", 0.8),
    "startup_s": ("<", 0.35),
    "peak_rss_mb": ("<", 60.0),
    "rss_growth_mb": ("<", 30.0),
    "latency_speedup": ("≥", 4.0),
}


# --- processes -------------------------------------------------------------------------------------


@dataclass
class Run:
    wall_s: float
    max_rss_mb: float
    returncode: int
    stderr: str
    started: float = 0.0  # time.monotonic() (CLOCK_MONOTONIC: the same clock in every process here)
    ended: float = 0.0
    span_s: float | None = None  # first request seen by the server → process exit: the read, start-up excluded


# Environment of the measured processes; main() sets it (see child_env).
CHILD_ENV: dict[str, str] = dict(os.environ)


def child_env(pycache: Path, as_is: bool) -> dict[str, str]:
    """What a deployed install sees: buffered stdout and compiled bytecode (.pyc) files.

    PYTHONUNBUFFERED=1 would make every record write a syscall in both readers, and
    PYTHONDONTWRITEBYTECODE=1 would recompile connector-core's sources on every start. The .pyc files
    go to a private PYTHONPYCACHEPREFIX, so nothing is written into the source tree.
    """
    env = dict(os.environ)
    if not as_is:
        env.pop("PYTHONUNBUFFERED", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_process(cmd: list[str], stdout: str | os.PathLike[str] = os.devnull, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` with stdout redirected to a file; wall time and this child's own peak RSS (wait4)."""
    with open(stdout, "wb") as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env or CHILD_ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        ended = time.monotonic()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4; tell Popen
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return Run(ended - started, usage.ru_maxrss / 1024, proc.returncode, stderr, started, ended)  # ru_maxrss: KiB


#: How a source tree put first on PYTHONPATH is started, as its console script would start it (trees from
#: before ``cli.run`` existed start ``cli.main``); the installed script would import the installed entry point.
TREE_LAUNCHER = "import connector_core.cli as cli; (getattr(cli, 'run', None) or cli.main)()"


def connector_cmd(tree: Path | None = None, python: str = sys.executable) -> list[str]:
    """The command that starts connector-core with ``python``'s install: its script, or ``tree``'s code."""
    if tree is not None:
        return [python, "-P", "-c", TREE_LAUNCHER]  # -P: not the working directory first, the tree
    script = Path(python).parent / "connector-core"
    if script.exists():
        return [str(script)]
    found = shutil.which("connector-core")
    return [found] if found else [sys.executable, "-m", "connector_core.cli"]


@dataclass
class Server:
    base_url: str
    records: int
    latency: float

    def stats(self, reset: bool = True) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base_url}/_stats{'?reset=1' if reset else ''}", timeout=10) as response:
            return json.loads(response.read())


@contextmanager
def server(records: int, latency: float = 0.0) -> Iterator[Server]:
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--records", str(records), "--latency", str(latency), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=CHILD_ENV,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.match(r"READY (\d+)", line)
        if not match:
            raise RuntimeError(f"benchmark server did not start (said {line!r})")
        yield Server(f"http://127.0.0.1:{match.group(1)}", records, latency)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Workspace:
    """Config files for the runs (base_url, query and concurrency are config values), in a temp dir."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def config(self, srv: Server, concurrency: int, query: str | None = None) -> Path:
        data: dict[str, Any] = {"base_url": srv.base_url, "concurrency": concurrency}
        if query:
            data["query"] = query
        path = self.root / f"config_{hashlib.sha1(json.dumps(data).encode()).hexdigest()[:10]}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    def read_cmd(self, srv: Server, concurrency: int, query: str | None = None) -> list[str]:
        return [*connector_cmd(), "read", str(SPEC), "--config", str(self.config(srv, concurrency, query)), "--stream", STREAM]

    def plain_cmd(self, srv: Server, query: str | None = None) -> list[str]:
        return [sys.executable, str(PLAIN), srv.base_url, *(["--query", query] if query else [])]


def checked(run: Run, what: str, srv: Server | None = None, expect: int | None = None) -> Run:
    if run.returncode != 0:
        raise SystemExit(f"{what} failed with exit code {run.returncode}:\n{run.stderr}")
    if srv is not None and expect is not None:
        stats = srv.stats()
        if stats["items"] != expect:
            raise SystemExit(f"{what}: the server handed out {stats['items']} records, expected {expect}")
        if stats["first"] is not None:
            run.span_s = run.ended - stats["first"]
    return run


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- phases ----------------------------------------------------------------------------------------


def phase_correctness(ws: Workspace, tmp: Path) -> dict[str, Any]:
    """Both readers must write the very same lines (2,500 records: two full pages and a short one)."""
    records = 2_500
    with server(records) as srv:
        outputs = {}
        for name, cmd in (
            ("connector_c1", ws.read_cmd(srv, 1)),
            ("connector_c4", ws.read_cmd(srv, 4)),
            ("plain_loop", ws.plain_cmd(srv)),
        ):
            target = tmp / f"{name}.jsonl"
            checked(run_process(cmd, target), name, srv, records)
            outputs[name] = target.read_bytes()
    lines = {name: data.count(b"\n") for name, data in outputs.items()}
    same = len(set(outputs.values())) == 1
    if not same or set(lines.values()) != {records}:
        raise SystemExit(f"outputs differ or are incomplete: lines={lines}")
    return {"records": records, "identical_output": same, "bytes": len(outputs["plain_loop"])}


def fetch_only_ceiling(srv: Server) -> float:
    """Records/s of the server + HTTP alone: sequential POSTs, bodies not parsed (in this process)."""
    import requests

    session = requests.Session()
    url = f"{srv.base_url}/services/rest/query/v1/suiteql"
    started = time.perf_counter()
    for offset in range(0, srv.records, 1000):
        session.post(url, params={"limit": 1000, "offset": offset}, json={"q": "SELECT 1"}).content  # noqa: B018
    elapsed = time.perf_counter() - started
    srv.stats()
    return srv.records / elapsed


def phase_throughput(ws: Workspace, records: int, repeats: int) -> dict[str, Any]:
    variants = {
        "connector_c1": lambda srv: ws.read_cmd(srv, 1),
        "plain_loop": lambda srv: ws.plain_cmd(srv),
        "connector_c4": lambda srv: ws.read_cmd(srv, 4),
        "connector_c1_unbuffered": lambda srv: ws.read_cmd(srv, 1),
    }
    envs = {name: CHILD_ENV for name in variants}
    envs["connector_c1_unbuffered"] = {**CHILD_ENV, "PYTHONUNBUFFERED": "1"}
    walls: dict[str, list[float]] = {name: [] for name in variants}
    spans: dict[str, list[float]] = {name: [] for name in variants}
    rss: dict[str, list[float]] = {name: [] for name in variants}
    with server(records) as srv:
        srv.stats()
        ceiling = fetch_only_ceiling(srv)
        for name, cmd in variants.items():  # warm-up: page cache, .pyc files, server threads
            checked(run_process(cmd(srv), env=envs[name]), f"warm-up {name}", srv, records)
        for i in range(repeats):
            for name, cmd in variants.items():
                run = checked(run_process(cmd(srv), env=envs[name]), name, srv, records)
                walls[name].append(run.wall_s)
                spans[name].append(run.span_s or run.wall_s)
                rss[name].append(run.max_rss_mb)
                say(f"  throughput {i + 1}/{repeats} {name:23s} {run.wall_s:6.2f} s  {records / run.wall_s:9,.0f} rec/s")
    result: dict[str, Any] = {"records": records, "repeats": repeats, "fetch_only_ceiling_rps": ceiling}
    for name in variants:
        median = statistics.median(walls[name])
        span = statistics.median(spans[name])
        result[name] = {
            "walls_s": walls[name],
            "median_s": median,
            "records_per_s": records / median,
            "spans_s": spans[name],
            "span_records_per_s": records / span,
            "max_rss_mb": max(rss[name]),
        }
    result["ratio_c1_vs_plain"] = result["connector_c1"]["records_per_s"] / result["plain_loop"]["records_per_s"]
    result["ratio_c4_vs_plain"] = result["connector_c4"]["records_per_s"] / result["plain_loop"]["records_per_s"]
    result["span_ratio_c1_vs_plain"] = result["connector_c1"]["span_records_per_s"] / result["plain_loop"]["span_records_per_s"]
    result["ratio_c1_unbuffered_vs_plain"] = result["connector_c1_unbuffered"]["records_per_s"] / result["plain_loop"]["records_per_s"]
    return result


def phase_startup(ws: Workspace, runs: int) -> dict[str, Any]:
    with server(0) as srv:
        cmds = {
            "python_bare": [sys.executable, "-c", "pass"],
            "plain_loop_empty": ws.plain_cmd(srv, EMPTY_QUERY),
            "connector_empty": ws.read_cmd(srv, 1, EMPTY_QUERY),
        }
        for name, cmd in cmds.items():
            checked(run_process(cmd), f"warm-up {name}")
        times: dict[str, list[float]] = {name: [] for name in cmds}
        rss: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(runs):
            for name, cmd in cmds.items():
                run = checked(run_process(cmd), name)
                times[name].append(run.wall_s)
                rss[name].append(run.max_rss_mb)
    result: dict[str, Any] = {"runs": runs}
    for name, values in times.items():
        result[name] = {"median_s": statistics.median(values), "min_s": min(values), "max_s": max(values), "max_rss_mb": max(rss[name])}
        say(f"  start-up {name:17s} median {result[name]['median_s']:.3f} s (min {result[name]['min_s']:.3f})")
    return result


def phase_memory(ws: Workspace, sizes: list[int], concurrencies: list[int]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for records in sizes:
        with server(records, 0.0) as srv:
            srv.stats()
            for concurrency in concurrencies:
                run = checked(run_process(ws.read_cmd(srv, concurrency)), f"memory c{concurrency} {records}", srv, records)
                result[f"c{concurrency}_{records}"] = {"records": records, "concurrency": concurrency, "max_rss_mb": run.max_rss_mb, "wall_s": run.wall_s}
                say(f"  memory c{concurrency} {records:>9,} records: peak RSS {run.max_rss_mb:6.1f} MB in {run.wall_s:6.2f} s")
    small, large = min(sizes), max(sizes)
    for concurrency in concurrencies:
        result[f"c{concurrency}_growth_mb"] = result[f"c{concurrency}_{large}"]["max_rss_mb"] - result[f"c{concurrency}_{small}"]["max_rss_mb"]
    result["peak_rss_mb"] = max(v["max_rss_mb"] for v in result.values() if isinstance(v, dict))
    result["rss_growth_mb"] = max(result[f"c{c}_growth_mb"] for c in concurrencies)
    result["sizes"] = sizes
    return result


def phase_latency(ws: Workspace, pages: int, latency: float, repeats: int, startup_s: float) -> dict[str, Any]:
    records = pages * 1000
    variants = {
        "connector_c1": lambda srv: ws.read_cmd(srv, 1),
        "connector_c8": lambda srv: ws.read_cmd(srv, 8),
        "plain_loop": lambda srv: ws.plain_cmd(srv),
    }
    walls: dict[str, list[float]] = {name: [] for name in variants}
    spans: dict[str, list[float]] = {name: [] for name in variants}
    with server(records, latency) as srv:
        srv.stats()
        for i in range(repeats):
            for name, cmd in variants.items():
                run = checked(run_process(cmd(srv)), f"latency {name}", srv, records)
                walls[name].append(run.wall_s)
                spans[name].append(run.span_s or run.wall_s)
                say(f"  latency {i + 1}/{repeats} {name:13s} {run.wall_s:6.2f} s (read span {spans[name][-1]:.2f} s)")
    result: dict[str, Any] = {"pages": pages, "records": records, "latency_s": latency, "repeats": repeats}
    for name in variants:
        result[name] = {"walls_s": walls[name], "median_s": statistics.median(walls[name]), "spans_s": spans[name], "span_median_s": statistics.median(spans[name])}
    c1, c8 = result["connector_c1"]["median_s"], result["connector_c8"]["median_s"]
    result["speedup_c8_vs_c1"] = c1 / c8
    # The same ratio without the start-up both processes pay: first request (server clock) to exit.
    result["speedup_c8_vs_c1_read_span"] = result["connector_c1"]["span_median_s"] / result["connector_c8"]["span_median_s"]
    result["speedup_c8_vs_c1_net_of_startup"] = (c1 - startup_s) / max(c8 - startup_s, 1e-9)
    result["speedup_c8_vs_plain"] = result["plain_loop"]["median_s"] / c8
    return result


# --- report ----------------------------------------------------------------------------------------


def verdict(key: str, value: float) -> str:
    op, target = TARGETS[key]
    ok = value >= target if op == "≥" else value < target
    return f"{'PASS' if ok else 'MISS'} (target {op} {target:g})"


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def report(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str]] = []
    t = results.get("throughput")
    if t:
        n = f"{t['records']:,}"
        rows += [
            (f"plain requests loop, {n} records", f"{t['plain_loop']['records_per_s']:,.0f} rec/s", f"median of {t['repeats']}"),
            (f"connector-core read c=1, {n} records", f"{t['connector_c1']['records_per_s']:,.0f} rec/s", f"median of {t['repeats']}"),
            ("  ratio connector c=1 / plain", f"{t['ratio_c1_vs_plain']:.2f}×", verdict("throughput_ratio", t["ratio_c1_vs_plain"])),
            ("  same, read span only (no start-up)", f"{t['span_ratio_c1_vs_plain']:.2f}×", "first request → exit, info"),
            (f"connector-core read c=4, {n} records", f"{t['connector_c4']['records_per_s']:,.0f} rec/s", f"ratio {t['ratio_c4_vs_plain']:.2f}× (info)"),
            ("connector-core read c=1, PYTHONUNBUFFERED=1", f"{t['connector_c1_unbuffered']['records_per_s']:,.0f} rec/s", f"ratio {t['ratio_c1_unbuffered_vs_plain']:.2f}× (info)"),
            ("server+HTTP ceiling (fetch, no parse)", f"{t['fetch_only_ceiling_rps']:,.0f} rec/s", "in-process, info"),
        ]
    s = results.get("startup")
    if s:
        rows += [
            ("start-up: connector-core read, empty", f"{s['connector_empty']['median_s']:.3f} s", verdict("startup_s", s["connector_empty"]["median_s"])),
            ("start-up: plain loop, empty", f"{s['plain_loop_empty']['median_s']:.3f} s", f"median of {s['runs']} (info)"),
            ("start-up: python -c pass", f"{s['python_bare']['median_s']:.3f} s", "interpreter floor (info)"),
            ("peak RSS: connector-core read, empty", f"{s['connector_empty']['max_rss_mb']:.1f} MB", "imports alone (info)"),
            ("peak RSS: plain loop, empty", f"{s['plain_loop_empty']['max_rss_mb']:.1f} MB", "imports alone (info)"),
        ]
    m = results.get("memory")
    if m:
        for value in m.values():
            if isinstance(value, dict):
                rows.append((f"peak RSS c={value['concurrency']}, {value['records']:,} records", f"{value['max_rss_mb']:.1f} MB", f"{value['wall_s']:.1f} s"))
        rows += [
            ("  peak RSS (worst)", f"{m['peak_rss_mb']:.1f} MB", verdict("peak_rss_mb", m["peak_rss_mb"])),
            (f"  growth {min(m['sizes']):,} → {max(m['sizes']):,} (worst)", f"{m['rss_growth_mb']:+.1f} MB", verdict("rss_growth_mb", m["rss_growth_mb"])),
        ]
        if t:
            rows.append((f"  plain loop peak RSS, {t['records']:,} records", f"{t['plain_loop']['max_rss_mb']:.1f} MB", "info"))
    lat = results.get("latency")
    if lat:
        ms = lat["latency_s"] * 1000
        rows += [
            (f"{ms:g} ms/request, {lat['pages']} pages: c=1", f"{lat['connector_c1']['median_s']:.2f} s", f"median of {lat['repeats']}"),
            (f"{ms:g} ms/request, {lat['pages']} pages: c=8", f"{lat['connector_c8']['median_s']:.2f} s", f"median of {lat['repeats']}"),
            (f"{ms:g} ms/request, {lat['pages']} pages: plain", f"{lat['plain_loop']['median_s']:.2f} s", "info"),
            ("  speedup c=8 vs c=1 (whole process)", f"{lat['speedup_c8_vs_c1']:.2f}×", verdict("latency_speedup", lat["speedup_c8_vs_c1"])),
            ("  speedup of the read span (no start-up)", f"{lat['speedup_c8_vs_c1_read_span']:.2f}×", "first request → exit, info"),
            ("  speedup c=8 vs plain loop", f"{lat['speedup_c8_vs_plain']:.2f}×", "info"),
        ]
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{'measure'.ljust(width[0])}  {'value'.rjust(width[1])}  note", "-" * (sum(width) + 6)]
    lines += [f"{a.ljust(width[0])}  {b.rjust(width[1])}  {c}" for a, b, c in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark connector-core read against a local SuiteQL server.")
    parser.add_argument("--records", type=int, help="records for the throughput runs (default 100,000; --quick 5,000)")
    parser.add_argument("--memory-records", type=int, nargs=2, metavar=("SMALL", "LARGE"), help="sizes of the memory runs (default 100,000 1,000,000)")
    parser.add_argument("--repeats", type=int, help="alternating repeats for throughput and latency (default 3)")
    parser.add_argument("--startup-runs", type=int, help="runs of the empty-stream start-up (default 10)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds of injected latency per request (default 0.05)")
    parser.add_argument("--latency-pages", type=int, help="pages of 1,000 records for the latency runs (default: the same stream as the throughput runs, --records / 1000)")
    parser.add_argument("--only", nargs="+", choices=["throughput", "startup", "memory", "latency"], help="run only these phases")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every phase")
    parser.add_argument("--as-is-env", action="store_true", help="keep PYTHONUNBUFFERED/PYTHONDONTWRITEBYTECODE as inherited")
    args = parser.parse_args()

    quick = args.quick
    records = args.records or (5_000 if quick else 100_000)
    sizes = sorted(args.memory_records or ([5_000, 20_000] if quick else [100_000, 1_000_000]))
    repeats = args.repeats or (1 if quick else 3)
    startup_runs = args.startup_runs or (3 if quick else 10)
    latency_pages = args.latency_pages or (10 if quick else records // 1000)  # the same stream as (a/b)
    phases = set(args.only or ["throughput", "startup", "memory", "latency"])

    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "git": subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "targets": {k: f"{op} {v:g}" for k, (op, v) in TARGETS.items()},
        "load_average_at_start": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="cc-bench-") as tmpdir:
        tmp = Path(tmpdir)
        global CHILD_ENV
        CHILD_ENV = child_env(tmp / "pycache", args.as_is_env)
        results["env"] = {k: CHILD_ENV.get(k) for k in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "PYTHONPATH")}
        ws = Workspace(tmp)
        say("correctness: connector-core and the plain loop must write identical lines")
        results["correctness"] = phase_correctness(ws, tmp)
        if "throughput" in phases:
            say(f"(a/b) throughput, {records:,} records, {repeats} alternating repeats")
            results["throughput"] = phase_throughput(ws, records, repeats)
        if "startup" in phases or "latency" in phases:
            say(f"(c) start-up, empty stream, {startup_runs} runs")
            results["startup"] = phase_startup(ws, startup_runs)
        if "memory" in phases:
            say(f"(d) memory, {' and '.join(f'{n:,}' for n in sizes)} records")
            results["memory"] = phase_memory(ws, sizes, [1, 8])
        if "latency" in phases:
            say(f"(e) latency {args.latency * 1000:g} ms/request, {latency_pages} pages")
            results["latency"] = phase_latency(ws, latency_pages, args.latency, repeats, results["startup"]["connector_empty"]["median_s"])
    results["elapsed_s"] = time.perf_counter() - started
    results["load_average_at_end"] = os.getloadavg()

    table = report(results)
    print(table)
    load = ", ".join(f"{x:.1f}" for x in results["load_average_at_start"])
    print(f"{results['machine']['cores']} cores, load average at start {load} (1, 5, 15 min); compare ratios, not absolute figures")
    OUT.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = OUT / f"read_throughput-{'quick-' if quick else ''}{stamp}.json"
    results["table"] = table.splitlines()
    path.write_text(json.dumps(results, indent=2, default=lambda o: asdict(o)), encoding="utf-8")
    say(f"results: {path.relative_to(HERE.parent)}  ({results['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
