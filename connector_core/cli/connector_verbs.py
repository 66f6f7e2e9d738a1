"""The connector verbs: ``validate``, ``spec``, ``check``, ``discover``, ``read`` and ``call``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from connector_core.cli.app import CONFIG_OPTION, EXIT_API, EXIT_USER, Context, guarded, pass_context
from connector_core.cli.interop import CONNECTOR_ARGUMENT, FORMAT_OPTION
from connector_core.cli.progress import progress_bar


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@pass_context
@guarded
def validate(ctx: Context, paths: tuple[str, ...]) -> None:
    """Check spec or connection files; print every problem with file:line:col.

    A directory stands for its connection files (those `run-due` would run; its config/ folder is left
    alone): each is checked and reported, then a summary line. Exit 1 if any file is invalid.
    """
    from connector_core.cli.validate import report, report_directory

    def echo(text: str) -> None:
        click.echo(text, err=True)

    failed = 0
    for path in map(Path, paths):
        failed += report_directory(path, ctx.registry, echo) if path.is_dir() else not report(path, ctx.registry, echo)
    if failed:
        sys.exit(EXIT_USER)


@click.command()
@CONNECTOR_ARGUMENT
@FORMAT_OPTION
@pass_context
def spec(ctx: Context, connector: str, protocol: str | None) -> None:
    """Print CONNECTOR's config JSON Schema (an installed name or a spec path)."""
    if protocol == "singer":
        raise click.UsageError("Singer has no spec message: a tap's settings are described in meltano.yml (docs/interop.md)")
    if protocol == "airbyte":
        from connector_core.cli.interop import airbyte

        guarded(airbyte.spec)(ctx, connector)
    else:
        guarded(_print_config_schema)(ctx, connector)


def _print_config_schema(ctx: Context, connector: str) -> None:
    from connector_core.engine.loader import load_spec

    loaded = load_spec(connector, ctx.registry)
    click.echo(json.dumps(loaded.spec.config, indent=2))


@click.command()
@CONNECTOR_ARGUMENT
@CONFIG_OPTION
@FORMAT_OPTION
@pass_context
@guarded
def check(ctx: Context, connector: str, config: str | None, protocol: str | None) -> None:
    """Make a test call with CONNECTOR and the given config.

    With several check streams, each is tried and reported; exit 3 when they failed for the API or
    the network, 1 when a failure is the spec's or the config's to fix."""
    if protocol == "airbyte":
        from connector_core.cli.interop import airbyte

        return airbyte.check(ctx, connector, config)
    with ctx.open(connector, config) as opened:
        result = opened.check()
    click.echo(result.message, err=True)
    if not result.ok:
        failed = [s for s in result.details.get("streams", []) if not s["ok"]]
        sys.exit(EXIT_API if failed and all(s["api"] for s in failed) else EXIT_USER)


@click.command()
@CONNECTOR_ARGUMENT
@CONFIG_OPTION
@click.option("--sample", is_flag=True, help="Infer missing record schemas from the first records of each stream.")
@FORMAT_OPTION
@pass_context
@guarded
def discover(ctx: Context, connector: str, config: str | None, sample: bool, protocol: str | None) -> None:
    """Print CONNECTOR's streams (schemas, sync modes) and operations as JSON."""
    if protocol is not None:
        from connector_core.cli.interop import airbyte, singer

        speaker: Any = airbyte if protocol == "airbyte" else singer
        speaker.discover(ctx, connector, config, sample)
        return
    from connector_core.cli.interop.offers import discovered

    catalog, not_fetched = discovered(ctx, connector, config, sample=sample)
    if not_fetched:
        click.echo(f"note: the API describes the records of {', '.join(not_fetched)}; give -c CONFIG to fetch their schemas", err=True)
    click.echo(json.dumps(catalog, indent=2))


