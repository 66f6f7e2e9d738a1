"""The sandbox verbs: ``sandbox`` serves the local emulators, ``demo`` runs the example syncs against them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from connector_core.cli import collector
from connector_core.cli.app import Context, guarded, pass_context


@click.command()
@click.option("--connections", "directory", type=click.Path(file_okay=False, exists=True), help="Connection files to run (default: the shipped examples, connector_core/cli/examples/connections).")
@click.option("--state-dir", type=click.Path(file_okay=False), help="Keep the copies and their state here (default: a temporary directory, removed).")
@guarded
def demo(directory: str | None, state_dir: str | None) -> None:
    """Start the NetSuite, HubSpot and Salesforce emulators in-process and run every example connection once against them."""
    from pathlib import Path

    from connector_core.cli.demo import run_demo

    sys.exit(run_demo(Path(directory) if directory else None, Path(state_dir) if state_dir else None))


@click.command()
@click.option("--only", "names", multiple=True, help="Start only this emulator (repeatable); default: all installed.")
@click.option("--port", "ports", multiple=True, metavar="NAME=PORT", help="Port for one emulator (0: any free port).")
@click.option("--config-dir", type=click.Path(file_okay=False), default=".sandbox", show_default=True, help="Where to write one config file per emulator.")
@pass_context
@guarded
def sandbox(ctx: Context, names: tuple[str, ...], ports: tuple[str, ...], config_dir: str) -> None:
    """Start the local emulators (NetSuite, CRM, example API) with seeded data and print their configs."""
    import signal

    from connector_core.engine.emulators import serve
    from connector_core.errors import ConfigError

    chosen_ports: dict[str, int | None] = {}
    for item in ports:
        name, _, port = item.partition("=")
        if not port.isdigit():
            raise ConfigError(f"--port {item!r}: expected NAME=PORT, e.g. netsuite=8400")
        chosen_ports[name] = int(port)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM (`kill`, a container stop) ends it as Ctrl-C does: the config files go

    previous = signal.signal(signal.SIGTERM, stop)
    collector.started()  # long-running emulators: collect as usual from here on
    try:
        serve(
            ctx.registry, list(names), chosen_ports, Path(config_dir), lambda line: click.echo(line, err=True),
            stop_hint=_stop_hint(), port_hint=lambda name: f"start it on another port: --port {name}=PORT (--port {name}=0 picks a free one)",
        )
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_hint() -> str:
    """How to stop the sandbox: Ctrl-C only reaches it in the foreground of a terminal (not with `&`, nohup, a service)."""
    import os

    kill = f"`kill {os.getpid()}`"
    try:
        foreground = sys.stdin.isatty() and os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError):  # no terminal, or stdin closed
        foreground = False
    return f"press Ctrl-C to stop (or {kill})" if foreground else f"stop them with {kill}"
