"""The ``connector-core`` command line.

Exit codes: 0 success · 1 invalid spec, config or input (fix a file) · 2 usage error · 3 the API or the
network failed (see the message) · 4 internal error (a bug: rerun with --debug and report it) ·
141 stdout was closed by its reader (e.g. ``| head``), reported silently like any Unix filter.
Machine-readable output goes to stdout as JSON (lines); progress and messages go to stderr.
Heavy modules are imported inside the commands so that start-up stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

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
        from connector_core.engine.auth.tokenstore import JsonFileTokenStore, default_token_path
        from connector_core.engine.connector import Connector
        from connector_core.engine.loader import load_spec

        loaded = load_spec(connector, self.registry)
        kwargs.setdefault("tokens", JsonFileTokenStore(default_token_path(config)))
        return Connector(loaded, config, self.registry, **kwargs)


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
            )

            if ctx is not None and ctx.debug:
                import traceback

                traceback.print_exc()
            if isinstance(exc, SpecError | ConfigError | OperationError):
                _fail(f"error: {exc}", EXIT_USER)
            if isinstance(exc, HTTPError):
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
        "authorize": ("connector_core.engine.auth.authorize", "authorize_command"),
        "run": ("connector_core.cli.sync_verbs", "run"),
        "status": ("connector_core.cli.sync_verbs", "status"),
        "run-due": ("connector_core.cli.sync_verbs", "run_due"),
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
@click.version_option(package_name="connector-core")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Declarative API connectors and CRM <-> NetSuite syncs."""
    ctx.obj = Context(debug)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if debug:
        for noisy in ("urllib3", "werkzeug", "oauthlib", "requests_oauthlib"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


pass_context = click.make_pass_decorator(Context)
CONFIG_OPTION = click.option("--config", "-c", "config", type=click.Path(dir_okay=False), help="Config file (JSON or YAML).")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@pass_context
@guarded
def validate(ctx: Context, paths: tuple[str, ...]) -> None:
    """Check spec or connection files; print every problem with file:line:col."""
    from connector_core.cli.validate import validate_file
    from connector_core.errors import ConnectorError

    failed = 0
    for path in paths:
        try:
            kind = validate_file(Path(path), ctx.registry)
        except ConnectorError as exc:
            failed += 1
            click.echo(str(exc), err=True)
        else:
            click.echo(f"{path}: valid {kind}", err=True)
    if failed:
        sys.exit(EXIT_USER)


@main.command()
@click.argument("connector")
@pass_context
@guarded
def spec(ctx: Context, connector: str) -> None:
    """Print CONNECTOR's config JSON Schema (an installed name or a spec path)."""
    from connector_core.engine.loader import load_spec

    loaded = load_spec(connector, ctx.registry)
    click.echo(json.dumps(loaded.spec.config, indent=2))


@main.command()
@click.argument("connector")
@CONFIG_OPTION
@pass_context
@guarded
def check(ctx: Context, connector: str, config: str | None) -> None:
    """Make a test call with CONNECTOR and the given config."""
    with ctx.open(connector, config) as opened:
        result = opened.check()
    click.echo(result.message, err=True)


@main.command()
@click.argument("connector")
@CONFIG_OPTION
@click.option("--sample", is_flag=True, help="Infer missing record schemas from the first records of each stream.")
@pass_context
@guarded
def discover(ctx: Context, connector: str, config: str | None, sample: bool) -> None:
    """Print CONNECTOR's streams (schemas, sync modes) and operations as JSON."""
    from connector_core.engine.connector import Connector
    from connector_core.engine.discovery import discover_streams
    from connector_core.engine.loader import load_spec

    loaded = load_spec(connector, ctx.registry)
    if sample:
        with Connector(loaded, config, ctx.registry) as opened:
            catalog = opened.discover(sample=True)
    else:
        catalog = discover_streams(_Offline(loaded))
    click.echo(json.dumps(catalog, indent=2))


class _Offline:
    """Enough of a Connector for discovery without a config."""

    def __init__(self, loaded: Any) -> None:
        self.spec = loaded.spec
        self.name = loaded.spec.name


@main.command()
@click.argument("connector")
@CONFIG_OPTION
@click.option("--stream", "-s", required=True, help="Stream to read.")
@click.option("--state", "state_path", type=click.Path(dir_okay=False), help="State file: read before, updated at each checkpoint.")
@click.option("--envelope", is_flag=True, help='Wrap lines as {"type":"RECORD"|"STATE",...} and emit state lines.')
@click.option("--limit", type=int, help="Stop after this many records.")
@pass_context
@guarded
def read(ctx: Context, connector: str, config: str | None, stream: str, state_path: str | None, envelope: bool, limit: int | None) -> None:
    """Read STREAM as JSON lines on stdout; state checkpoints go to --state."""
    import orjson

    from connector_core.engine.statefile import StateFile

    state_file = StateFile(Path(state_path)) if state_path else None
    state = state_file.stream(stream) if state_file else None
    out = _binary_stdout()
    newline = orjson.OPT_APPEND_NEWLINE

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value, option=newline)

    def checkpoint(stream_state: dict[str, Any]) -> None:
        out.flush()  # the records a checkpoint covers are written before the checkpoint is saved
        if state_file is not None:
            state_file.save(stream, stream_state)
        if envelope:
            out.write(dumps({"type": "STATE", "stream": stream, "state": stream_state}))

    with ctx.open(connector, config) as opened, _progress(f"{stream}") as advance:
        records = opened.read(stream, state, on_checkpoint=checkpoint, limit=limit)
        count = 0
        try:
            if envelope:
                for record in records:
                    out.write(dumps({"type": "RECORD", "stream": stream, "record": record}))
                    count += 1
                    if count % 1000 == 0:
                        advance(count)
            else:
                write = out.write
                for record in records:
                    write(orjson.dumps(record, option=newline))
                    count += 1
                    if count % 1000 == 0:
                        advance(count)
            advance(count)
        finally:
            out.close()


