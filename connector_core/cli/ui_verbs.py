"""``connector-core ui``: serve the status dashboard of a directory of connection files (docs/dashboard.md)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from connector_core.cli import collector
from connector_core.cli.app import Context, guarded, pass_context

PASSWORD_ENV = "CONNECTOR_CORE_UI_PASSWORD"
MIN_PASSWORD_LENGTH = 12


def _password(password_file: str | None) -> str | None:
    from connector_core.errors import ConfigError

    if password_file:
        password = Path(password_file).read_text(encoding="utf-8").strip()
        where = f"--password-file {password_file}"
    else:
        password = os.environ.get(PASSWORD_ENV, "").strip()
        where = f"${PASSWORD_ENV}"
    if not password:
        return None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"{where}: the dashboard's password is {len(password)} characters long; it needs at least {MIN_PASSWORD_LENGTH}")
    return password


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, exists=True))
@click.option("--state", help="State database for every connection (a SQLite file or a postgresql:// URL), when not each file's own.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; other than loopback only with a password.")
@click.option("--port", default=8800, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on (0: any free one).")
@click.option(
    "--password-file", type=click.Path(dir_okay=False, exists=True),
    help=f"A file holding the password that signs people in (also ${PASSWORD_ENV}); without one, only the token printed at start does.",
)
@pass_context
@guarded
def ui(ctx: Context, directory: str, state: str | None, host: str, port: int, password_file: str | None) -> None:
    """Serve a web dashboard of the connections in DIRECTORY (default: .): runs, cursors, ID map and dead
    letters, with run now, dry run and retry. Stop it with Ctrl-C.

    Every page needs signing in: with the token printed at start (it changes at every start), or with
    the password of --password-file or $CONNECTOR_CORE_UI_PASSWORD.
    """
    from connector_core.cli.ui.app import Dashboard
    from connector_core.cli.ui.security import Guard, is_loopback
    from connector_core.cli.ui.server import bound_port, dashboard_server
    from connector_core.errors import ConfigError

    password = _password(password_file)
    loopback = is_loopback(host)
    if not loopback and password is None:
        raise ConfigError(
            f"--host {host}: the dashboard listens beyond this machine only with a password",
            hint=f"set ${PASSWORD_ENV} or --password-file FILE (at least {MIN_PASSWORD_LENGTH} characters), and serve it behind TLS (a reverse proxy)",
        )
    guard = Guard(password, loopback_only=loopback)
    dashboard = Dashboard(Path(directory), ctx.registry, guard, state=state)
    try:
        server = dashboard_server(dashboard, host, port)
    except OSError as exc:
        raise ConfigError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})", hint="choose another port with --port (0 picks a free one)") from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound_port(server)}"
    click.echo(f"connector-core ui: the connections of {Path(directory).resolve()} on {url}/", err=True)
    click.echo(f"  open {url}/login?token={guard.token}", err=True)
    click.echo("  (the token signs you in and changes at every start" + ("; so does the password" if password else "") + "); Ctrl-C stops the dashboard", err=True)
    collector.started()  # a long-running server: collect as usual from here on
    try:
        server.serve_forever()  # Werkzeug's returns on Ctrl-C
    finally:
        server.server_close()
        stopped = dashboard.jobs.stop_all("Ctrl-C")
        click.echo("connector-core ui: stopped" + (f"; {stopped} job(s) stopped at a safe point, committed work kept" if stopped else ""), err=True)


__all__ = ["PASSWORD_ENV", "ui"]
