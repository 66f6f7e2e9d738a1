"""The wait a rate-limit reset header asks for (``X-RateLimit-Reset: 1717000000`` or ``: 30``).

Retry-After is read by :func:`~connector_core.engine.http.parse_retry_after`; many APIs send instead (or
only) the time their window resets, as seconds to wait or as a Unix time. :func:`reset_wait` turns the
header a spec names (:class:`~connector_core.engine.spec.RateLimitReset`) into seconds from now.
"""

from __future__ import annotations

from typing import Any

from connector_core.engine.spec import RateLimitReset

_EPOCH_SECONDS = 1e9  # 2001-09-09: a smaller number is seconds to wait, not a time
_EPOCH_MILLISECONDS = 1e12


def reset_wait(headers: Any, spec: RateLimitReset, now: float) -> float | None:
    """Seconds from ``now`` (Unix time) until the reset the header names; None when it is absent or not a number."""
    raw = headers.get(spec.header) if headers is not None else None
    if raw in (None, ""):
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        return None
    unit = spec.unit
    if unit == "auto":
        unit = "epoch_ms" if value >= _EPOCH_MILLISECONDS else "epoch" if value >= _EPOCH_SECONDS else "seconds"
    if unit == "seconds":
        wait = value
    elif unit == "epoch":
        wait = value - now
    else:
        wait = value / 1000 - now
    return max(0.0, wait)


__all__ = ["reset_wait"]