@click.command()
@CONNECTOR_ARGUMENT
@CONFIG_OPTION
@click.option("--stream", "-s", help="Stream to read (required without --format; with --format singer, narrows the catalog to it).")
@click.option("--state", "state_path", type=click.Path(dir_okay=False), help="State file: read before, updated at each checkpoint (with --format: the platform's state, only read).")
@click.option("--envelope", is_flag=True, help='Wrap lines as {"type":"RECORD"|"STATE",...} and emit state lines.')
@click.option("--limit", type=int, help="Stop after this many records (of each stream, with --format).")
@FORMAT_OPTION
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), help="With --format: the configured catalog (Airbyte) or the catalog (Singer) that selects the streams.")
@click.option("--properties", "properties_path", type=click.Path(dir_okay=False), help="With --format singer: the catalog, under its older Singer name.")
@click.option("--discover", "discover_only", is_flag=True, help="With --format singer: print the catalog instead of reading (Singer's discovery mode).")
@pass_context
def read(
    ctx: Context, connector: str, config: str | None, stream: str | None, state_path: str | None, envelope: bool, limit: int | None,
    protocol: str | None, catalog_path: str | None, properties_path: str | None, discover_only: bool,
) -> None:
    """Read STREAM as JSON lines on stdout; state checkpoints go to --state.

    With --format airbyte or singer, read the streams a catalog selects as that protocol's messages
    (docs/interop.md).
    """
    if protocol is not None or catalog_path or properties_path or discover_only:
        return _read_protocol(ctx, connector, config, stream, state_path, envelope, limit, protocol, catalog_path, properties_path, discover_only)
    if stream is None:
        raise click.MissingParameter(ctx=click.get_current_context(), param_hint="'--stream' / '-s'", param_type="option")
    guarded(_read_json_lines)(ctx, connector, config, stream, state_path, envelope, limit)


def _read_json_lines(ctx: Context, connector: str, config: str | None, stream: str, state_path: str | None, envelope: bool, limit: int | None) -> None:
    import orjson

    from connector_core.engine.statefile import StateFile

    state_file = StateFile(Path(state_path)) if state_path else None
    state = state_file.stream(stream) if state_file else None
    out = _binary_stdout()
    newline = orjson.OPT_APPEND_NEWLINE

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value, option=newline)

    saves = 0

    def checkpoint(stream_state: dict[str, Any]) -> None:
        nonlocal saves
        out.flush()  # the records a checkpoint covers are written before the checkpoint is saved
        if state_file is not None:
            state_file.save(stream, stream_state)
            saves += 1
        if envelope:
            out.write(dumps({"type": "STATE", "stream": stream, "state": stream_state}))

    with ctx.open(connector, config) as opened, progress_bar(f"{stream}") as advance:
        reader = opened.reader(stream, state, on_checkpoint=checkpoint, limit=limit)
        records = reader.records()
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
    click.echo(_read_summary(stream, count, reader.pages, state_path, had_state=bool(state), saved=saves > 0, limit=limit), err=True)


def _read_protocol(
    ctx: Context, connector: str, config: str | None, stream: str | None, state_path: str | None, envelope: bool, limit: int | None,
    protocol: str | None, catalog_path: str | None, properties_path: str | None, discover_only: bool,
) -> None:
    """``read --format airbyte|singer``: the options each protocol takes (a usage error, exit 2, for
    one it does not), then its module's read under the error guard."""
    if protocol is None:
        raise click.UsageError("--catalog, --properties and --discover are options of --format airbyte|singer")
    if envelope:
        raise click.UsageError(f"--envelope is connector-core's own line format; --format {protocol} has its own messages")
    if protocol == "airbyte":
        if properties_path or discover_only:
            raise click.UsageError("--properties and --discover are Singer's; Airbyte runs `discover --format airbyte` and passes --catalog")
        if stream is not None:
            raise click.UsageError("with --format airbyte the configured catalog (--catalog) selects the streams")
        from connector_core.cli.interop import airbyte

        guarded(airbyte.read)(ctx, connector, config, catalog_path, state_path, limit)
        return
    from connector_core.cli.interop import singer

    if discover_only:
        guarded(singer.discover)(ctx, connector, config, False)
        return
    if catalog_path and properties_path:
        raise click.UsageError("give the catalog once: --catalog or --properties")
    guarded(singer.read)(ctx, connector, config, catalog_path or properties_path, state_path, limit, stream)


def _read_summary(stream: str, count: int, pages: int, state_path: str | None, *, had_state: bool, saved: bool, limit: int | None) -> str:
    """`read`'s one line on stderr: how many records and pages, and what became of the state, also when nothing was new."""
    records = f"{count} {'new ' if had_state else ''}record{'' if count == 1 else 's'}"
    line = f"read {stream}: {records} in {pages} page{'' if pages == 1 else 's'}"
    if limit is not None and count >= limit:
        line += f" (stopped at --limit {limit})"
    if state_path is None:
        return f"{line}; no state kept (--state FILE makes the next read incremental)"
    return f"{line}; state {'saved to' if saved else 'unchanged in'} {state_path}"


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


@click.command()
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
        result = opened.call(operation, payload, strict=True)
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
        except RecursionError:
            raise OperationError("--input is nested too deeply") from None
        except ValueError as exc:  # an integer longer than Python converts (4,300 digits)
            raise OperationError(f"--input cannot be read: {str(exc).split(';')[0]}", hint="put a long identifier in quotes to make it text") from None
    if not isinstance(data, dict):
        raise OperationError("--input must be a JSON object")
    return data
