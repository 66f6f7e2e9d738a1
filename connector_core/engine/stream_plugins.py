"""The three stream components a plugin may contribute beyond auth types and paginators.

Each is a spec model selected by its ``type`` literal, like a paginator, and named from a stream:

* an **extractor** (``records: {extractor: {type: NAME, ...}}``) turns one response into its records;
* a **partition router** (``partitions: {router: {type: NAME, ...}}``) lists the partitions a stream
  iterates (the parent values or slices each read runs once for);
* a **slicer** (``cursor: {field: ..., slicer: {type: NAME, ...}}``) splits one incremental read into
  slices, read in order with a checkpoint after each.

Plugins register them with ``connector_register_extractors``, ``connector_register_partition_routers``
and ``connector_register_slicers`` (:mod:`connector_core.hookspecs`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from connector_core.engine.spec import SpecModel


class ExtractorModel(SpecModel):
    """Base of record extractor models: subclasses declare ``type: Literal[...]`` and implement ``extract``."""

    def extract(self, response: requests.Response, body: Any) -> Iterable[Any]:  # pragma: no cover - abstract
        """The records of one response, in order.

        Args:
            response: the successful response (its headers, status, raw ``content``).
            body: the body parsed as JSON, or None when it is empty or not JSON.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class PartitionContext:
    """What a partition router may use: the stream, the config, templates and other streams' records."""

    connector: str
    stream: str
    config: dict[str, Any]
    render: Callable[[Any], Any]
    read: Callable[[str], Iterator[dict[str, Any]]]


class PartitionRouterModel(SpecModel):
    """Base of partition router models: subclasses declare ``type: Literal[...]`` and implement ``partitions``."""

    def partitions(self, ctx: PartitionContext) -> Iterable[Any]:  # pragma: no cover - abstract
        """The partitions, in order. Each is what templates see as ``partition``; its state is kept under
        the partition itself when it is a string, else under its JSON text (keys sorted)."""
        raise NotImplementedError


@dataclass(frozen=True)
class SliceContext:
    """What a slicer may use: the incremental read's bounds, already parsed by the cursor's ``type``.

    ``lower`` is where the read begins (the saved cursor minus the lookback, else the cursor's
    ``start``), ``upper`` the cursor's ``end``; either may be None. ``now`` is the engine's clock."""

    stream: str
    cursor_type: str
    lower: Any
    upper: Any
    partition: Any
    now: Callable[[], float]
    render: Callable[[Any], Any]


class SlicerModel(SpecModel):
    """Base of slicer models: subclasses declare ``type: Literal[...]`` and implement ``slices``."""

    def slices(self, ctx: SliceContext) -> Iterable[dict[str, Any]]:  # pragma: no cover - abstract
        """The slices of one incremental read, in ascending cursor order; each is a mapping request
        templates see as ``slice``. The cursor is checkpointed after each slice has been read."""
        raise NotImplementedError


def partition_key(value: Any) -> str:
    """The key a partition's state is kept under: the value itself when a string, else its JSON."""
    if isinstance(value, str):
        return value
    import orjson

    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


__all__ = [
    "ExtractorModel",
    "PartitionContext",
    "PartitionRouterModel",
    "SliceContext",
    "SlicerModel",
    "partition_key",
]
