"""connector-core beside its peers: airbyte-cdk, singer-sdk and dlt, the same stream, one run, one machine.

Every tool reads the stream of ``suiteql_bench.yaml`` from the same local server
(``suiteql_server.py``, its own process) as a whole process, stdout to /dev/null; the tools of a phase
run in turn within each round (the order rotates every round), so every figure is a ratio within one
run. The peers' connectors are written by ``peer_sources.py`` into a temp directory; each peer lives in
its own venv under ``~/.cache/connector-core-bench/`` (created and filled from PyPI on first use, then
reused). Phases:

  correctness  2,500 records: every tool must hand over the same record ids, and the server must have
               served exactly 2,500 records to each.
  startup      ``read`` of an empty stream (totalResults 0), whole process; ``python -c pass``, the plain
               ``requests`` script and one ``curl`` beside it. Goal: ≤ 2× the plain script, below every peer.
  latency      N pages (default 20) of 1,000 with 50 ms added to every request; connector-core at
               concurrency C (default 8) vs a sequential curl loop over the known pages. Goal: ≤ 0.55×.
  throughput   JSON lines of R records (default 50,000); connector-core (concurrency 1) vs
               ``plain_loop.py``, a ``requests`` loop writing the same lines. Goal: ≥ 1.0×, peak RSS ≤ 60 MB.

``--tree LABEL=DIR`` measures connector-core from a source tree (a snapshot made with ``git archive``,
put first on PYTHONPATH), several times in the same run for before/after figures; without it the
installed working tree is measured. Usage:

    .venv/bin/python benchmarks/peers.py                      # about 5 minutes (the first run also installs the peers)
    .venv/bin/python benchmarks/peers.py --quick              # smoke run of every phase
    .venv/bin/python benchmarks/peers.py --tree before=/tmp/cc-head --tree after=/tmp/cc-mine --only startup

Results: a table on stdout, every measurement as JSON in benchmarks/out/peers-<time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peer_sources import PAGE, write_sources  # noqa: E402
from read_throughput import SPEC, STREAM, Server, child_env, connector_cmd, run_process, server  # noqa: E402

OUT = HERE / "out"
PLAIN = HERE / "plain_loop.py"
CACHE = Path(os.environ.get("CONNECTOR_CORE_BENCH_CACHE", Path.home() / ".cache" / "connector-core-bench"))
QUERY = "SELECT * FROM transaction ORDER BY id"
EMPTY_QUERY = "SELECT * FROM transaction WHERE 1 = 0"
# The versions measured; pinned so that the figures in the README stay comparable from run to run.
PEERS = {"airbyte-cdk": "7.39.1", "singer-sdk": "0.54.9", "dlt": "1.31.0"}
PEER_ENV = {"RUNTIME__DLTHUB_TELEMETRY": "false", "DO_NOT_TRACK": "1"}  # no phoning home from the peers


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the peers' venvs ------------------------------------------------------------------------------


def peer_venv(name: str) -> Path:
    """The peer's venv, created and installed from PyPI on first use; returns its bin directory."""
    venv = CACHE / name
    marker = venv / "installed.txt"
    if not marker.exists() or marker.read_text(encoding="utf-8").strip() != PEERS[name]:
        say(f"installing {name}=={PEERS[name]} into {venv} (once)")
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", f"{name}=={PEERS[name]}"], check=True)
        marker.write_text(version_of(venv, name), encoding="utf-8")
    return venv / "bin"


def wheel_venv() -> str:
    """connector-core as a user installs it: a wheel of this checkout in a venv of its own under the cache;
    returns that venv's python. The development venv's editable install adds an import hook (a .pth file
    and its finder) that costs every Python process started from it ~10 ms, which no user pays."""
    venv = CACHE / "connector-core"
    with tempfile.TemporaryDirectory(prefix="cc-wheel-") as build:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", build, str(HERE.parent)], check=True)
        wheel = next(Path(build).glob("connector_core-*.whl"))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        marker = venv / "installed.txt"
        python = venv / "bin" / "python"
        if not python.exists():
            say(f"installing connector-core's wheel and its dependencies into {venv} (once)")
            base = getattr(sys, "_base_executable", sys.executable)
            subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)], check=True)
        elif not marker.exists() or marker.read_text(encoding="utf-8") != digest:
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--force-reinstall", "--no-deps", str(wheel)], check=True)
        marker.write_text(digest, encoding="utf-8")
    return str(python)


