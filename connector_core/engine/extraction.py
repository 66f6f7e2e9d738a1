"""From a response to the records a stream emits: the records path (with wildcards), a plugin's
extractor, and the ``expand`` step that makes one record per item of a nested list.

Two stages, so that pagination counts what the API paged over:

1. **Page records** (:meth:`Extraction.page_records`): the list at the records path up to its first
   ``*`` (``data`` for ``data.*.items``), or what a plugin's extractor returns. Paginators see these.
2. **Emitted records** (:meth:`Extraction.emitted`): each page record followed through the rest of
   the path (``items``), every list found flattened into its items, then expanded by ``expand``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import requests

from connector_core.engine.paths import get_path, split_path
from connector_core.errors import ConnectorError

WILDCARD = "*"


def split_wildcard(path: str) -> tuple[str, str | None]:
    """``data.*.items`` → (``data``, ``items``); a path without a wildcard → (path, None)."""
    parts = split_path(path)
    if WILDCARD not in parts:
        return path, None
    index = parts.index(WILDCARD)
    return ".".join(parts[:index]), ".".join(parts[index + 1 :])


def find_all(data: Any, path: str) -> list[Any]:
    """Every value at ``path`` in ``data``, where ``*`` stands for every item of a list or every value
    of a mapping; steps that do not exist contribute nothing."""
    found = [data]
    for part in split_path(path):
        following: list[Any] = []
        for value in found:
            if part == WILDCARD:
                if isinstance(value, list):
                    following.extend(value)
                elif isinstance(value, dict):
                    following.extend(value.values())
            else:
                step = get_path(value, part, _MISSING)
                if step is not _MISSING:
                    following.append(step)
        found = following
    return found


_MISSING: Any = object()


def flatten_found(values: Iterable[Any]) -> list[Any]:
    """Lists found are spread into their items; None is nothing; anything else is one record."""
    records: list[Any] = []
    for value in values:
        if isinstance(value, list):
            records.extend(value)
        elif value is not None:
            records.append(value)
    return records


class Extraction:
    """The extraction settings of one stream (its ``records``), compiled once per read."""

    def __init__(self, stream_name: str, selector: Any) -> None:
        self.stream = stream_name
        self.extractor = getattr(selector, "extractor", None)
        self.head, self.rest = split_wildcard(selector.path)
        self.expand = getattr(selector, "expand", None)

    @property
    def needs_json(self) -> bool:
        """Whether a body that is not JSON is an error (a plugin's extractor reads such bodies itself)."""
        return self.extractor is None

    def page_records(self, response: requests.Response, body: Any) -> list[Any]:
        """The records of one response as the paginator counts them."""
        if self.extractor is not None:
            return list(self.extractor.extract(response, body))
        if body is None:
            return []
        found = get_path(body, self.head)
        if found is None:
            return []
        if self.rest is not None:  # the wildcard walks this list, or this mapping's values
            if isinstance(found, dict):
                return list(found.values())
            return found if isinstance(found, list) else []
        return found if isinstance(found, list) else [found]

    @property
    def changes_records(self) -> bool:
        """Whether :meth:`emitted` does anything (most streams: no)."""
        return self.rest is not None or self.expand is not None

    def emitted(self, pages: Iterator[list[Any]]) -> Iterator[list[Any]]:
        """Each page's records as the stream emits them: through the rest of a wildcard path, then expanded."""
        for records in pages:
            if self.rest is not None:
                records = flatten_found(value for record in records for value in find_all(record, self.rest))
            if self.expand is not None:
                records = [child for record in records for child in self._expand(record)]
            yield records

    def _expand(self, record: Any) -> list[Any]:
        spec = self.expand
        assert spec is not None
        if not isinstance(record, dict):
            raise ConnectorError(
                f"stream '{self.stream}': records.expand needs records that are mappings, got {type(record).__name__}",
                hint="point records.path at the list of objects whose nested list you expand",
            )
        items = get_path(record, spec.path)
        if items is None:
            items = []
        elif not isinstance(items, list):
            items = [items]
        carried = {name: get_path(record, path) for name, path in spec.carry.items()}
        children = []
        for item in items:
            if spec.as_field is not None:
                child = {spec.as_field: item}
            elif isinstance(item, dict):
                child = dict(item)
            else:
                raise ConnectorError(
                    f"stream '{self.stream}': records.expand.path '{spec.path}' holds a {type(item).__name__}, not a mapping",
                    hint="set expand.as to the field name each item goes into, e.g. `as: value`",
                )
            child.update(carried)
            children.append(child)
        if not children and spec.keep_empty:
            children.append({**({spec.as_field: None} if spec.as_field else {}), **carried})
        return children


__all__ = ["Extraction", "find_all", "flatten_found", "split_wildcard"]
