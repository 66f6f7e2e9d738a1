"""What the command line writes on stderr: text (the default) or one JSON object a line, and the log level.

``--log-format json`` (or ``CONNECTOR_CORE_LOG_FORMAT=json``) is for log collectors: every log record,
every message the CLI prints on stderr (errors, hints, a run's progress, dead letters, the summary)
becomes one line ``{"time": ..., "level": ..., "logger": ..., "message": ..., <fields>}``, where ``time``
is ISO 8601 UTC and the fields are a record's structured extras (``connection``, ``flow``, ``counts``,
``event``, ...). ``--log-level`` (default ``warning``) filters log records; what the CLI prints is its
output, not a log record, and is always written.

The mask: every string is passed through :func:`~connector_core.engine.redaction.redact` *before* it is
encoded. JSON escapes quotes and backslashes (and, with ``ensure_ascii``, every non-ASCII character), so
a secret with one of those would no longer match the mask after encoding. Lines are encoded with
``ensure_ascii=False`` and then pass :class:`~connector_core.cli.app.MaskedStream` like all stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from connector_core.cli.streams import TextStreamWrapper

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The logger name of what the CLI prints (as opposed to log records, which carry their own).
CLI_LOGGER = "connector_core.cli"
_CORE_KEYS = ("time", "level", "logger", "message")
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}

_bound: dict[str, Any] = {}  # fields of every line (the connection being run), from the main thread
_local = threading.local()  # fields of the lines one call prints (flow, counts), per thread


def _masked(value: Any) -> Any:
    from connector_core.engine.redaction import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {_masked(str(key)): _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


def json_line(level: str, logger: str, message: str, fields: Mapping[str, Any], created: float | None = None) -> str:
    """One JSON object (no newline): the core keys first, then ``fields`` (a field never replaces a core key)."""
    moment = dt.datetime.fromtimestamp(created, dt.UTC) if created is not None else dt.datetime.now(dt.UTC)
    line: dict[str, Any] = {"time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "level": level, "logger": logger, "message": message}
    for key, value in fields.items():
        if key not in _CORE_KEYS:
            line[key] = value
    return json.dumps(_masked(line), ensure_ascii=False, default=str)


def _context() -> dict[str, Any]:
    return {**_bound, **getattr(_local, "fields", {})}


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line, with its ``extra=`` fields, the bound fields and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _context()
        fields.update((key, value) for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES and not key.startswith("_"))
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return json_line(record.levelname.lower(), record.name, record.getMessage(), fields, record.created)


class JsonStderr(TextStreamWrapper):
    """stderr in JSON mode: each write that ends a line (a ``click.echo``, a ``print``) becomes one JSON
    line whose message is the text written, so a multi-line summary stays one event. Its level is the
    bound ``level`` field, else ``error``/``warning`` for text that starts so, else ``info``."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self._lock:
            self._pending += text
            if not self._pending.endswith("\n"):
                return len(text)
            chunk, self._pending = self._pending, ""
        self.event(chunk.rstrip("\n"))
        return len(text)

    def event(self, message: str, level: str | None = None, logger: str = CLI_LOGGER, **fields: Any) -> None:
        """Write one JSON line: ``message`` with the bound fields and ``fields``."""
        if not message.strip() and not fields:
            return
        context = _context()
        level = level or context.pop("level", None) or _level_of(message)
        context.pop("level", None)
        line = json_line(level, logger, message, {**context, **fields})
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def flush(self) -> None:
        with self._lock:
            chunk, self._pending = self._pending, ""
        if chunk:
            self.event(chunk)
        self._stream.flush()

    def isatty(self) -> bool:
        return False  # no progress bars or colours between JSON lines


def _level_of(message: str) -> str:
    start = message.lstrip().lower()
    if start.startswith(("error", "internal error")):
        return "error"
    if start.startswith("warning"):
        return "warning"
    return "info"


def json_stderr() -> JsonStderr | None:
    """The JSON stderr when ``--log-format json`` is in force, else None."""
    return sys.stderr if isinstance(sys.stderr, JsonStderr) else None


