"""What each stream of a spec offers to a platform: its schema, cursor and primary key, as paths.

Built from :func:`~connector_core.engine.discovery.discover_streams`, so the Airbyte and Singer catalogs
say exactly what ``connector-core discover`` says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# a dot between path steps, not one inside a template (`hs_date_entered_{{ partition.id }}`)
_STEP = re.compile(r"\.(?![^{]*\}\})")


def path_steps(path: str) -> list[str]:
    return [step for step in _STEP.split(path) if step]


@dataclass(frozen=True)
class StreamOffer:
    name: str
    description: str | None
    json_schema: dict[str, Any]
    cursor: str | None  # as the spec writes it: a dotted path into the record
    primary_key: tuple[str, ...]  # dotted paths

    @property
    def cursor_path(self) -> list[str] | None:
        return path_steps(self.cursor) if self.cursor else None

    @property
    def key_paths(self) -> list[list[str]]:
        return [path_steps(key) for key in self.primary_key]


def stream_offers(catalog: dict[str, Any]) -> dict[str, StreamOffer]:
    """The streams of a ``discover_streams`` catalog, by name, in the spec's order."""
    return {
        stream["name"]: StreamOffer(
            name=stream["name"],
            description=stream.get("description"),
            json_schema=stream.get("json_schema") or {"type": "object"},
            cursor=stream.get("cursor_field"),
            primary_key=tuple(stream.get("primary_key") or ()),
        )
        for stream in catalog["streams"]
    }


def discovered(ctx: Any, connector: str, config: str | None, *, sample: bool) -> tuple[dict[str, Any], list[str]]:
    """The catalog ``discover`` prints: from the spec alone, or from an open connector when ``sample``
    asks for inferred schemas or a stream's schema comes from the API (``schema: {from: ...}``) and a
    config is given. Also the streams whose schemas the API describes but were not fetched (no config)."""
    from connector_core.engine.connector import Connector
    from connector_core.engine.discovery import discover_streams
    from connector_core.engine.loader import load_spec

    loaded = load_spec(connector, ctx.registry)
    described = [
        name for name, stream in loaded.spec.streams.items()
        if not stream.hidden and stream.record_schema is not None and not isinstance(stream.record_schema, dict)
    ]
    if sample or (described and config is not None):
        with Connector(loaded, config, ctx.registry) as opened:
            return opened.discover(sample=sample), []
    return discover_streams(_SpecOnly(loaded)), described


def offers_of_spec(loaded: Any) -> dict[str, StreamOffer]:
    """The offers of a loaded spec, without a config and without a request."""
    from connector_core.engine.discovery import discover_streams

    return stream_offers(discover_streams(_SpecOnly(loaded)))


def offers_of_connector(opened: Any, *, sample: bool = False) -> dict[str, StreamOffer]:
    """The offers of an open connector; ``sample`` infers the schemas the spec leaves out from the
    first records of each such stream."""
    return stream_offers(opened.discover(sample=sample))


class _SpecOnly:
    """Enough of a connector for discovery without a config."""

    def __init__(self, loaded: Any) -> None:
        self.spec = loaded.spec
        self.name = loaded.spec.name


__all__ = ["StreamOffer", "discovered", "offers_of_connector", "offers_of_spec", "path_steps", "stream_offers"]