def _binary_stdout() -> Any:
    """stdout with our own 64 KiB buffer: otherwise, when Python runs unbuffered (PYTHONUNBUFFERED is
    common in containers), every record would be one system call."""
    import io

    sys.stdout.flush()
    try:
        return open(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False)  # noqa: SIM115 - caller closes
    except (AttributeError, io.UnsupportedOperation, ValueError):  # not a real file (e.g. a test runner)
        return _StreamWriter(sys.stdout.buffer)


class _StreamWriter:
    """write/flush/close over a stream we must not close."""

    def __init__(self, stream: Any) -> None:
        self.write = stream.write
        self.flush = stream.flush

    def close(self) -> None:
        self.flush()


@main.command()
@click.argument("connector")
@click.argument("operation")
@CONFIG_OPTION
@click.option("--input", "-i", "input_value", default="{}", help="Input as JSON, or @FILE to read JSON/YAML from a file.")
@pass_context
@guarded
def call(ctx: Context, connector: str, operation: str, config: str | None, input_value: str) -> None:
    """Run one write OPERATION (or action) of CONNECTOR and print its result as JSON."""
    payload = _read_input(input_value)
    with ctx.open(connector, config) as opened:
        result = opened.call(operation, payload)
    click.echo(json.dumps(result, indent=2, default=str))


def _read_input(value: str) -> dict[str, Any]:
    from connector_core.errors import OperationError

    if value.startswith("@"):
        from connector_core.engine.documents import load_document

        data = load_document(Path(value[1:])).data
    else:
        try:
            data = json.loads(value)
        except json.JSONDecodeError as exc:
            raise OperationError(f"--input is not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, dict):
        raise OperationError("--input must be a JSON object")
    return data


@main.command()
@pass_context
@guarded
def plugins(ctx: Context) -> None:
    """List installed plugins and what each registers."""
    registry = ctx.registry
    by_plugin: dict[str, list[str]] = {}
    for key, owner in sorted(registry.owners.items()):
        by_plugin.setdefault(owner, []).append(key)
    for name, plugin in sorted(registry.pm.list_name_plugin(), key=lambda p: p[0] or ""):
        items = by_plugin.get(name or "", [])
        click.echo(f"{name}  ({getattr(plugin, '__name__', type(plugin).__name__)})")
        for item in items:
            click.echo(f"    {item}")
        hooks = sorted(h.name for h in registry.pm.get_hookcallers(plugin) or [] if not h.name.startswith("connector_register"))
        for hook in hooks:
            click.echo(f"    hook: {hook}")


@main.command("init-plugin")
@click.argument("name")
@click.option("--directory", "-d", type=click.Path(file_okay=False), help="Where to create the package (default: ./NAME).")
@guarded
def init_plugin(name: str, directory: str | None) -> None:
    """Scaffold a plugin package NAME: pyproject, spec, hooks and a cassette test."""
    from connector_core.cli.scaffold import scaffold_plugin

    target = scaffold_plugin(name, Path(directory) if directory else Path(name))
    click.echo(f"created {target}; next: pip install -e {target}[test] && pytest {target}", err=True)


@main.command()
@click.option("--connections", "directory", type=click.Path(file_okay=False, exists=True), help="Connection files to run (default: the shipped examples, specs/connections).")
@click.option("--state-dir", type=click.Path(file_okay=False), help="Keep the copies and their state here (default: a temporary directory, removed).")
@guarded
def demo(directory: str | None, state_dir: str | None) -> None:
    """Start the NetSuite and HubSpot emulators in-process and run every example connection once against them."""
    import sys
    from pathlib import Path

    from connector_core.cli.demo import run_demo

    sys.exit(run_demo(Path(directory) if directory else None, Path(state_dir) if state_dir else None))


@main.command()
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


def _progress(label: str) -> Any:
    from contextlib import contextmanager

    @contextmanager
    def bar() -> Any:
        if not sys.stderr.isatty():
            yield lambda count: None
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} records"), TimeElapsedColumn(), transient=False, console=_stderr_console()) as progress:
            task = progress.add_task(label, total=None)
            yield lambda count: progress.update(task, completed=count)

    return bar()


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


if __name__ == "__main__":  # pragma: no cover
    main()
