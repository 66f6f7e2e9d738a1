"""Partitions read concurrently: N partitions of one latency-bound request each, whole process.

The stream of ``partitions_bench.yaml`` lists N offsets as its partitions (as a parent stream's ids or a
config's accounts would); each partition is one POST to ``suiteql_server.py`` (its own process) with a
latency added to every request, 1,000 records each. connector-core reads it at concurrency 1 and C
(default 8), from one or several source trees (``--tree LABEL=DIR``, put first on PYTHONPATH, for
before/after figures in one run), beside the sequential curl loop over the same N requests that
``peers.py`` uses as its latency baseline. Every tool runs once per round, the order rotated each round;
ratios are medians of per-round ratios to the curl loop. Peak RSS is the child's ``ru_maxrss``.

    .venv/bin/python benchmarks/partition_latency.py
    .venv/bin/python benchmarks/partition_latency.py --tree before=/tmp/cc-head --tree after=/tmp/cc-mine

Results: the table on stdout, every measurement as JSON in benchmarks/out/partitions-<time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer_sources import PAGE, write_sources  # noqa: E402
from peers import OUT, QUERY, Tool, child_env, connector_cmd, goal, load, measure, paired, server, table  # noqa: E402

SPEC = Path(__file__).resolve().parent / "partitions_bench.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partitions", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=DIR")
    args = parser.parse_args()
    trees: dict[str, Path | None] = {}
    for item in args.tree:
        label, _, directory = item.partition("=")
        if not Path(directory, "connector_core").is_dir():
            parser.error(f"--tree {item}: expected LABEL=DIR with DIR/connector_core")
        trees[label] = Path(directory).resolve()
    trees = trees or {"working tree": None}

    results: dict[str, Any] = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="cc-partitions-") as tmp:
        work = Path(tmp)
        env = child_env(work / "pycache", as_is=False)
        files = write_sources(work)
        offsets = [i * PAGE for i in range(args.partitions)]

        def connector(label: str, concurrency: int) -> Tool:
            config = work / f"config-{concurrency}.json"
            tree = trees[label]
            name = f"connector-core{' [' + label + ']' if len(trees) > 1 else ''} c={concurrency}"

            def command(srv: Any, query: str, pages: int) -> list[str]:
                config.write_text(json.dumps({"base_url": srv.base_url, "offsets": offsets, "query": query, "concurrency": concurrency}), encoding="utf-8")
                return [*connector_cmd(tree), "read", str(SPEC), "--config", str(config), "--stream", "transactions"]

            return Tool(name, command, env if tree is None else {**env, "PYTHONPATH": str(tree)})

        curl = Tool("sequential curl loop", lambda srv, q, pages: ["sh", str(files["curl_loop"]), srv.base_url, str(pages), q], env, "pages")
        tools = [curl, *(connector(label, args.concurrency) for label in trees), *(connector(label, 1) for label in trees)]
        results["load_start"] = load()
        with server(args.partitions * PAGE, args.latency) as srv:
            res = measure(tools, srv, QUERY, args.partitions, args.partitions * PAGE, args.rounds)
        results["load_end"] = load()
    results["partitions"] = res
    report = [
        f"partitions read concurrently, {results['started']}, {os.cpu_count()} cores, load {results['load_start']} → {results['load_end']}",
        *table(f"{args.partitions} partitions × {args.latency * 1000:.0f} ms, one request of {PAGE:,} records each, whole process, median of {args.rounds}",
               res, "sequential curl loop", "× curl"),
    ]
    for label in trees:
        name = f"connector-core{' [' + label + ']' if len(trees) > 1 else ''}"
        fast, slow = f"{name} c={args.concurrency}", f"{name} c=1"
        report.append(goal(f"{fast} / sequential curl loop", paired(res, fast, "sequential curl loop"), "≤", 0.55))
        report.append(f"  {fast} / {slow}: {statistics.median(paired(res, fast, slow)):.2f}×")
        report.append(goal(f"peak RSS of {fast}", [run["max_rss_mb"] for run in res[fast]["runs"]], "≤", 60.0, " MB"))
    results["report"] = report
    print("\n".join(report))
    OUT.mkdir(exist_ok=True)
    path = OUT / f"partitions-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"written: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
