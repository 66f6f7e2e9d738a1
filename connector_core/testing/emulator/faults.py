"""Fault injection: error statuses, added latency, dropped connections and slow bodies, on demand.

A :class:`FaultRegistry` holds fault rules. Each rule matches a path prefix (and optionally a method)
and fires ``count`` times (``None``: until removed). For every API request the app asks for a
:class:`FaultPlan` and hands it to :func:`apply_faults` together with its real handler.

Kinds:
    status: answer ``status`` instead of the real reply (the app words the error body).
    latency: sleep ``seconds`` before handling; every matching latency fault adds up.
    drop: close the connection without a reply.
    slow: send the real reply, trickling its body over ``seconds``.

``when="after"`` makes a status or drop fault run the real handler first (a write is applied, then
its reply is replaced or lost): the case an idempotent client has to survive.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from werkzeug.wrappers import Response

from .server import drop_connection

FaultKind = Literal["status", "latency", "drop", "slow"]
FaultWhen = Literal["before", "after"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
_UNSET: Any = object()


@dataclass
class Fault:
    """One fault rule.

    Attributes:
        kind: What happens (see the module docstring).
        id: Assigned by the registry; pass it to :meth:`FaultRegistry.remove`.
        path_prefix: The rule matches request paths starting with this.
        method: Only this HTTP method (upper case), or any when None.
        count: Requests left to hit; None hits every matching request until removed.
        status: The status a ``status`` fault answers.
        seconds: The delay of a ``latency`` fault, the body trickle time of a ``slow`` fault.
        retry_after: ``Retry-After`` seconds for the app to send with a ``status`` fault.
        code: An error code for the app to put in a ``status`` fault's body.
        detail: An error message for the app to put in a ``status`` fault's body.
        when: Whether a ``status`` or ``drop`` fault fires before or after the real handler runs.
        fired: How many requests it has hit.
    """

    kind: FaultKind
    id: int = 0
    path_prefix: str = "/"
    method: str | None = None
    count: int | None = 1
    status: int = 500
    seconds: float = 1.0
    retry_after: int | None = None
    code: str | None = None
    detail: str | None = None
    when: FaultWhen = "before"
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and (self.method is None or self.method == method)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FaultPlan:
    """The faults that apply to one request: summed latency and at most one other action."""

    latency: float = 0.0
    action: Fault | None = None
    applied: list[int] = field(default_factory=list)


class FaultRegistry:
    """Thread-safe set of fault rules (``emulator.faults``).

    The keyword arguments are the defaults of :meth:`add`, so each emulator can pick what a bare
    ``add("status")`` means for its API.
    """

    def __init__(self, *, path_prefix: str = "/", count: int | None = 1, status: int = 500,
                 seconds: float = 1.0) -> None:
        self._default_path_prefix = path_prefix
        self._default_count = count
        self._default_status = status
        self._default_seconds = seconds
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.fired_by_kind: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)

    def add(
        self,
        kind: FaultKind = "status",
        *,
        count: int | None = _UNSET,
        path_prefix: str = _UNSET,
        method: str | None = None,
        status: int = _UNSET,
        seconds: float = _UNSET,
        retry_after: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        when: FaultWhen = "before",
    ) -> Fault:
        """Register a fault and return it (its ``id`` removes it later); bad values raise ValueError."""
        count = self._default_count if count is _UNSET else count
        path_prefix = self._default_path_prefix if path_prefix is _UNSET else path_prefix
        status = int(self._default_status if status is _UNSET else status)
        seconds = float(self._default_seconds if seconds is _UNSET else seconds)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        if when not in ("before", "after"):
            raise ValueError(f"fault 'when' must be 'before' or 'after', got {when!r}")
        if kind == "status" and not 400 <= status <= 599:
            raise ValueError(f"fault status must be 4xx or 5xx, got {status}")
        if kind in ("latency", "slow") and seconds <= 0:
            raise ValueError(f"fault kind {kind!r} needs seconds > 0, got {seconds}")
        if count is not None and count < 1:
            raise ValueError(f"fault count must be at least 1 or None, got {count}")
        fault = Fault(
            kind=kind, id=next(self._ids), path_prefix=path_prefix or "/",
            method=method.upper() if method else None, count=count, status=status, seconds=seconds,
            retry_after=retry_after, code=code, detail=detail, when=when,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        """Remove one rule; False when there was none with that id."""
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._faults.clear()

    def reset(self) -> None:
        """Remove every rule and zero :attr:`fired_by_kind`."""
        with self._lock:
            self._faults.clear()
            self.fired_by_kind = dict.fromkeys(FAULT_KINDS, 0)

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def plan(self, method: str, path: str) -> FaultPlan:
        """Pick the faults for one request, consuming their counts."""
        plan = FaultPlan()
        if not self._faults:
            return plan
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
                self.fired_by_kind[fault.kind] += 1
                plan.applied.append(fault.id)
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
        return plan


def apply_faults(
    plan: FaultPlan,
    environ: dict[str, Any],
    handle: Callable[[], Response],
    fault_reply: Callable[[Fault], Response],
    *,
    reset: bool = True,
) -> Response:
    """Run ``handle`` under ``plan``: sleep, drop the connection, replace or slow down the reply.

    Args:
        plan: From :meth:`FaultRegistry.plan`.
        environ: The request's WSGI environ (for dropping its connection).
        handle: The real request handler.
        fault_reply: Words a ``status`` fault's reply the way the API words its errors.
        reset: Drop connections with a TCP reset (see :func:`drop_connection`).

    Raises:
        DropConnection: For a ``drop`` fault, after the socket is shut down.
    """
    if plan.latency:
        time.sleep(plan.latency)
    action = plan.action
    if action is not None and action.when == "before":
        if action.kind == "drop":
            drop_connection(environ, reset=reset)
        if action.kind == "status":
            return fault_reply(action)
    response = handle()
    if action is None:
        return response
    if action.kind == "drop":
        drop_connection(environ, reset=reset)
    if action.kind == "status":
        return fault_reply(action)
    if action.kind == "slow":
        return trickle(response, action.seconds)
    return response


def trickle(response: Response, seconds: float, pieces: int = 20) -> Response:
    """The same reply with its headers sent at once and its body spread over ``seconds``."""
    body = response.get_data()
    step = max(1, -(-len(body) // pieces))
    chunks = [body[i:i + step] for i in range(0, len(body), step)] or [b""]
    pause = seconds / len(chunks)

    def slowly() -> Iterator[bytes]:
        for chunk in chunks:
            time.sleep(pause)
            if chunk:
                yield chunk

    slow = Response(slowly(), status=response.status_code, headers=list(response.headers.items()),
                    direct_passthrough=True)
    slow.headers["Content-Length"] = str(len(body))
    return slow
