"""``python -m connectors.netsuite.emulator``: run the emulator in the foreground.

Prints one JSON line with the URL and credentials, then serves until interrupted. With
``--m2m`` a throwaway EC key pair is generated and the private key written to a temp file
(its path is printed) so an M2M client can sign assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from dataclasses import fields

from .server import NetSuiteEmulator
from .settings import EmulatorSettings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m connectors.netsuite.emulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8400)
    p.add_argument("--account-id", default=EmulatorSettings.account_id)
    p.add_argument("--seed", type=int, default=EmulatorSettings.seed)
    for name in ("subsidiaries", "customers", "items", "sales_orders", "invoices"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(EmulatorSettings, name))
    p.add_argument("--concurrency-limit", type=int, default=EmulatorSettings.concurrency_limit)
    p.add_argument("--page-cap", type=int, default=EmulatorSettings.page_cap)
    p.add_argument("--row-cap", type=int, default=EmulatorSettings.row_cap)
    p.add_argument("--date-format", default=EmulatorSettings.date_format)
    p.add_argument("--require-prefer-transient", action="store_true")
    p.add_argument("--deny", action="append", default=[], metavar="RECORD_TYPE",
                   help="record type the role may not access (repeatable)")
    p.add_argument("--m2m", action="store_true", help="generate a key pair and enable client credentials")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    known = {f.name for f in fields(EmulatorSettings)}
    kwargs = {k: v for k, v in vars(args).items() if k in known}
    settings = EmulatorSettings(**kwargs, denied_record_types=frozenset(args.deny))
    private_key_path = None
    if args.m2m:
        from .keys import generate_keypair

        pair = generate_keypair("ec")
        settings.m2m_public_key_pem = pair.public_pem
        fd, private_key_path = tempfile.mkstemp(prefix="netsuite-emulator-", suffix=".pem")
        with os.fdopen(fd, "w") as fh:
            fh.write(pair.private_pem)
    emulator = NetSuiteEmulator(settings)
    url = emulator.start(args.host, args.port)
    info = emulator.credentials()
    info["url"] = url
    if private_key_path:
        info["m2m"]["private_key_path"] = private_key_path
    print(json.dumps(info), flush=True)

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)  # clean up (temp key file) on terminate too
    try:
        emulator.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        if private_key_path:
            os.unlink(private_key_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
