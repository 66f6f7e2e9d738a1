"""Fetching the pages of the next partitions or time windows while the current one is consumed.

A read is a sequence of jobs (a partition, a window), each a sequence of pages. :func:`read_ahead`
starts up to ``width`` jobs at once in their own threads and hands them to its caller strictly in
order, each job's pages through a one-page hand-over; only the job being consumed and the next one
parse their responses (the others keep raw bodies), so memory stays near a sequential read's. Everything that decides what is emitted or saved (record filters, cursors, checkpoints) stays
with the caller, in its thread: a checkpoint therefore still covers only jobs whose records were all
handed over, exactly as when the jobs are read one after another. A job's error is raised when the
caller reaches that job, after every earlier job's records. Requests stay bounded by the connector's
governor, which every request passes whichever thread sends it.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

Pages = Iterator[list[Any]]
TagT = TypeVar("TagT")

_DONE: Any = object()
_POLL_SECONDS = 0.1  # how soon a worker whose job was abandoned notices it
PARSED_AHEAD = 2  # jobs that may parse their responses: the one being consumed and the next one

_worker = threading.local()


def wait_to_parse() -> None:
    """Called by the reader before it parses a response. In a read-ahead thread, waits until the job is
    one of the next ``PARSED_AHEAD`` to be consumed: jobs further ahead have their requests answered but
    keep raw bodies, a fraction of the memory of parsed pages. Elsewhere it returns at once."""
    job: _Job[Any] | None = getattr(_worker, "job", None)
    if job is not None:
        job.turns.wait(job.index, job.abandoned)


class _Turns:
    """The index of the job being consumed, which jobs wait on before parsing."""

    def __init__(self) -> None:
        self.current = 0
        self._changed = threading.Condition()

    def advance(self, index: int) -> None:
        with self._changed:
            self.current = index
            self._changed.notify_all()

    def wait(self, index: int, abandoned: threading.Event) -> None:
        with self._changed:
            while index >= self.current + PARSED_AHEAD and not abandoned.is_set():
                self._changed.wait(_POLL_SECONDS)


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Job(Generic[TagT]):
    def __init__(self, tag: TagT, start: Callable[[], Pages], index: int, turns: _Turns) -> None:
        self.tag = tag
        self.start = start
        self.index = index
        self.turns = turns
        self.handover: queue.Queue[Any] = queue.Queue(maxsize=1)
        self.abandoned = threading.Event()

    def run(self) -> None:
        """In a worker thread: fetch the job's pages and hand them over one by one, each taken before the
        next is fetched (a waiting job holds one parsed page, not two)."""
        pages: Pages | None = None
        _worker.job = self
        try:
            pages = self.start()
            for page in pages:
                if not self._put(page) or not self._taken():
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there in order
            self._put(_Failed(exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()  # cancels a page window still in flight when the job was abandoned
            _worker.job = None

    def _put(self, item: Any) -> bool:
        while not self.abandoned.is_set():
            try:
                self.handover.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _taken(self) -> bool:
        while not self.abandoned.is_set():
            with self.handover.all_tasks_done:
                if not self.handover.unfinished_tasks:
                    return True
                self.handover.all_tasks_done.wait(_POLL_SECONDS)
        return False

    def pages(self) -> Pages:
        """In the consumer's thread: the job's pages, in order."""
        while True:
            item = self.handover.get()
            self.handover.task_done()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item


def read_ahead(jobs: Iterable[tuple[TagT, Callable[[], Pages] | None]], width: int) -> Iterator[tuple[TagT, Pages | None]]:
    """``(tag, pages)`` for each job, in the jobs' order, with up to ``width`` jobs fetching at once.

    A job given without a start function (None) is not fetched ahead: its ``pages`` is None and the
    caller reads it itself when it gets there (e.g. a job whose set-up depends on the previous job's
    result). The jobs iterable is advanced in the caller's thread. With ``width`` 1 nothing runs in
    another thread.
    """
    if width <= 1:
        for tag, start in jobs:
            yield tag, (start() if start is not None else None)
        return
    from connector_core.engine.arenas import limit_malloc_arenas

    limit_malloc_arenas()  # as for page windows: a thread per job would otherwise keep an arena of its own
    source = iter(jobs)
    window: deque[tuple[int, TagT, _Job[TagT] | None]] = deque()
    pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="read-ahead")
    turns = _Turns()
    running = planned = 0

    def fill() -> None:
        nonlocal running, planned
        while running < width:
            following = next(source, None)
            if following is None:
                return
            tag, start = following
            planned += 1
            if start is None:
                window.append((planned, tag, None))
                continue
            job = _Job(tag, start, planned, turns)
            pool.submit(job.run)
            window.append((planned, tag, job))
            running += 1

    try:
        fill()
        while window:
            index, tag, job = window.popleft()
            turns.advance(index)
            if job is None:
                yield tag, None
            else:
                try:
                    yield tag, job.pages()
                finally:
                    job.abandoned.set()  # the caller has moved on; a worker still putting pages stops
                    running -= 1
            fill()
    finally:
        for _, _, pending in window:
            if pending is not None:
                pending.abandoned.set()
        pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["PARSED_AHEAD", "Pages", "read_ahead", "wait_to_parse"]
