"""The public face of the engine: a connector spec bound to a config, with its verbs.

``Connector.open(spec, config)`` loads a spec (an installed connector's name or a file path) and binds it
to a config; ``read``, ``call``, ``check`` and ``discover`` are the verbs the CLI and the sync runner use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from connector_core.engine.discovery import CheckResult, check_connection, discover_streams
from connector_core.engine.loader import load_spec
from connector_core.engine.reader import StreamReader
from connector_core.engine.registry import Registry, build_registry, make_plugin_manager
from connector_core.engine.session import ConnectorSession
from connector_core.engine.writes import run_operation


class Connector(ConnectorSession):
    """A connector spec bound to a config. Open one per connection and share it between streams."""

    @classmethod
    def open(cls, spec: str | Path, config: Mapping[str, Any] | str | Path | None = None, registry: Registry | None = None, **kwargs: Any) -> Connector:
        """Load a spec (installed name or path) and bind it to ``config``."""
        registry = registry or build_registry(make_plugin_manager())
        return cls(load_spec(spec, registry), config, registry, **kwargs)

    def __enter__(self) -> Connector:
        return self

    # -- the verbs ---------------------------------------------------------------------------------

    def read(self, stream: str, state: dict[str, Any] | None = None, *, on_checkpoint: Callable[[dict[str, Any]], None] | None = None, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Yield the records of ``stream``; ``on_checkpoint`` receives the stream state when it may be saved."""
        return self.reader(stream, state, on_checkpoint=on_checkpoint, limit=limit).records()

    def reader(self, stream: str, state: dict[str, Any] | None = None, *, on_checkpoint: Callable[[dict[str, Any]], None] | None = None, limit: int | None = None) -> StreamReader:
        """The reader behind :meth:`read`, for a caller that also reports what it did: ``records()`` yields
        the records, and ``emitted`` and ``pages`` count the records and pages read so far."""
        return StreamReader(self, stream, state, on_checkpoint=on_checkpoint, limit=limit)

    def call(self, operation: str, payload: Mapping[str, Any] | None = None, *, strict: bool = False) -> Any:
        """Run one write operation or action; returns its output.

        ``strict`` refuses input keys the operation's input schema does not list (a misspelt option is
        otherwise dropped unread) unless the schema allows other keys; ``connector-core call`` is strict.
        The sync runner is not: one ``to.input`` serves a flow's create and update operations.
        """
        return run_operation(self, operation, dict(payload or {}), strict=strict)

    def check(self) -> CheckResult:
        return check_connection(self)

    def discover(self, *, sample: bool = False) -> dict[str, Any]:
        return discover_streams(self, sample=sample)




__all__ = ["CheckResult", "Connector"]
