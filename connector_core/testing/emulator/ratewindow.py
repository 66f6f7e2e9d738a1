"""Rolling-window and daily request budgets, for emulating an API's rate limits."""

from __future__ import annotations

import threading
from collections import deque


class RollingWindow:
    """Counts events in the last ``window`` seconds and admits at most ``limit`` of them."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: deque[float] = deque()
        self._lock = threading.Lock()

    def _trim(self, now: float) -> None:
        edge = now - self.window
        events = self._events
        while events and events[0] <= edge:
            events.popleft()

    def try_acquire(self, now: float) -> tuple[bool, int, float]:
        """Admit one event if under the limit.

        Returns ``(admitted, remaining_after, seconds_until_a_slot_frees)``.
        """
        with self._lock:
            self._trim(now)
            if len(self._events) >= self.limit:
                wait = self._events[0] + self.window - now
                return False, 0, max(wait, 0.0)
            self._events.append(now)
            return True, self.limit - len(self._events), 0.0

    def remaining(self, now: float) -> int:
        """Events still admitted in the window ending at ``now``."""
        with self._lock:
            self._trim(now)
            return max(self.limit - len(self._events), 0)

    def clear(self) -> None:
        """Forget every event."""
        with self._lock:
            self._events.clear()


class DailyCounter:
    """A per-day budget that resets at UTC midnight of the emulator clock."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._day = -1
        self._used = 0
        self._lock = threading.Lock()

    def try_acquire(self, now: float) -> tuple[bool, int]:
        """Admit one event if today's budget allows; returns ``(admitted, remaining_after)``."""
        with self._lock:
            day = int(now // 86400)
            if day != self._day:
                self._day, self._used = day, 0
            if self._used >= self.limit:
                return False, 0
            self._used += 1
            return True, self.limit - self._used

    def clear(self) -> None:
        """A fresh budget."""
        with self._lock:
            self._day, self._used = -1, 0
