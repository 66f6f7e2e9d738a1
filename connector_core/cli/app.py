"""The ``connector-core`` command line.

Exit codes: 0 success · 1 invalid spec, config or input (fix a file) · 2 usage error · 3 the API or the
network failed (see the message) · 4 internal error (a bug: rerun with --debug and report it) ·
141 stdout was closed by its reader (e.g. ``| head``), reported silently like any Unix filter.
``run`` and ``run-due`` add 5 records dead-lettered · 6 delete breaker · 7 the run lost its lease to
another mid-way (a lease held at the start is 0, "skipped: running elsewhere") · 130 Ctrl-C · 143 SIGTERM
(see ``sync_verbs``); ``state restore|import|migrate`` exit 7 while a run holds the connection's lease.
Machine-readable output goes to stdout as JSON (lines); progress and messages go to stderr.
Heavy modules are imported inside the commands so that start-up stays fast.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from connector_core.cli.streams import TextStreamWrapper

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_API, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader closed the pipe


class Context:
    def __init__(self, debug: bool) -> None:
        self.debug = debug
        self._registry: Any = None

    @property
    def registry(self) -> Any:
        if self._registry is None:
            from connector_core.engine.registry import build_registry, make_plugin_manager

            self._registry = build_registry(make_plugin_manager())
        return self._registry

    def open(self, connector: str, config: str | None, **kwargs: Any) -> Any:
        from connector_core.cli import collector
        from connector_core.engine.auth.tokenstore import JsonFileTokenStore, default_token_path
        from connector_core.engine.connector import Connector
        from connector_core.engine.loader import load_spec

        loaded = load_spec(connector, self.registry)
        kwargs.setdefault("tokens", JsonFileTokenStore(default_token_path(config)))
        opened = Connector(loaded, config, self.registry, **kwargs)
        collector.started()
        return opened


class MaskedStream(TextStreamWrapper):
    """stderr through the one mask: every message, hint, log line and traceback the CLI writes passes
    :func:`~connector_core.engine.redaction.redact` (URLs' userinfo, and every secret the process's
    connections know). stdout is left alone: it carries data, which templates keep free of secrets.
    """

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        from connector_core.engine.redaction import redact

        self._stream.write(redact(text))
        return len(text)


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn connector-core's errors into a message and an exit code; a traceback only with --debug."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context().find_object(Context)
        try:
            return func(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except BrokenPipeError:
            # whoever read stdout has gone (`connector-core read ... | head`): stop quietly, as cat does
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:
            from connector_core.errors import (
                ConfigError,
                ConnectorError,
                HTTPError,
                OperationError,
                SpecError,
                StateUnavailableError,
            )

            if ctx is not None and ctx.debug:
                import traceback

                traceback.print_exc()
            if isinstance(exc, SpecError | ConfigError | OperationError):
                _fail(f"error: {exc}", EXIT_USER)
            if isinstance(exc, HTTPError | StateUnavailableError):
                _fail(f"error: {exc}", EXIT_API)
            if isinstance(exc, ConnectorError):
                _fail(f"error: {exc}", EXIT_USER)
            if isinstance(exc, KeyboardInterrupt):
                _fail("interrupted", 130)
            _fail(f"internal error: {type(exc).__name__}: {exc}\n  rerun with --debug for the traceback, and please report it", EXIT_INTERNAL)

    return wrapper


class _LazyGroup(click.Group):
    """A group whose commands from other modules are imported only when they run (start-up stays fast)."""

    lazy: dict[str, tuple[str, str]] = {
        "validate": ("connector_core.cli.connector_verbs", "validate"),
        "spec": ("connector_core.cli.connector_verbs", "spec"),
        "check": ("connector_core.cli.connector_verbs", "check"),
        "discover": ("connector_core.cli.connector_verbs", "discover"),
        "read": ("connector_core.cli.connector_verbs", "read"),
        "call": ("connector_core.cli.connector_verbs", "call"),
        "authorize": ("connector_core.cli.auth_verbs", "authorize"),
        "run": ("connector_core.cli.sync_verbs", "run"),
        "status": ("connector_core.cli.sync_verbs", "status"),
        "run-due": ("connector_core.cli.sync_verbs", "run_due"),
        "worker": ("connector_core.cli.worker_verbs", "worker"),
        "schedules": ("connector_core.cli.worker_verbs", "schedules"),
        "state": ("connector_core.cli.state_verbs", "state"),
        "sandbox": ("connector_core.cli.sandbox_verbs", "sandbox"),
        "demo": ("connector_core.cli.sandbox_verbs", "demo"),
        "plugins": ("connector_core.cli.plugin_verbs", "plugins"),
        "init-plugin": ("connector_core.cli.plugin_verbs", "init_plugin"),
        "ui": ("connector_core.cli.ui_verbs", "ui"),
        "import": ("connector_core.cli.import_verbs", "import_group"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            import importlib

            module, attribute = self.lazy[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Log every request and response (secrets redacted) and show tracebacks.")
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True, envvar="CONNECTOR_CORE_LOG_FORMAT", show_envvar=True,
    help="stderr as text, or as one JSON object a line (log records, messages, run progress and summaries) for log collectors.",
)
@click.option(
    "--log-level", type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False), default="warning", show_default=True,
    envvar="CONNECTOR_CORE_LOG_LEVEL", show_envvar=True, help="Least severe log record shown (info: retries and other progress); --debug implies debug.",
)
@click.option(
    "--now", metavar="DATETIME", envvar="CONNECTOR_CORE_NOW", show_envvar=True, callback=lambda c, p, v: _pin_now(v),
    help="Pin the engine's clock: what templates (now_utc()), time windows and slicers take as now, e.g. 2026-01-01T00:00:00Z, "
    "so windowed and date-relative reads are reproducible. Waits and token expiry keep the real time.",
)
@click.version_option(package_name="connector-core")
@click.pass_context
def main(ctx: click.Context, debug: bool, log_format: str, log_level: str, now: str | None) -> None:
    """Declarative API connectors and CRM <-> NetSuite syncs."""
    from connector_core.cli.logging_setup import JsonStderr, configure_logging

    ctx.obj = Context(debug)
    if not isinstance(sys.stderr, MaskedStream | JsonStderr):
        sys.stderr = MaskedStream(sys.stderr)  # before logging takes the stream: log lines pass the mask too
    ctx.call_on_close(configure_logging(log_format, "debug" if debug else log_level.lower()))
    if debug:
        for noisy in ("urllib3", "werkzeug", "oauthlib", "requests_oauthlib"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _pin_now(value: str | None) -> str | None:
    """Check ``--now`` and pin it for every connector the process opens (through CONNECTOR_CORE_NOW)."""
    if not value:
        return None
    import os

    from connector_core.engine.clock import NOW_ENV, parse_instant
    from connector_core.errors import ConfigError

    try:
        moment = parse_instant(value, "--now")
    except ConfigError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date-time; write it like 2026-01-01T00:00:00Z") from exc
    os.environ[NOW_ENV] = moment.isoformat().replace("+00:00", "Z")
    return os.environ[NOW_ENV]


pass_context = click.make_pass_decorator(Context)
CONFIG_OPTION = click.option("--config", "-c", "config", type=click.Path(dir_okay=False), help="Config file (JSON or YAML).")

if __name__ == "__main__":  # pragma: no cover
    main()
