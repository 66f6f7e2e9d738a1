"""Commits that a stop signal cannot tear apart.

Ctrl-C (SIGINT) and SIGTERM stop a run by raising an exception in the main thread wherever it happens
to be. Inside a commit that could land after the transaction and before the run's own note that it
happened (the counts, the batches marked committed), so a batch would be counted twice or its
acknowledged writes committed again. Within :func:`signals_deferred` such a signal waits until the
block ends, then takes effect as it would have.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

_DEFERRED = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM that arrive inside the block take effect when it ends (main thread only;
    elsewhere signals are not delivered anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        arrived.append(signum)

    previous: dict[int, Any] = {int(signum): signal.signal(signum, hold) for signum in _DEFERRED}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in arrived:
            _deliver(number, previous[number])


def _deliver(signum: int, handler: Any) -> None:
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        os.kill(os.getpid(), signum)  # the default action, now that the block is done


__all__ = ["signals_deferred"]