def version_of(venv: Path, name: str) -> str:
    probe = f"import importlib.metadata as m; print(m.version({name!r}))"
    return subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, check=True).stdout.strip()


# --- the tools -------------------------------------------------------------------------------------


@dataclass
class Tool:
    name: str
    command: Callable[[Server, str, int], list[str]]  # (server, query, pages) -> argv
    env: dict[str, str]
    output: str = "lines"  # how records appear on stdout: lines | airbyte | singer | pages


@dataclass
class Bench:
    work: Path
    env: dict[str, str]
    trees: dict[str, Path | None]
    concurrency: int
    peers: list[str]
    files: dict[str, Path] = field(default_factory=dict)
    python: str = sys.executable  # connector-core's install, also the plain script's and `python -c pass`'s

    def config(self, srv: Server, query: str, concurrency: int) -> Path:
        path = self.work / f"config-{srv.base_url.rsplit(':', 1)[1]}-{concurrency}-{'empty' if 'WHERE' in query else 'all'}.json"
        path.write_text(json.dumps({"base_url": srv.base_url, "query": query, "concurrency": concurrency}), encoding="utf-8")
        return path

    def tree_env(self, tree: Path | None) -> dict[str, str]:
        return self.env if tree is None else {**self.env, "PYTHONPATH": str(tree)}

    def connector(self, label: str, concurrency: int, protocol: str | None = None) -> Tool:
        tree = self.trees[label]
        suffix = f" --format {protocol}" if protocol else ""

        def command(srv: Server, query: str, pages: int) -> list[str]:
            argv = [*connector_cmd(tree, self.python), "read", str(SPEC), "--config", str(self.config(srv, query, concurrency))]
            if protocol == "airbyte":
                return [*argv, "--format", "airbyte", "--catalog", str(self.files["airbyte_catalog"])]
            return [*argv, "--stream", STREAM, *(["--format", protocol] if protocol else [])]

        name = f"connector-core{' [' + label + ']' if len(self.trees) > 1 else ''} c={concurrency}{suffix}"
        return Tool(name, command, self.tree_env(tree), protocol or "lines")

    def connectors(self, concurrency: int) -> list[Tool]:
        return [self.connector(label, concurrency) for label in self.trees]

    def plain(self) -> Tool:
        return Tool("plain requests loop", lambda srv, q, pages: [self.python, str(PLAIN), srv.base_url, "--query", q], self.env)

    def curl(self) -> Tool:
        return Tool("sequential curl loop", lambda srv, q, pages: ["sh", str(self.files["curl_loop"]), srv.base_url, str(max(pages, 1)), q], self.env, "pages")

    def floor(self) -> Tool:
        return Tool("python -c pass", lambda srv, q, pages: [self.python, "-c", "pass"], self.env, "none")

    def peer_tools(self) -> list[Tool]:
        tools = []
        env = {**self.env, **PEER_ENV}
        if "airbyte-cdk" in self.peers:
            bin_dir = peer_venv("airbyte-cdk")

            def airbyte(srv: Server, query: str, pages: int) -> list[str]:
                return [str(bin_dir / "source-declarative-manifest"), "read", "--config", str(self.config(srv, query, 1)),
                        "--catalog", str(self.files["airbyte_catalog"]), "--manifest-path", str(self.files["airbyte_manifest"])]

            tools.append(Tool("airbyte-cdk (manifest)", airbyte, env, "airbyte"))
        if "singer-sdk" in self.peers:
            singer = peer_venv("singer-sdk") / "python"
            tools.append(Tool("singer-sdk tap", lambda srv, q, pages: [str(singer), str(self.files["singer_tap"]), "--config", str(self.config(srv, q, 1))], env, "singer"))
        if "dlt" in self.peers:
            dlt = peer_venv("dlt") / "python"
            tools.append(Tool("dlt rest_api (extract)", lambda srv, q, pages: [str(dlt), str(self.files["dlt_read"]), srv.base_url, q], env))
        return tools


