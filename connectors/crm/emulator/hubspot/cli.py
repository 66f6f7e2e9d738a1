"""Command line: run the HubSpot emulator in the foreground and print a JSON line to connect."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import orjson

from .emulator import HubSpotEmulator
from .settings import TIERS, HubSpotSettings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m connectors.crm.emulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8500)
    p.add_argument("--companies", type=int, default=1000)
    p.add_argument("--contacts", type=int, default=1000)
    p.add_argument("--deals", type=int, default=500)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--tier", choices=sorted(TIERS), default="free")
    p.add_argument("--rate-limit", type=int, default=None, help="requests per 10 s (default: from tier)")
    p.add_argument("--daily-limit", type=int, default=None)
    p.add_argument("--search-per-second", type=int, default=5)
    p.add_argument("--search-cap", type=int, default=10_000)
    p.add_argument("--search-lag", type=float, default=0.0)
    p.add_argument("--token-ttl", type=int, default=1800)
    p.add_argument("--token", action="append", default=None, help="private-app token (repeatable)")
    p.add_argument("--retry-after", type=float, default=None)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = HubSpotSettings(
        companies=args.companies, contacts=args.contacts, deals=args.deals, seed=args.seed, tier=args.tier,
        rate_limit_per_10s=args.rate_limit, daily_limit=args.daily_limit,
        search_per_second=args.search_per_second, search_result_cap=args.search_cap,
        search_lag_seconds=args.search_lag, access_token_ttl=args.token_ttl, retry_after_seconds=args.retry_after,
    )
    if args.token:
        settings.private_app_tokens = list(args.token)
    emu = HubSpotEmulator(settings)

    def ready(url: str) -> None:
        line = {"emulator": "hubspot", "url": url, "control": f"{url}/_emulator/", **emu.credentials}
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
        sys.stdout.flush()

    try:
        emu.serve_forever(args.host, args.port, on_ready=ready)
    except KeyboardInterrupt:
        pass
    return 0
