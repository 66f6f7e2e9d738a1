"""A clock that tests can move forward without sleeping."""

from __future__ import annotations

import threading
import time


class Clock:
    """Wall-clock time plus an adjustable offset.

    Every time-dependent behaviour of an emulator (token expiry, timestamps, rate windows) should read
    this clock, so a test can jump an hour ahead with :meth:`advance`. ``start_time`` pins the clock's
    starting point (epoch seconds); with ``frozen`` it only moves when :meth:`advance` is called, which
    makes timestamps fully deterministic.
    """

    def __init__(self, start_time: float | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._start_time = start_time
        self._start_frozen = frozen
        self._set(start_time, frozen)

    def _set(self, start_time: float | None, frozen: bool) -> None:
        real = time.time()
        base = real if start_time is None else start_time
        self._frozen = frozen
        self._offset = base - real
        self._frozen_at = base

    def now(self) -> float:
        """Current emulator time in epoch seconds."""
        if self._frozen:
            return self._frozen_at
        return time.time() + self._offset

    def now_ms(self) -> int:
        """Current emulator time in epoch milliseconds."""
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> float:
        """Move the clock forward (or back, with a negative value); returns the new time."""
        with self._lock:
            self._offset += seconds
            self._frozen_at += seconds
        return self.now()

    def freeze(self) -> None:
        """Stop the clock at its current reading; it then moves only through :meth:`advance`."""
        with self._lock:
            self._frozen_at = self.now()
            self._frozen = True

    def unfreeze(self) -> None:
        """Let the clock run again from its current reading."""
        with self._lock:
            if self._frozen:
                self._offset = self._frozen_at - time.time()
                self._frozen = False

    def reset(self) -> None:
        """Back to the start time and frozen state the clock was made with (no offset for a wall clock)."""
        with self._lock:
            self._set(self._start_time, self._start_frozen)
