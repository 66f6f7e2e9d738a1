"""A local, stateful Salesforce org for tests, the sandbox and the demo (``python -m`` runs it)."""

from .app import SalesforceApp
from .emulator import SalesforceEmulator
from .settings import SalesforceSettings

__all__ = ["SalesforceApp", "SalesforceEmulator", "SalesforceSettings"]
