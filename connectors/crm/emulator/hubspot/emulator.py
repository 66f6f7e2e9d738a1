"""``HubSpotEmulator``: the app plus a background HTTP server, usable as a context manager."""

from __future__ import annotations

from typing import Any

from ..common.clock import Clock
from ..common.faults import FaultInjector
from ..common.server import ServerThread
from ..common.stats import Stats
from .app import HubSpotApp
from .settings import HubSpotSettings
from .state import HubSpotState
from .store import CrmObject


class HubSpotEmulator:
    """A local, stateful HubSpot CRM v3/v4 look-alike.

    >>> with HubSpotEmulator(HubSpotSettings(companies=10)) as emu:
    ...     url = emu.url   # e.g. http://127.0.0.1:54321
    """

    def __init__(self, settings: HubSpotSettings | None = None) -> None:
        self.settings = settings or HubSpotSettings()
        self.app = HubSpotApp(self.settings)
        self._server = ServerThread(self.app)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the base URL."""
        return self._server.start(host, port)

    def serve_forever(self, host: str = "127.0.0.1", port: int = 0, on_ready: Any = None) -> None:
        """Serve in the calling thread (used by ``python -m connectors.crm.emulator``)."""
        self._server.serve_forever(host, port, on_ready)

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> HubSpotEmulator:
        if self._server.url is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str | None:
        return self._server.url

    # -- state and knobs ---------------------------------------------------------------------
    @property
    def faults(self) -> FaultInjector:
        return self.app.faults

    @property
    def stats(self) -> Stats:
        return self.app.stats

    @property
    def clock(self) -> Clock:
        return self.app.clock

    @property
    def state(self) -> HubSpotState:
        return self.app.state

    @property
    def credentials(self) -> dict[str, Any]:
        return self.app.credentials

    @property
    def token(self) -> str:
        """The first private-app token."""
        return self.settings.private_app_tokens[0]

    def advance_time(self, seconds: float) -> float:
        """Move the emulator clock forward (token expiry, rate windows, timestamps, search lag)."""
        return self.app.clock.advance(seconds)

    def reset(self) -> None:
        self.app.reset()

    def issue_access_token(self) -> str:
        """An OAuth access token valid for ``access_token_ttl`` seconds from now."""
        return self.app.tokens.issue_access_token()

    def insert(self, object_type: str, properties: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Plant a record directly; returns its raw form (``id``, ``properties``, ...)."""
        obj = self.app.insert(object_type, properties, **kwargs)
        return _raw(obj)

    def get_object(self, object_type: str, obj_id: int | str) -> dict[str, Any] | None:
        with self.state.lock:
            obj = self.state.stores[_t(object_type)].get(int(obj_id))
            return _raw(obj) if obj else None

    def count(self, object_type: str, archived: bool = False) -> int:
        with self.state.lock:
            return self.state.stores[_t(object_type)].count(archived)

    def associated_ids(self, from_type: str, from_id: int | str, to_type: str) -> list[int]:
        with self.state.lock:
            return sorted(self.state.associations.targets(_t(from_type), int(from_id), _t(to_type)))


def _t(name: str) -> str:
    from .objecttypes import canonical_type

    t = canonical_type(name)
    if t is None:
        raise ValueError(f"unknown object type {name}")
    return t


def _raw(obj: CrmObject) -> dict[str, Any]:
    from .values import iso_from_ms

    return {"id": str(obj.id), "properties": dict(obj.props), "createdAt": obj.created_iso,
            "updatedAt": iso_from_ms(obj.updated_ms), "archived": obj.archived}
