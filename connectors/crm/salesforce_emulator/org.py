"""What a handler may reach of the org: the parts of :class:`~.app.SalesforceApp` the API modules use.

A protocol, so that the handlers (``api_*``) depend on this module and never on the app that routes to them.
"""

from __future__ import annotations

from typing import Protocol

from connector_core.testing.emulator import Clock

from .bulk_jobs import BulkJobs
from .cursors import QueryCursors
from .limits import ApiUsage
from .settings import SalesforceSettings
from .store import OrgStore


class Org(Protocol):
    """The org's settings, clock, records, API allowance, query locators and bulk jobs."""

    settings: SalesforceSettings
    clock: Clock
    store: OrgStore
    usage: ApiUsage
    cursors: QueryCursors
    bulk: BulkJobs
