"""Reading the streams a catalog selects at the same time, as both protocols allow.

Each stream is read in its own thread with its own state, and writes whole messages (the writer's lock),
so a platform sees each stream's messages in order, interleaved with the other streams'. It is asked for
with ``CONNECTOR_CORE_STREAMS_AT_ONCE=N`` (by default streams are read one after another, in catalog
order, which some pipelines expect); N is capped by the spec's ``defaults.concurrency``, within which the
requests of all streams together stay (every request passes the connection's governor).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

StreamT = TypeVar("StreamT")


STREAMS_AT_ONCE_ENV = "CONNECTOR_CORE_STREAMS_AT_ONCE"


def streams_at_once(opened: Any, count: int) -> int:
    """How many of ``count`` selected streams the opened connector reads at once."""
    from connector_core.errors import ConfigError

    asked = os.environ.get(STREAMS_AT_ONCE_ENV, "").strip()
    if not asked:
        return 1
    if not asked.isdigit() or int(asked) < 1:
        raise ConfigError(f"{STREAMS_AT_ONCE_ENV} is {asked!r}, not a whole number of streams", hint=f"e.g. {STREAMS_AT_ONCE_ENV}=4, or unset it to read streams one after another")
    concurrency: int = opened.governor.concurrency
    return max(1, min(count, int(asked), concurrency))


def read_each(streams: Sequence[StreamT], read_one: Callable[[StreamT], None], width: int) -> None:
    """``read_one`` for every stream, up to ``width`` at once. What ``read_one`` raises is raised here
    once every stream has finished, the first stream's (in catalog order) first."""
    if width <= 1:
        for stream in streams:
            read_one(stream)
        return
    pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="stream")
    try:
        futures = [pool.submit(read_one, stream) for stream in streams]
        errors = [future.exception() for future in futures]  # waits for each, in order
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    for error in errors:
        if error is not None:
            raise error


__all__ = ["STREAMS_AT_ONCE_ENV", "read_each", "streams_at_once"]
