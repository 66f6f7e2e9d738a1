"""HubSpot CRM v3/v4 emulator."""

from .app import HubSpotApp
from .emulator import HubSpotEmulator
from .settings import TIERS, HubSpotSettings

__all__ = ["HubSpotApp", "HubSpotEmulator", "HubSpotSettings", "TIERS"]
