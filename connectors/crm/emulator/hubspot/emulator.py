"""``HubSpotEmulator``: the app plus a background HTTP server, usable as a context manager."""

from __future__ import annotations

from typing import Any

from connector_core.testing.emulator import Clock, EmulatorServer, FaultRegistry

from .api.control_api import build_control, raw_object
from .app import HubSpotApp, HubSpotStats
from .objecttypes import canonical_type
from .settings import HubSpotSettings
from .state import HubSpotState


class HubSpotEmulator(EmulatorServer):
    """A local, stateful HubSpot CRM v3/v4 look-alike.

    >>> with HubSpotEmulator(HubSpotSettings(companies=10)) as emu:
    ...     url = emu.url   # e.g. http://127.0.0.1:54321
    """

    def __init__(self, settings: HubSpotSettings | None = None) -> None:
        self.settings = settings or HubSpotSettings()
        self.app = HubSpotApp(self.settings)
        self.control = build_control(self.app)
        super().__init__(self.control.mount(self.app), name="crm-emulator")

    # -- state and knobs ---------------------------------------------------------------------
    @property
    def faults(self) -> FaultRegistry:
        return self.app.faults

    @property
    def stats(self) -> HubSpotStats:
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
        return raw_object(obj)

    def get_object(self, object_type: str, obj_id: int | str) -> dict[str, Any] | None:
        with self.state.lock:
            obj = self.state.stores[_t(object_type)].get(int(obj_id))
            return raw_object(obj) if obj else None

    def count(self, object_type: str, archived: bool = False) -> int:
        with self.state.lock:
            return self.state.stores[_t(object_type)].count(archived)

    def associated_ids(self, from_type: str, from_id: int | str, to_type: str) -> list[int]:
        with self.state.lock:
            return sorted(self.state.associations.targets(_t(from_type), int(from_id), _t(to_type)))


def _t(name: str) -> str:
    t = canonical_type(name)
    if t is None:
        raise ValueError(f"unknown object type {name}")
    return t
