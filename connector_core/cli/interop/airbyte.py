"""``spec|check|discover|read --format airbyte``: a spec as an Airbyte source.

stdout carries nothing but Airbyte messages: log records become LOG messages, errors TRACE messages
(never a traceback for a user's mistake) and the exit code says whether the command failed. ``--state``
is only read, as Airbyte passes it; the new state goes to stdout, one STATE message per stream at each
checkpoint, and the platform keeps it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connector_core.cli.app import EXIT_API, EXIT_INTERNAL, EXIT_USER, Context
from connector_core.cli.interop.airbyte_inputs import ConfiguredStream, load_configured_catalog, load_state
from connector_core.cli.interop.airbyte_messages import (
    catalog_message,
    connection_status,
    failure_of,
    log_message,
    now_ms,
    record_message,
    spec_message,
    state_message,
    stream_status_message,
    trace_error_message,
)
from connector_core.cli.interop.offers import discovered, offers_of_spec, stream_offers
from connector_core.cli.interop.output import MessageWriter
from connector_core.cli.interop.several_streams import read_each, streams_at_once


def spec(ctx: Context, connector: str) -> None:
    from connector_core.engine.loader import load_spec

    with speaking() as out:
        loaded = load_spec(connector, ctx.registry)
        incremental = any(offer.cursor for offer in offers_of_spec(loaded).values())
        out.write(spec_message(loaded.spec.config, supports_incremental=incremental))


def check(ctx: Context, connector: str, config: str | None) -> None:
    """CONNECTION_STATUS, FAILED with the reason when the connection does not work (exit 0: the status
    is the answer); a config or spec mistake also gets a TRACE saying it is the user's to fix."""
    from connector_core.engine.redaction import redact
    from connector_core.errors import ConnectorError

    with speaking() as out:
        try:
            with ctx.open(connector, config) as opened:
                result = opened.check()
        except ConnectorError as exc:
            if failure_of(exc)[0] == "config_error":
                out.write(trace_error_message(exc))
            out.write(connection_status(False, redact(str(exc))))
            return
        out.write(connection_status(result.ok, redact(result.message)))


def discover(ctx: Context, connector: str, config: str | None, sample: bool) -> None:
    """CATALOG from the spec alone (no request), or, with ``--sample``, with the schemas it leaves out
    inferred from the first records."""
    with speaking() as out:
        catalog, _ = discovered(ctx, connector, config, sample=sample)
        out.write(catalog_message(stream_offers(catalog)))


def read(ctx: Context, connector: str, config: str | None, catalog: str | None, state: str | None, limit: int | None) -> None:
    """Each stream of the configured catalog (several at once with ``CONNECTOR_CORE_STREAMS_AT_ONCE``:
    :mod:`~connector_core.cli.interop.several_streams`). A stream that fails is reported (INCOMPLETE and a
    TRACE naming it) and the others are still read; the command then exits non-zero."""
    with speaking() as out:
        if catalog is None:
            from connector_core.errors import ConfigError

            raise ConfigError("read --format airbyte needs --catalog FILE, the configured catalog", hint="discover --format airbyte prints the catalog to configure")
        with ctx.open(connector, config) as opened:
            streams = load_configured_catalog(Path(catalog), offers_of_spec(opened.loaded), opened.name)
            saved = load_state(Path(state)) if state else {}
            failures: list[BaseException] = []

            def read_one(stream: ConfiguredStream) -> None:
                try:
                    _read_stream(opened, stream, saved.get(stream.name) if stream.incremental else None, out, limit)
                except BrokenPipeError:
                    raise
                except Exception as exc:
                    _traceback_if_debugging()
                    out.write(stream_status_message(stream.name, "INCOMPLETE", stream.namespace))
                    out.write(trace_error_message(exc, stream=stream.name, namespace=stream.namespace))
                    failures.append(exc)

            read_each(streams, read_one, streams_at_once(opened, len(streams)))
        if failures:
            names = ", ".join(sorted({type(exc).__name__ for exc in failures}))
            out.write(log_message("ERROR", f"{len(failures)} of {len(streams)} stream(s) failed ({names}); see the TRACE messages"))
            out.close()
            sys.exit(_exit_code(failures[0]))


def _read_stream(opened: Any, stream: ConfiguredStream, state: dict[str, Any] | None, out: MessageWriter, limit: int | None) -> None:
    name, namespace = stream.name, stream.namespace
    out.write(stream_status_message(name, "STARTED", namespace))
    latest: dict[str, Any] = dict(state or {})
    since_last = 0
    states = 0

    def checkpoint(stream_state: dict[str, Any]) -> None:
        nonlocal latest, since_last, states
        if not stream.incremental:
            return  # a full refresh starts over every time: there is nothing to resume from
        out.write(state_message(name, stream_state, since_last, namespace))
        latest, since_last, states = stream_state, 0, states + 1
        out.flush()

    reader = opened.reader(name, state, on_checkpoint=checkpoint, limit=limit)
    write = out.write
    count = 0
    for record in reader.records():
        if count == 0:
            write(stream_status_message(name, "RUNNING", namespace))
        write(record_message(name, record, now_ms(), namespace))
        count += 1
        since_last += 1
    if stream.incremental and (since_last or not states):
        out.write(state_message(name, latest, since_last, namespace))  # the platform keeps a state per stream, also when nothing was new
    out.write(stream_status_message(name, "COMPLETE", namespace))
    mode = "incremental" if stream.incremental else "full refresh"
    out.write(log_message("INFO", f"read {name} ({mode}): {count} record{'' if count == 1 else 's'} in {reader.pages} page{'' if reader.pages == 1 else 's'}"))


@contextmanager
def speaking() -> Iterator[MessageWriter]:
    """stdout as Airbyte messages for the length of a command: log records become LOG messages, and an
    error that ends the command a TRACE, then the exit code of the plain command."""
    out = MessageWriter()
    root = logging.getLogger()
    handlers = root.handlers[:]
    root.handlers = [_LogHandler(out)]
    try:
        yield out
    except BrokenPipeError:
        raise
    except Exception as exc:
        _traceback_if_debugging()
        out.write(trace_error_message(exc))
        out.close()
        sys.exit(_exit_code(exc))
    finally:
        root.handlers = handlers
        out.close()


def _traceback_if_debugging() -> None:
    """--debug: the traceback on stderr (through the mask), as every command shows it."""
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is not None and (found := ctx.find_object(Context)) is not None and found.debug:
        import traceback

        traceback.print_exc()


def _exit_code(exc: BaseException) -> int:
    from connector_core.errors import ConnectorError, HTTPError, StateUnavailableError

    if isinstance(exc, HTTPError | StateUnavailableError):
        return EXIT_API
    if isinstance(exc, ConnectorError):
        return EXIT_USER
    return EXIT_INTERNAL


class _LogHandler(logging.Handler):
    """Log records as LOG messages, through the process's secret mask."""

    def __init__(self, out: MessageWriter) -> None:
        super().__init__()
        self.out = out
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        from connector_core.engine.redaction import redact

        try:
            self.out.write(log_message(record.levelname, redact(self.format(record))))
        except Exception:
            self.handleError(record)


__all__ = ["check", "discover", "read", "spec"]
