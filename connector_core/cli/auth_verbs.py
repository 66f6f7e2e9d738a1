"""``connector-core authorize``: grant a connector access through a browser consent."""

from __future__ import annotations

from pathlib import Path

import click

from connector_core.cli.app import guarded
from connector_core.engine.auth.authorize import REDIRECT_TIMEOUT, run_authorization


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "no expiry given"
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@click.command("authorize")
@click.argument("connector")
@click.option("--config", "-c", "config", type=click.Path(dir_okay=False), help="Config file (JSON or YAML).")
@click.option("--port", type=click.IntRange(0, 65535), help="Loopback port for the redirect (0: any free port). Default: the spec's redirect_uri, else 8765.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser or listen: paste the redirect address (or the code) instead.")
@click.option("--tokens", "tokens_path", type=click.Path(dir_okay=False), help="Token file. Default: $CONNECTOR_CORE_TOKENS, else .connector-core/tokens.json beside the config.")
@click.option("--timeout", type=click.FloatRange(min=1), default=REDIRECT_TIMEOUT, show_default=True, help="Seconds to wait for the redirect.")
@click.option("--redirect-uri", help="Redirect URI registered for the app, when the spec does not set it (a non-loopback one implies pasting).")
def authorize(connector: str, config: str | None, port: int | None, no_browser: bool, tokens_path: str | None, timeout: float, redirect_uri: str | None) -> None:
    """Grant CONNECTOR access through a browser consent (OAuth 2.0 authorization code with PKCE).

    The tokens are saved in the token file, where `read`, `check` and `call` find them; run this
    again when they can no longer be refreshed.
    """
    guarded(_authorize)(connector, config, port, no_browser, tokens_path, timeout, redirect_uri)


def _authorize(connector: str, config: str | None, port: int | None, no_browser: bool, tokens_path: str | None, timeout: float, redirect_uri: str | None) -> None:
    from connector_core.engine.auth.tokenstore import JsonFileTokenStore, default_token_path
    from connector_core.engine.connector import Connector
    from connector_core.engine.loader import load_spec
    from connector_core.engine.registry import build_registry, make_plugin_manager

    context = click.get_current_context()
    registry = getattr(context.find_root().obj, "registry", None) or build_registry(make_plugin_manager())
    path = Path(tokens_path) if tokens_path else default_token_path(config)
    store = JsonFileTokenStore(path)
    with Connector(load_spec(connector, registry), config, registry, tokens=store) as opened:
        saved = run_authorization(
            opened, store, port=port, paste=no_browser, timeout=timeout, redirect_uri=redirect_uri,
            echo=lambda text: click.echo(text, err=True),
            read_line=lambda text: click.prompt(text, prompt_suffix="\n> ", err=True),
        )
    refresh = f"; refresh token until {_when(saved['refresh_expires_at'])}" if saved.get("refresh_token") else "; no refresh token"
    click.echo(f"Authorized {opened.name}: tokens saved to {path} (access token until {_when(saved['expires_at'])}{refresh}).", err=True)
