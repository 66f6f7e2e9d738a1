"""Command line: run the Salesforce emulator in the foreground and print one JSON line to connect with.

The line carries the URL and the connected app's credentials. Unless a certificate is given, a
throwaway key pair is made and the private key written to a temporary file (its path printed, the
file removed on exit) so a JWT bearer client can sign assertions.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import orjson

from .emulator import SalesforceEmulator
from .settings import SalesforceSettings


def build_parser() -> argparse.ArgumentParser:
    defaults = SalesforceSettings()
    p = argparse.ArgumentParser(prog="python -m connectors.crm.salesforce_emulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8600)
    p.add_argument("--seed", type=int, default=defaults.seed)
    for name in ("users", "accounts", "contacts", "opportunities"):
        p.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    p.add_argument("--api-version", default=defaults.api_version)
    p.add_argument("--daily-api-limit", type=int, default=defaults.daily_api_limit)
    p.add_argument("--page-size", type=int, default=defaults.max_page_size, help="rows per query page (max 2000)")
    p.add_argument("--session-ttl", type=int, default=defaults.session_ttl, help="session lifetime in seconds")
    p.add_argument("--concurrent-limit", type=int, default=None, help="requests allowed in flight at once")
    p.add_argument("--certificate", type=Path, help="connected app certificate (PEM) to verify JWT assertions")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 1 <= args.page_size <= 2000:
        sys.stderr.write(f"--page-size must be between 1 and 2000, got {args.page_size}\n")
        return 2
    settings = SalesforceSettings(
        seed=args.seed, users=max(args.users, 1), accounts=args.accounts, contacts=args.contacts,
        opportunities=args.opportunities, api_version=args.api_version, daily_api_limit=args.daily_api_limit,
        max_page_size=args.page_size, min_page_size=min(200, args.page_size), session_ttl=args.session_ttl,
        concurrent_request_limit=args.concurrent_limit,
        jwt_public_key_pem=args.certificate.read_text(encoding="utf-8") if args.certificate else None,
    )
    emulator = SalesforceEmulator(settings)
    url = emulator.start(args.host, args.port)
    info = {"emulator": "salesforce", "url": url, "control": f"{url}/_emulator/", **emulator.credentials}
    key_path = None
    pem = info.pop("private_key_pem", None)
    info.pop("certificate_pem", None)
    if pem:
        fd, key_path = tempfile.mkstemp(prefix="salesforce-emulator-", suffix=".pem")
        with os.fdopen(fd, "w") as fh:
            fh.write(pem)
        info["private_key_path"] = key_path
    sys.stdout.write(orjson.dumps(info).decode() + "\n")
    sys.stdout.flush()

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        emulator.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        if key_path:
            os.unlink(key_path)
    return 0
