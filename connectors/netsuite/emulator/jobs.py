"""Asynchronous request jobs (``Prefer: respond-async``) and idempotency keys."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field


@dataclass
class StoredReply:
    """The reply the original request would have had, replayed from ``…/result``."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Job:
    id: int
    reply: StoredReply
    polls: int = 0


class JobStore:
    """Jobs by id, plus the idempotency keys that created them."""

    def __init__(self) -> None:
        self._jobs: dict[int, Job] = {}
        self._keys: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._keys.clear()

    def job_for_key(self, key: str) -> int | None:
        with self._lock:
            return self._keys.get(key)

    def reserve(self, key: str | None) -> int:
        with self._lock:
            job_id = next(self._ids)
            if key:
                self._keys[key] = job_id
            return job_id

    def finish(self, job_id: int, reply: StoredReply) -> None:
        with self._lock:
            self._jobs[job_id] = Job(job_id, reply)

    def poll(self, job_id: int, pending_polls: int) -> tuple[Job, bool] | None:
        """Return the job and whether it reports completed (counts this poll)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            job.polls += 1
            return job, job.polls > pending_polls

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)
