"""On-demand fault injection: error statuses, latency, slow bodies and dropped connections."""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("status", "latency", "drop", "slow")


@dataclass
class Fault:
    """One injected fault rule.

    ``count`` is how many requests it hits (``None`` = every matching request until cleared);
    ``path_prefix`` limits it to request paths starting with that prefix; ``method`` to one verb.
    ``seconds`` is the delay for ``latency`` and the body trickle time for ``slow``.
    """

    kind: str
    status: int = 500
    count: int | None = 1
    path_prefix: str = "/"
    method: str | None = None
    seconds: float = 1.0
    id: int = 0
    served: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    """Thread-safe list of fault rules, consulted once per API request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self.served_by_kind: dict[str, int] = {k: 0 for k in FAULT_KINDS}

    def add(
        self,
        kind: str = "status",
        status: int = 500,
        count: int | None = 1,
        path_prefix: str = "/",
        method: str | None = None,
        seconds: float = 1.0,
        **extra: Any,
    ) -> Fault:
        """Register a fault; returns it (its ``id`` can be passed to :meth:`remove`)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if count is not None and count < 1:
            raise ValueError("count must be >= 1 or None")
        fault = Fault(
            kind=kind,
            status=int(status),
            count=count,
            path_prefix=path_prefix or "/",
            method=method.upper() if method else None,
            seconds=float(seconds),
            id=next(self._ids),
            extra=extra,
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

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first fault matching this request and consume one of its uses."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if not path.startswith(fault.path_prefix):
                    continue
                if fault.method and fault.method != method:
                    continue
                fault.served += 1
                self.served_by_kind[fault.kind] += 1
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def reset_counts(self) -> None:
        with self._lock:
            self.served_by_kind = {k: 0 for k in FAULT_KINDS}
