"""HubSpot rate-limit policies: ten-second rolling, daily, secondly (headers), search per second."""

from __future__ import annotations

import math
import threading
from typing import Any

from connector_core.testing.emulator import Clock, DailyCounter, RollingWindow

from .auth import Principal
from .errors import ApiError
from .settings import HubSpotSettings

_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


class RateLimitError(ApiError):
    """A 429 in HubSpot's rate-limit shape (``errorType``/``policyName`` instead of ``category``)."""

    def __init__(self, policy: str, group: str, headers: dict[str, str]) -> None:
        super().__init__(429, "RATE_LIMIT", _MESSAGES[policy], headers=headers)
        self.policy = policy
        self.group = group

    def body(self, correlation_id: str) -> dict[str, Any]:
        return {
            "status": "error",
            "message": self.message,
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id,
            "policyName": self.policy,
            "groupName": self.group,
            "requestId": correlation_id,
        }


def rate_limit_error(settings: HubSpotSettings, policy: str, group_suffix: str, wait: float | None,
                     headers: dict[str, str] | None = None) -> RateLimitError:
    headers = dict(headers or {})
    if settings.retry_after_seconds is not None:
        headers["Retry-After"] = str(max(int(math.ceil(settings.retry_after_seconds)), 0))
    group = f"publicapi:{group_suffix}:{settings.portal_id}"
    return RateLimitError(policy, group, headers)


class _AppBudget:
    def __init__(self, settings: HubSpotSettings) -> None:
        self.ten = RollingWindow(settings.ten_second_limit, 10.0)
        self.second = RollingWindow(settings.secondly_header, 1.0)
        self.daily = DailyCounter(settings.day_limit)


class RateLimiter:
    """Admits or rejects requests; returns the ``x-hubspot-ratelimit-*`` headers to send."""

    def __init__(self, settings: HubSpotSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._apps: dict[str, _AppBudget] = {}
        self.search = RollingWindow(settings.search_per_second, 1.0)

    def reset(self) -> None:
        with self._lock:
            self._apps.clear()
            self.search.clear()

    def _budget(self, app: str) -> _AppBudget:
        with self._lock:
            b = self._apps.get(app)
            if b is None:
                b = self._apps[app] = _AppBudget(self.settings)
            return b

    def admit(self, principal: Principal, is_search: bool) -> dict[str, str]:
        """Raise :class:`RateLimitError` when over a limit; otherwise return headers for the reply."""
        s = self.settings
        now = self.clock.now()
        if is_search:
            ok, _, wait = self.search.try_acquire(now)
            if not ok:
                raise rate_limit_error(s, "SECONDLY", "crm-search-secondly", wait)
            if not s.search_ratelimit_headers:
                return {}
        budget = self._budget(principal.app)
        ok_day, day_left = budget.daily.try_acquire(now)
        if not ok_day:
            raise rate_limit_error(s, "DAILY", "daily", None, self._headers(principal, budget, now, 0))
        ok, remaining, wait = budget.ten.try_acquire(now)
        if not ok:
            raise rate_limit_error(s, "TEN_SECONDLY_ROLLING", f"{principal.kind.replace('_', '-')}-ten-secondly-rolling",
                                   wait, self._headers(principal, budget, now, day_left))
        ok_s, _, wait_s = budget.second.try_acquire(now)
        if not ok_s and s.enforce_secondly:
            raise rate_limit_error(s, "SECONDLY", f"{principal.kind.replace('_', '-')}-secondly", wait_s,
                                   self._headers(principal, budget, now, day_left))
        return self._headers(principal, budget, now, day_left, remaining)

    def _headers(self, principal: Principal, budget: _AppBudget, now: float, day_left: int,
                 remaining: int | None = None) -> dict[str, str]:
        s = self.settings
        headers = {
            "x-hubspot-ratelimit-interval-milliseconds": "10000",
            "x-hubspot-ratelimit-max": str(s.ten_second_limit),
            "x-hubspot-ratelimit-remaining": str(budget.ten.remaining(now) if remaining is None else remaining),
            "x-hubspot-ratelimit-secondly": str(s.secondly_header),
            "x-hubspot-ratelimit-secondly-remaining": str(budget.second.remaining(now)),
        }
        if principal.kind != "oauth":  # daily headers are not sent on OAuth calls (H8)
            headers["x-hubspot-ratelimit-daily"] = str(s.day_limit)
            headers["x-hubspot-ratelimit-daily-remaining"] = str(day_left)
        return headers
