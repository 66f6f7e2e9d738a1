"""The baseline: a plain ``requests`` loop doing what ``connector-core read`` does for suiteql_bench.

Sequential offset pagination against the benchmark server, records written as JSON lines (compact,
like orjson's output) with the stdlib ``json`` module. No retries, no templates, no error mapping:
the least a hand-written script would do.

    python benchmarks/plain_loop.py BASE_URL [--query Q] > records.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys

import requests

PATH = "/services/rest/query/v1/suiteql"
LIMIT = 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("--query", default="SELECT * FROM transaction ORDER BY id")
    args = parser.parse_args()

    out = sys.stdout
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    session = requests.Session()
    url = args.base_url.rstrip("/") + PATH
    body = {"q": args.query}
    offset = 0
    while True:
        response = session.post(url, params={"offset": offset, "limit": LIMIT}, json=body, headers={"Prefer": "transient"}, timeout=60)
        response.raise_for_status()
        page = response.json()
        items = page["items"]
        for record in items:
            out.write(dumps(record) + "\n")
        offset += LIMIT
        if not items or not page.get("hasMore") or offset >= int(page.get("totalResults", 0)):
            break
    out.flush()


if __name__ == "__main__":
    main()
