"""`connector-core validate`: recognise a file as a connector spec or a connection file and check it.

A directory is validated as a whole: every connection file in it, chosen as `run-due` chooses them
(its ``config/`` folder and other non-connection files are left alone), each reported with its located
problems, then a one-line summary.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from connector_core.engine.documents import load_document
from connector_core.engine.loader import load_spec
from connector_core.engine.registry import Registry
from connector_core.errors import ConfigError, ConnectorError, SpecError

CONNECTION_KEYS = frozenset({"source", "destination", "flows", "direction"})


def validate_file(path: Path, registry: Registry) -> str:
    """Validate ``path``; return what it is ('connector spec' or 'connection'); raise on problems."""
    doc = load_document(path)
    if isinstance(doc.data, dict) and CONNECTION_KEYS & set(doc.data):
        try:
            from connector_core.sync.connection import load_connection
        except ImportError:
            raise SpecError(f"{path}: connection files need the sync runner, which this version does not include") from None
        load_connection(path, registry)
        return "connection"
    load_spec(path, registry)
    return "connector spec"


def directory_files(directory: Path) -> list[Path]:
    """The connection files `validate DIR` checks: those `run-due DIR` would run. Raises ConfigError
    when there are none, since validating nothing is never what was meant."""
    from connector_core.cli.sync_verbs import _connection_files

    files = _connection_files(directory)
    if not files:
        raise ConfigError(
            f"{directory}: no connection files to validate (a connection file is a .yaml, .yml or .json file "
            f"with `source`, `destination` and `flows`)",
            hint=f"to check connector specs, name them: connector-core validate {directory}/*.yaml",
        )
    return files


def report(path: Path, registry: Registry, echo: Callable[[str], None]) -> bool:
    """Validate one file and say so: ``path: valid <kind>``, or every located problem. True if valid."""
    try:
        kind = validate_file(path, registry)
    except ConnectorError as exc:
        echo(str(exc))
        return False
    echo(f"{path}: valid {kind}")
    return True


def report_directory(directory: Path, registry: Registry, echo: Callable[[str], None]) -> int:
    """Validate every connection file of ``directory`` (all of them, whatever fails), then one summary
    line. Returns how many failed; a directory without connection files counts as one failure."""
    try:
        files = directory_files(directory)
    except ConfigError as exc:
        echo(f"error: {exc}")
        return 1
    failed = sum(not report(path, registry, echo) for path in files)
    noun = "connection file" if len(files) == 1 else "connection files"
    if failed:
        echo(f"{directory}: {failed} of {len(files)} {noun} invalid")
    else:
        echo(f"{directory}: {len(files)} {noun}, all valid")
    return failed


__all__ = ["directory_files", "report", "report_directory", "validate_file"]