def record_ids(data: bytes, output: str) -> list[str]:
    """The ids of the records a tool wrote, in order."""
    ids = []
    for line in data.splitlines():
        if not line.strip():
            continue
        message = json.loads(line)
        if output == "lines":
            ids.append(message["id"])
        elif output == "airbyte" and message.get("type") == "RECORD":
            ids.append(message["record"]["data"]["id"])
        elif output == "singer" and message.get("type") == "RECORD":
            ids.append(message["record"]["id"])
        elif output == "pages":
            ids.extend(item["id"] for item in message["items"])
    return ids


# --- measuring -------------------------------------------------------------------------------------


def measure(tools: list[Tool], srv: Server, query: str, pages: int, expect: int, rounds: int, warmup: bool = True) -> dict[str, Any]:
    """Every tool once per round, the order rotated each round; wall times, peak RSS and read spans."""
    runs: dict[str, list[dict[str, float]]] = {tool.name: [] for tool in tools}
    for i in range(-1 if warmup else 0, rounds):
        shift = max(i, 0) % len(tools)
        for tool in tools[shift:] + tools[:shift]:
            srv.stats()
            run = run_process(tool.command(srv, query, pages), env=tool.env)
            if run.returncode != 0:
                raise SystemExit(f"{tool.name} failed with exit code {run.returncode}:\n{run.stderr[-3000:]}")
            stats = srv.stats()
            if tool.output != "none" and stats["items"] != expect:
                raise SystemExit(f"{tool.name}: the server handed out {stats['items']} records, expected {expect}")
            if i < 0:
                continue
            span = run.ended - stats["first"] if stats["first"] is not None else None
            runs[tool.name].append({"wall_s": run.wall_s, "max_rss_mb": run.max_rss_mb, "span_s": span or 0.0})
            say(f"  round {i + 1}/{rounds} {tool.name:42s} {run.wall_s:7.3f} s  {run.max_rss_mb:6.1f} MB")
    return {name: summary(values) for name, values in runs.items()}


