"""Serving the emulator: :class:`NetSuiteEmulator`, the app and its control API on a loopback server.

The server is the emulator kit's keep-alive :class:`~connector_core.testing.emulator.EmulatorServer`:
NetSuite keeps successful replies alive and closes after errors (their ``Connection: close``), and
an app crash answers NetSuite's ``UNEXPECTED_ERROR`` envelope.
"""

from __future__ import annotations

from typing import Any

from connector_core.testing.emulator import CrashReply, EmulatorServer, FaultRegistry

from .app import EmulatorApp
from .control import build_control, credentials, snapshot
from .errors import ERROR_CONTENT_TYPE
from .record_bodies import Validation
from .settings import EmulatorSettings

_CRASH = CrashReply(
    b'{"type":"https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1","title":"Internal Server Error",'
    b'"status":500,"o:errorDetails":[{"detail":"An unexpected error occurred.","o:errorCode":"UNEXPECTED_ERROR"}]}',
    ERROR_CONTENT_TYPE,
)


class NetSuiteEmulator(EmulatorServer):
    """A running (or startable) emulated NetSuite account.

    Example::

        with NetSuiteEmulator(EmulatorSettings(customers=500)) as emu:
            requests.post(emu.url + "/services/rest/query/v1/suiteql", ...)
    """

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self.settings = settings or EmulatorSettings()
        self.app = EmulatorApp(self.settings)
        self.control = build_control(self.app)
        super().__init__(self.control.mount(self.app), name="netsuite-emulator", crash_reply=_CRASH)

    @property
    def faults(self) -> FaultRegistry:
        return self.app.faults

    def advance_time(self, seconds: float) -> None:
        """Move the emulated clock (token expiry, TBA skew, lastModifiedDate)."""
        self.settings.clock.advance(seconds)

    def reset(self) -> None:
        """Reseed data and clear tokens, nonces, jobs, faults and stats."""
        self.app.reset()

    def stats(self, recent: int = 50) -> dict[str, Any]:
        return snapshot(self.app.stats, recent)

    def credentials(self) -> dict[str, Any]:
        return credentials(self.app, self.url or "")

    def issue_access_token(self, scopes: frozenset[str] | None = None) -> str:
        """A valid bearer token without running an OAuth flow."""
        return self.app.oauth2.issue_access_token(scopes=scopes)

    def suiteql(self, q: str, limit: int = 1000, offset: int = 0) -> list[dict[str, str]]:
        """Run SuiteQL directly (no auth, no governance); rows as the API would return them."""
        return self.app.suiteql.run(q, limit, offset).items

    def get_record(self, record_type: str, record_id: int | str) -> dict[str, Any]:
        """A record as the record API serialises it (sublists expanded)."""
        recs = self.app.records
        rt = recs.record_type(record_type)
        rid = recs.resolve_id(rt, str(record_id))
        return recs.serialize(rt, recs.load(rt, rid), self.url or "", expand=True)

    def insert_record(self, record_type: str, body: dict[str, Any]) -> int:
        """Create a record through the record API's rules; returns its internal id."""
        recs = self.app.records
        return recs.create(recs.record_type(record_type), body, Validation()).id
