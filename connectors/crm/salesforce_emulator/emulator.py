"""``SalesforceEmulator``: the app and its control API on a loopback server, usable as a context manager."""

from __future__ import annotations

import ssl
from typing import Any

from connector_core.testing.emulator import Clock, EmulatorServer, FaultRegistry, RequestStats

from .app import SalesforceApp
from .control import build_control, credentials
from .settings import SalesforceSettings


class SalesforceEmulator(EmulatorServer):
    """A local, stateful Salesforce org: OAuth, SOQL query/queryAll, sObjects, Collections, Bulk 2.0 queries.

    >>> with SalesforceEmulator(SalesforceSettings(accounts=10)) as emu:
    ...     url = emu.url   # e.g. http://127.0.0.1:54321
    """

    def __init__(self, settings: SalesforceSettings | None = None) -> None:
        self.settings = settings or SalesforceSettings()
        self.app = SalesforceApp(self.settings)
        self.control = build_control(self.app)
        super().__init__(self.control.mount(self.app), name="salesforce-emulator")

    @property
    def faults(self) -> FaultRegistry:
        return self.app.faults

    @property
    def stats(self) -> RequestStats:
        return self.app.stats

    @property
    def clock(self) -> Clock:
        return self.app.clock

    @property
    def credentials(self) -> dict[str, Any]:
        """URL, consumer key/secret, username, refresh token and the JWT private key (when generated)."""
        return credentials(self.app, self.url or "")

    def start_tls(self, context: ssl.SSLContext, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve over HTTPS with ``context`` (clients that insist on ``https://``); returns the URL."""
        return self.start(host, port, ssl_context=context)

    def issue_access_token(self) -> str:
        """A valid session without an OAuth flow."""
        return self.app.tokens.issue("direct")

    def advance_time(self, seconds: float) -> float:
        """Move the emulator clock (session expiry, SystemModstamp of later writes, the 24-hour window)."""
        return self.app.clock.advance(seconds)

    def reset(self) -> None:
        self.app.reset()

    def records(self, type_name: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Stored records of a type (Python values), for assertions."""
        with self.app.store.lock:
            sobject = self.app.store.sobject(type_name)
            return [dict(r) for r in self.app.store.rows(sobject, include_deleted=include_deleted)]