def summary(values: list[dict[str, float]]) -> dict[str, Any]:
    walls = [v["wall_s"] for v in values]
    return {
        "wall_median_s": statistics.median(walls), "wall_min_s": min(walls), "wall_max_s": max(walls),
        "rss_median_mb": statistics.median(v["max_rss_mb"] for v in values), "rss_max_mb": max(v["max_rss_mb"] for v in values),
        "span_median_s": statistics.median(v["span_s"] for v in values), "runs": values,
    }


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def phase_correctness(bench: Bench, tools: list[Tool]) -> dict[str, Any]:
    records = 2_500
    pages = -(-records // PAGE)
    seen = {}
    with server(records) as srv:
        for tool in tools:
            target = bench.work / "correctness.out"
            srv.stats()
            run = run_process(tool.command(srv, QUERY, pages), target, env=tool.env)
            if run.returncode != 0:
                raise SystemExit(f"{tool.name} failed with exit code {run.returncode}:\n{run.stderr[-3000:]}")
            if srv.stats()["items"] != records:
                raise SystemExit(f"{tool.name}: the server did not serve exactly {records} records")
            seen[tool.name] = record_ids(target.read_bytes(), tool.output)
    expected = seen[tools[0].name]
    wrong = {name: len(ids) for name, ids in seen.items() if ids != expected}
    if len(expected) != records or wrong:
        raise SystemExit(f"tools disagree on the records: {len(expected)} from {tools[0].name}, differing: {wrong}")
    return {"records": records, "tools": list(seen), "identical_ids_in_order": True}


# --- the report ------------------------------------------------------------------------------------


def paired(result: dict[str, Any], tool: str, baseline: str) -> list[float]:
    """tool / baseline wall time, round by round: within a round both ran seconds apart, under about the
    same load, so these ratios vary less than a ratio of medians taken minutes apart."""
    return [a["wall_s"] / b["wall_s"] for a, b in zip(result[tool]["runs"], result[baseline]["runs"], strict=True)]


def table(title: str, result: dict[str, Any], baseline: str, ratio_label: str) -> list[str]:
    head = f"  {'tool':58s} {'median s':>8s} {'min–max s':>13s} {ratio_label:>8s} {'min–max':>11s} {'span s':>6s} {'RSS MB':>6s}"
    lines = [title, head]
    for name, res in sorted(result.items(), key=lambda item: item[1]["wall_median_s"]):
        ratios = paired(result, name, baseline)
        lines.append(
            f"  {name:58s} {res['wall_median_s']:8.3f} {res['wall_min_s']:6.3f}–{res['wall_max_s']:<6.3f} "
            f"{statistics.median(ratios):7.2f}× {min(ratios):5.2f}–{max(ratios):<5.2f} {res['span_median_s']:6.3f} {res['rss_max_mb']:6.1f}"
        )
    return lines


def goal(label: str, values: list[float], op: str, target: float, unit: str = "×") -> str:
    value = statistics.median(values)
    met = value <= target if op == "≤" else value >= target if op == "≥" else value < target
    spread = f"({min(values):.2f}–{max(values):.2f})" if len(values) > 1 else ""
    return f"  goal: {label:70s} {value:7.2f}{unit} {spread:13s} {'MET' if met else 'MISSED'} (goal {op} {target}{unit})"


def render(results: dict[str, Any]) -> list[str]:
    """The tables and the issue's goals; ratios are medians of per-round ratios (see ``paired``)."""
    roles = results["roles"]
    report = [
        f"connector-core and its peers, {results['started']}, {results['machine']['cpus']} cores, Python {results['machine']['python']}",
        "versions: " + ", ".join(f"{name} {version}" for name, version in results["versions"].items()),
        "load average (1/5/15 min) at each phase: " + "; ".join(f"{k} {v[0]}/{v[1]}/{v[2]}" for k, v in results["load"].items()),
    ]
    if "correctness" in results:
        report.append(f"correctness: {results['correctness']['records']:,} records, the same ids in the same order from every tool")
    if "startup" in results:
        res = results["startup"]
        rounds = len(res["plain requests loop"]["runs"])
        report += table(f"start-up: read of an empty stream, whole process, median of {rounds}", res, "plain requests loop", "× plain")
        for tool in roles["connectors_c1"]:
            report.append(goal(f"{tool} / plain requests script", paired(res, tool, "plain requests loop"), "≤", 2.0))
            for peer in roles["peers"]:
                report.append(goal(f"{tool} / {peer}", paired(res, tool, peer), "<", 1.0))
    if "latency" in results:
        res = results["latency"]
        rounds = len(res["sequential curl loop"]["runs"])
        report += table(f"latency: {roles['latency_pages']} pages × {roles['latency_ms']:.0f} ms, whole process, median of {rounds}", res, "sequential curl loop", "× curl")
        for tool in roles["connectors_cn"]:
            report.append(goal(f"{tool} / sequential curl loop", paired(res, tool, "sequential curl loop"), "≤", 0.55))
    if "throughput" in results:
        res = results["throughput"]
        rounds = len(res["plain requests loop"]["runs"])
        report += table(f"throughput: {roles['records']:,} records as JSON lines, whole process, median of {rounds}", res, "plain requests loop", "× plain")
        for tool in roles["connectors_c1"]:
            speed = [1 / r for r in paired(res, tool, "plain requests loop")]
            report.append(goal(f"speed of {tool} / plain requests loop", speed, "≥", 1.0))
            report.append(goal(f"peak RSS of {tool}", [run["max_rss_mb"] for run in res[tool]["runs"]], "≤", 60.0, " MB"))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000, help="records of the throughput phase")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the latency and throughput phases")
    parser.add_argument("--startup-rounds", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--latency-pages", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8, help="connector-core's pages in flight in the latency phase")
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=DIR", help="measure connector-core from this source tree")
    parser.add_argument("--peers", nargs="*", default=list(PEERS), choices=list(PEERS))
    parser.add_argument(
        "--install", choices=["wheel", "editable"], default="wheel",
        help="connector-core (and the plain script) from a wheel of this checkout in a venv of its own, as users install it "
        "(default), or from the development venv's editable install",
    )
    parser.add_argument("--only", nargs="*", default=["correctness", "startup", "latency", "throughput"])
    parser.add_argument("--quick", action="store_true", help="1 round, 5,000 records: a smoke run")
    parser.add_argument("--report", type=Path, metavar="JSON", help="print the report of an earlier run's JSON file, measure nothing")
    args = parser.parse_args()
    if args.report:
        print("\n".join(render(json.loads(args.report.read_text(encoding="utf-8")))))
        return
    if args.quick:
        args.rounds, args.startup_rounds, args.records = 1, 1, 5_000

    trees: dict[str, Path | None] = {}
    for item in args.tree:
        label, _, directory = item.partition("=")
        if not directory or not Path(directory, "connector_core").is_dir():
            parser.error(f"--tree {item}: expected LABEL=DIR with DIR/connector_core")
        trees[label] = Path(directory).resolve()
    trees = trees or {"working tree": None}

    results: dict[str, Any] = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load": {}, "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="cc-peers-") as tmp:
        work = Path(tmp)
        python = wheel_venv() if args.install == "wheel" else sys.executable
        bench = Bench(work, child_env(work / "pycache", as_is=False), trees, args.concurrency, args.peers, python=python)
        bench.files = write_sources(work)
        peers = bench.peer_tools()
        results["versions"] = {name: (CACHE / name / "installed.txt").read_text(encoding="utf-8").strip() for name in args.peers}
        results["roles"] = {
            "connectors_c1": [t.name for t in bench.connectors(1)], "connectors_cn": [t.name for t in bench.connectors(args.concurrency)],
            "peers": [t.name for t in peers], "records": args.records, "latency_pages": args.latency_pages, "latency_ms": args.latency * 1000,
        }
        last = list(trees)[-1]
        protocols = [bench.connector(last, 1, "airbyte"), bench.connector(last, 1, "singer")]

        if "correctness" in args.only:
            results["load"]["correctness"] = load()
            say("correctness: 2,500 records through every tool")
            results["correctness"] = phase_correctness(bench, [bench.plain(), *bench.connectors(1), *protocols, *peers, bench.curl()])

        if "startup" in args.only:
            results["load"]["startup"] = load()
            say(f"startup: empty stream, {args.startup_rounds} rounds")
            tools = [bench.floor(), bench.plain(), bench.curl(), *bench.connectors(1), *peers]
            with server(0) as srv:
                results["startup"] = measure(tools, srv, EMPTY_QUERY, 1, 0, args.startup_rounds)

        if "latency" in args.only:
            pages = args.latency_pages
            results["load"]["latency"] = load()
            say(f"latency: {pages} pages of {PAGE:,} at {args.latency * 1000:.0f} ms, {args.rounds} rounds")
            tools = [bench.curl(), bench.plain(), *bench.connectors(args.concurrency), *bench.connectors(1), *peers]
            with server(pages * PAGE, args.latency) as srv:
                results["latency"] = measure(tools, srv, QUERY, pages, pages * PAGE, args.rounds)

        if "throughput" in args.only:
            records = args.records
            results["load"]["throughput"] = load()
            say(f"throughput: {records:,} records as JSON lines, {args.rounds} rounds")
            tools = [bench.plain(), *bench.connectors(1), *protocols, *peers]
            with server(records) as srv:
                results["throughput"] = measure(tools, srv, QUERY, -(-records // PAGE), records, args.rounds)

    results["load"]["end"] = load()
    report = results["report"] = render(results)
    print("\n".join(report))
    OUT.mkdir(exist_ok=True)
    path = OUT / f"peers-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    say(f"written: {path}")


if __name__ == "__main__":
    main()
