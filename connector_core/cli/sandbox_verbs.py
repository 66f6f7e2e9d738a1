"""The sandbox verbs: ``sandbox`` serves the local emulators, ``demo`` runs the example syncs against them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from connector_core.cli.app import Context, guarded, pass_context


@click.command()
@click.option("--connections", "directory", type=click.Path(file_okay=False, exists=True), help="Connection files to run (default: the shipped examples, connector_core/cli/examples/connections).")
@click.option("--state-dir", type=click.Path(file_okay=False), help="Keep the copies and their state here (default: a temporary directory, removed).")
@guarded
def demo(directory: str | None, state_dir: str | None) -> None:
    """Start the NetSuite and HubSpot emulators in-process and run every example connection once against them."""
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
    from connector_core.engine.emulators import serve
    from connector_core.errors import ConfigError

    chosen_ports: dict[str, int | None] = {}
    for item in ports:
        name, _, port = item.partition("=")
        if not port.isdigit():
            raise ConfigError(f"--port {item!r}: expected NAME=PORT, e.g. netsuite=8400")
        chosen_ports[name] = int(port)
    serve(ctx.registry, list(names), chosen_ports, Path(config_dir), lambda line: click.echo(line, err=True))
