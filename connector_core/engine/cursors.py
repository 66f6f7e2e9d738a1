"""A stream's incremental cursor during one read of one partition: the bounds records are kept within,
the highest cursor value seen, and the state saved at a checkpoint (with the records already emitted
inside the lookback window, so the next run does not emit them twice).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import orjson

from connector_core.engine.paths import get_path
from connector_core.engine.spec import Incremental
from connector_core.engine.timeparse import parse_datetime
from connector_core.errors import ConnectorError

if TYPE_CHECKING:
    from connector_core.engine.session import ConnectorSession

#: What :meth:`CursorTracker.observe` gives for a record outside the [lower, upper] bounds.
OUT_OF_BOUNDS: Any = object()
MAX_SEEN = 10_000  # most lookback identities kept in state; past it, a few duplicates may be re-emitted
_PRUNE_FLOOR = 2_000


class CursorTracker:
    """Tracks the highest cursor value seen and classifies records against the saved cursor.

    With a primary key it also remembers ``(primary key, cursor)`` of the records emitted within the
    lookback window below the highest cursor (with no lookback: those at the highest cursor); they go
    into the state as ``seen`` so that the next run, which re-reads the window (APIs filter with
    ``>=``), drops exactly the records it already emitted and keeps late arrivals.
    """

    def __init__(
        self,
        spec: Incremental[Any],
        saved: Any,
        connector: ConnectorSession,
        stream: str,
        seen: Any = None,
        partition: Any = None,
    ) -> None:
        self.spec = spec
        self.kind = spec.type
        # the field may depend on the partition, e.g. 'properties.date_entered_{{ partition.id }}'
        self.field = (
            str(connector.render(spec.field, {"partition": partition}, f"streams.{stream}.cursor.field"))
            if "{{" in spec.field
            else spec.field
        )
        where = f"streams.{stream}.cursor"
        self.saved = self._parse_setting(
            saved, f"the saved state of stream '{stream}'", "fix or delete the state to read from the start"
        )
        start = connector.render(spec.start, {}, f"{where}.start") if spec.start else None
        end = connector.render(spec.end, {}, f"{where}.end") if spec.end else None
        self.start = self._parse_setting(start, f"{where}.start", "check the start date in the config")
        self.upper = self._parse_setting(end, f"{where}.end", "check the end date in the config")
        if self.saved is not None:
            self.lower = self._minus(self.saved, spec.lookback)
        else:
            self.lower = self.start
        self.max: Any = self.saved
        self.floor: Any = self._minus(self.max, spec.lookback) if self.max is not None else None
        self.changed = False
        self.previous: set[str] = {_identity(item) for item in seen or [] if isinstance(item, list)}
        self.recent: dict[str, tuple[list[Any], Any]] = {}
        self._prune_at = _PRUNE_FLOOR

    def tracks(self, value: Any) -> bool:
        """Whether a record with this cursor value needs the duplicate check: it may be one the last run
        emitted, or it falls inside the window the state will remember. Most records of a long read
        do not, and skip the work."""
        if self.previous and self.saved is not None and value <= self.saved:
            return True
        return self.floor is None or value >= self.floor

    def first_sighting(self, key: list[Any], value: Any) -> bool:
        """False when this version of the record (key and cursor) was already emitted."""
        item = [*key, self._dump(value)]
        identity = _identity(item)
        if identity in self.previous or identity in self.recent:
            return False
        self.recent[identity] = (item, value)
        self.changed = (
            True  # a late arrival inside the window must be remembered even if the max is unchanged
        )
        if len(self.recent) >= self._prune_at:
            self._prune()
        return True

    def _prune(self) -> None:
        floor = self._minus(self.max, self.spec.lookback)
        self.recent = {k: v for k, v in self.recent.items() if v[1] >= floor}
        self._prune_at = max(_PRUNE_FLOOR, 2 * len(self.recent))

    def state(self) -> dict[str, Any]:
        """The state to save: the cursor, and the identities emitted inside the lookback window."""
        saved: dict[str, Any] = {"cursor": self.value}
        if self.recent or self.previous:
            floor = self._minus(self.max, self.spec.lookback)
            kept = [(value, item) for item, value in self.recent.values() if value >= floor]
            for identity in self.previous:
                item = orjson.loads(identity)
                value = self._parse(item[-1])
                if value >= floor:
                    kept.append((value, item))
            kept.sort(key=lambda pair: pair[0], reverse=True)
            if kept:  # a window's end past every record leaves none to remember
                saved["seen"] = [item for _, item in kept[:MAX_SEEN]]
        return saved

    def _dump(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return value

    def _parse_setting(self, value: Any, where: str, hint: str) -> Any:
        if value in (None, ""):
            return None
        try:
            return self._parse(value)
        except (TypeError, ValueError):
            kind = {"datetime": "date-time", "integer": "whole number"}.get(self.kind, self.kind)
            raise ConnectorError(
                f"{where} holds {value!r}, which is not a {kind} cursor value", hint=hint
            ) from None

    def _parse(self, value: Any) -> Any:
        if self.kind == "datetime":
            return parse_datetime(value)
        if self.kind == "integer":
            return int(value)
        return str(value)

    def _minus(self, value: Any, seconds: float) -> Any:
        if not seconds:
            return value
        if self.kind == "datetime":
            return value - dt.timedelta(seconds=seconds)
        if self.kind == "integer":
            return value - int(seconds)
        return value

    @property
    def value(self) -> Any:
        return self._dump(self.max)

    def reach(self, value: Any) -> None:
        """Everything up to ``value`` has been read (a time window is done): the cursor is ``value``.

        Even when a record's cursor is later: the API may window on another field (created) than the
        cursor (updated), and the windows after this one are not read yet."""
        self.max = value
        self.floor = self._minus(value, self.spec.lookback)
        self.changed = True

    def observe(self, record: dict[str, Any]) -> Any:
        """The record's cursor value; ``OUT_OF_BOUNDS`` when outside the bounds; None when it has none."""
        raw = get_path(record, self.field)
        if raw is None or raw == "":
            return None
        try:
            value = self._parse(raw)
        except (TypeError, ValueError):
            raise ConnectorError(
                f"cursor field '{self.field}' holds {raw!r}, which is not a {self.kind}"
            ) from None
        if self.spec.filter_records and self.lower is not None and value < self.lower:
            return OUT_OF_BOUNDS
        if self.upper is not None and value > self.upper:
            return OUT_OF_BOUNDS
        if self.max is None or value > self.max:
            self.max = value
            self.floor = self._minus(value, self.spec.lookback)
            self.changed = True
        return value


def _identity(item: list[Any]) -> str:
    return orjson.dumps(item).decode()


__all__ = ["MAX_SEEN", "OUT_OF_BOUNDS", "CursorTracker"]
