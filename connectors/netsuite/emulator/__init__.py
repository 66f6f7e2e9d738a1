"""A stateful local look-alike of NetSuite SuiteTalk REST for tests, demos and benchmarks.

Built from the protocol fact sheet, independently of the connector: it verifies OAuth 1.0a
signatures and JWT assertions itself, serves the record API and SuiteQL over SQLite, enforces
page/row caps and a concurrency limit, and injects faults on demand. See README.md.
"""

from connector_core.testing.emulator import Clock, Fault, FaultRegistry

from .server import NetSuiteEmulator
from .settings import EmulatorSettings

__all__ = ["Clock", "EmulatorSettings", "Fault", "FaultRegistry", "NetSuiteEmulator"]
