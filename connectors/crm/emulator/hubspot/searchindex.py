"""What search sees: the live records, or a copy that trails writes by a configurable lag."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from connector_core.testing.emulator import Clock

from .store import CrmObject, ObjectStore


class SearchIndex:
    """With ``lag_seconds == 0`` search reads the store directly; otherwise writes become visible
    to search only once the emulator clock has moved ``lag_seconds`` past them."""

    def __init__(self, store: ObjectStore, lag_seconds: float, clock: Clock) -> None:
        self.store = store
        self.lag_ms = int(lag_seconds * 1000)
        self.clock = clock
        self._snapshot: dict[int, CrmObject] = {}
        self._pending: deque[tuple[int, CrmObject]] = deque()
        self._version = 0
        if self.lag_ms > 0:
            store.listeners.append(self._on_write)

    def _on_write(self, obj: CrmObject) -> None:
        self._pending.append((self.clock.now_ms() + self.lag_ms, obj.copy()))

    def load_all(self) -> None:
        """Make every current record visible at once (used after seeding)."""
        if self.lag_ms > 0:
            self._pending.clear()
            self._snapshot = {o.id: o.copy() for o in self.store.objects.values()}
            self._version += 1

    def refresh(self) -> None:
        if self.lag_ms <= 0:
            return
        now = self.clock.now_ms()
        pending = self._pending
        changed = False
        while pending and pending[0][0] <= now:
            _, obj = pending.popleft()
            self._snapshot[obj.id] = obj
            changed = True
        if changed:
            self._version += 1

    @property
    def version(self) -> int:
        return self.store.version if self.lag_ms <= 0 else self._version

    def records(self) -> Iterable[CrmObject]:
        """All records visible to search (archived ones included; callers filter)."""
        if self.lag_ms <= 0:
            return self.store.objects.values()
        return self._snapshot.values()
