"""Local CRM emulators for tests and benchmarks (HubSpot today; others can sit beside it)."""

from .hubspot import HubSpotApp, HubSpotEmulator, HubSpotSettings

__all__ = ["HubSpotApp", "HubSpotEmulator", "HubSpotSettings"]
