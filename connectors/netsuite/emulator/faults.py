"""Injected faults: error statuses, added latency, dropped connections, slow bodies.

Faults apply to protocol paths only (never ``/_emulator/``). Each fault matches a path prefix
and optionally a method, and fires ``count`` times (``None`` = until removed).

Kinds:
    status: answer ``status`` with a NetSuite error envelope (5xx or 429, optional Retry-After).
    latency: sleep ``seconds`` before handling every matching request while active.
    drop: close the connection without sending a response.
    slow: send the normal response, trickling the body over ``seconds``.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal["status", "latency", "drop", "slow"]
_KINDS = ("status", "latency", "drop", "slow")


@dataclass
class Fault:
    """One active fault rule."""

    kind: FaultKind
    id: int = 0
    path_prefix: str = "/services/"
    method: str | None = None
    count: int | None = None
    status: int = 503
    seconds: float = 0.0
    retry_after: int | None = None
    code: str | None = None
    detail: str | None = None
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and (self.method is None or self.method.upper() == method)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FaultPlan:
    """The faults that apply to one request."""

    latency: float = 0.0
    action: Fault | None = None
    applied: list[int] = field(default_factory=list)


class FaultRegistry:
    """Thread-safe set of fault rules; ``emulator.faults``."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(
        self,
        kind: FaultKind,
        *,
        count: int | None = None,
        path_prefix: str = "/services/",
        method: str | None = None,
        status: int = 503,
        seconds: float = 0.0,
        retry_after: int | None = None,
        code: str | None = None,
        detail: str | None = None,
    ) -> Fault:
        """Register a fault and return it (its ``id`` removes it later)."""
        if kind not in _KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(_KINDS)}")
        if kind == "status" and not (status == 429 or 500 <= status <= 599 or 400 <= status < 500):
            raise ValueError(f"fault status must be 4xx or 5xx, got {status}")
        if kind in ("latency", "slow") and seconds <= 0:
            raise ValueError(f"fault kind {kind!r} needs seconds > 0")
        if count is not None and count < 1:
            raise ValueError("count must be positive or None")
        fault = Fault(
            kind=kind, id=next(self._ids), path_prefix=path_prefix, method=method, count=count,
            status=status, seconds=seconds, retry_after=retry_after, code=code, detail=detail,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def plan(self, method: str, path: str) -> FaultPlan:
        """Pick the faults for a request, consuming their counts."""
        plan = FaultPlan()
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(method, path):
                    continue
                if fault.kind == "latency":
                    plan.latency += fault.seconds
                elif plan.action is None:
                    plan.action = fault
                else:
                    continue
                fault.fired += 1
                plan.applied.append(fault.id)
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
        return plan