def configure_logging(log_format: str, level: str) -> Callable[[], None]:
    """Set up logging on the (masked) stderr; return what undoes it when the command ends.

    Text: ``logging.basicConfig`` as before (an embedding program's logging setup is left alone).
    JSON: stderr becomes a :class:`JsonStderr` and the root logger gets a JSON handler on the masked
    stream beneath it, whatever else is configured.
    """
    if log_format != "json":
        logging.basicConfig(level=LEVELS[level], format=TEXT_FORMAT, stream=sys.stderr)
        return lambda: None
    current = json_stderr()
    if current is None:
        current = JsonStderr(sys.stderr)
        sys.stderr = current
    handler = logging.StreamHandler(current.inner)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(LEVELS[level])

    def undo() -> None:
        current.flush()
        root.removeHandler(handler)
        root.setLevel(previous_level)
        _bound.clear()

    return undo


def connection_name(path: Path) -> str:
    """The ``name:`` of a connection file, else its file name's stem (a file that does not load)."""
    try:
        from connector_core.engine.documents import load_document

        data = load_document(path).data
        name = data.get("name") if isinstance(data, dict) else None
    except Exception:  # a file that does not load is reported by the command; this is only a label
        name = None
    return name if isinstance(name, str) and name else path.stem


def bind_connection(path: Path) -> None:
    """JSON mode: every following line carries ``connection`` (the file's connection name)."""
    if json_stderr() is not None:
        _bound["connection"] = connection_name(path)


@contextmanager
def line_fields(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to the lines this thread prints inside the block (``level`` sets their level)."""
    previous = getattr(_local, "fields", {})
    _local.fields = {**previous, **fields}
    try:
        yield
    finally:
        _local.fields = previous


class JsonReporter:
    """A run's reporter in JSON mode: the plain reporter's lines, each with ``event``, ``flow`` and
    ``counts`` (the plain reporter decides what is printed and when; this only adds the structure)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def flow_started(self, flow: str) -> None:
        with line_fields(event="flow_started", flow=flow):
            self.inner.flow_started(flow)

    def progress(self, flow: str, counts: Mapping[str, int]) -> None:
        with line_fields(event="flow_progress", flow=flow, counts=dict(counts)):
            self.inner.progress(flow, counts)

    def flow_finished(self, flow: str, counts: Mapping[str, int]) -> None:
        with line_fields(event="flow_finished", flow=flow, counts=dict(counts)):
            self.inner.flow_finished(flow, counts)

    def flow_failed(self, flow: str, counts: Mapping[str, int], error: str) -> None:
        failed = getattr(self.inner, "flow_failed", None)  # optional in the reporter protocol
        if failed is not None:
            with line_fields(event="flow_failed", flow=flow, counts=dict(counts), level="error"):
                failed(flow, counts, error)

    def intended(self, write: dict[str, Any]) -> None:
        self.inner.intended(write)  # stdout: already JSON lines

    def message(self, text: str) -> None:
        with line_fields(event="message", level="warning"):
            self.inner.message(text)


_RESULT_LEVELS = {"ok": "info", "not_due": "info", "failed_records": "warning", "breaker": "warning", "locked": "warning"}


def emit_summary(result: Any, text: str, code: int) -> None:
    """A run's summary: ``text`` on stderr; in JSON mode one ``run_finished`` line with its fields."""
    stream = json_stderr()
    if stream is None:
        import click

        click.echo(text, err=True)
        return
    stream.event(
        text,
        level=_RESULT_LEVELS.get(result.status, "error"),
        event="run_finished",
        connection=result.connection,
        status=result.status,
        stopped_by=result.stopped_by,
        dry_run=result.dry_run,
        run_id=result.run_id,
        duration=round(result.duration, 3),
        counts=result.counts,
        totals=result.totals,
        errors=result.errors[:20],
        exit_code=code,
    )


__all__ = [
    "FORMATS",
    "LEVELS",
    "JsonFormatter",
    "JsonReporter",
    "JsonStderr",
    "bind_connection",
    "configure_logging",
    "connection_name",
    "emit_summary",
    "json_line",
    "json_stderr",
    "line_fields",
]
