"""The engine's "now": what templates (``now_utc()``), time windows and slicers see as the current time.

It can be pinned for a run (``connector-core --now 2026-01-01T00:00:00Z ...``, the ``CONNECTOR_CORE_NOW``
environment variable, or ``Connector(..., now=...)``) so that windowed and date-relative reads ask for
the same ranges in a test or a replay as in the run they reproduce. Waiting (retries, rate limits) and
token expiry keep the real time: pinning "now" changes what is asked for, never how long anything waits.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from functools import lru_cache

from connector_core.errors import ConfigError

#: Environment variable pinning the engine's "now" for every connector of the process (ISO 8601, UTC if no offset).
NOW_ENV = "CONNECTOR_CORE_NOW"


def parse_instant(text: str, where: str) -> dt.datetime:
    """An aware UTC datetime from ISO 8601 text (``2026-01-01``, ``2026-01-01T00:00:00Z``, ``...+02:00``)."""
    cleaned = text.strip()
    try:
        moment = dt.datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{where} is {text!r}, which is not an ISO 8601 date-time",
            hint="write it like 2026-01-01T00:00:00Z (UTC) or 2026-01-01T09:00:00+09:00",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


@lru_cache(maxsize=4)
def _pinned_from_env(text: str) -> dt.datetime:
    return parse_instant(text, f"the environment variable {NOW_ENV}")


def pinned_from_env() -> dt.datetime | None:
    """The instant ``CONNECTOR_CORE_NOW`` pins, or None when it is unset or empty."""
    text = os.environ.get(NOW_ENV, "").strip()
    return _pinned_from_env(text) if text else None


class EngineClock:
    """One source of "now" for a connector session: a pinned instant, else the environment's pin, else
    the real time (through ``real``, seconds since the epoch, which tests may replace)."""

    def __init__(self, pinned: dt.datetime | str | None = None, real: Callable[[], float] = time.time) -> None:
        if isinstance(pinned, str):
            pinned = parse_instant(pinned, "now")
        elif pinned is not None and pinned.tzinfo is None:
            pinned = pinned.replace(tzinfo=dt.UTC)
        self._pinned = pinned
        self._real = real

    @property
    def pinned(self) -> dt.datetime | None:
        """The pinned instant in force, if any."""
        return self._pinned if self._pinned is not None else pinned_from_env()

    def now(self) -> dt.datetime:
        """The current time as an aware UTC datetime."""
        pinned = self.pinned
        if pinned is not None:
            return pinned
        return dt.datetime.fromtimestamp(self._real(), dt.UTC)

    def timestamp(self) -> float:
        """The current time in seconds since the epoch."""
        return self.now().timestamp()


def default_now() -> dt.datetime:
    """``now_utc()`` for templates rendered outside a connector session (e.g. sync mappings)."""
    pinned = pinned_from_env()
    return pinned if pinned is not None else dt.datetime.now(dt.UTC)


__all__ = ["NOW_ENV", "EngineClock", "default_now", "parse_instant", "pinned_from_env"]
