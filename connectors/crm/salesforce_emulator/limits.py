"""The org's API request allowance: a rolling 24-hour count reported on every reply.

Salesforce counts each API call against a rolling 24-hour allowance and shows it as
``Sforce-Limit-Info: api-usage=N/M``. Past the allowance a call is refused with 403
``REQUEST_LIMIT_EXCEEDED`` and no ``Retry-After`` (the window only frees up as old calls age out).
"""

from __future__ import annotations

from connector_core.testing.emulator import Clock, RollingWindow

from .errors import SalesforceError

DAY = 86_400.0


class ApiUsage:
    """Counts API calls in the last 24 hours of the emulator clock."""

    def __init__(self, limit: int, clock: Clock) -> None:
        self.clock = clock
        self.window = RollingWindow(limit, DAY)

    @property
    def limit(self) -> int:
        return self.window.limit

    def used(self) -> int:
        return self.limit - self.window.remaining(self.clock.now())

    def header(self) -> str:
        return f"api-usage={self.used()}/{self.limit}"

    def count_call(self) -> None:
        """Count one call; a 403 ``REQUEST_LIMIT_EXCEEDED`` when the allowance is spent."""
        admitted, _, _ = self.window.try_acquire(self.clock.now())
        if not admitted:
            raise SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")

    def set_used(self, used: int, limit: int | None = None) -> None:
        """Pretend ``used`` calls were made just now (tests reach the reserve without making them)."""
        if limit is not None:
            self.window = RollingWindow(limit, DAY)
        self.window.clear()
        now = self.clock.now()
        for _ in range(min(used, self.limit)):
            self.window.try_acquire(now)

    def reset(self) -> None:
        self.window.clear()
