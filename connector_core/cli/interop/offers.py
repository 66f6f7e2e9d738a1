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


__all__ = ["StreamOffer", "path_steps", "offers_of_connector", "offers_of_spec", "stream_offers"]
