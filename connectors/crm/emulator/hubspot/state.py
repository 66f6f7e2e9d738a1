"""The emulated HubSpot account: schema, records, associations, pipelines and the clock."""

from __future__ import annotations

import threading

from connector_core.testing.emulator import Clock

from .associations import AssociationStore
from .objecttypes import MODIFIED_PROP, OBJECT_TYPES
from .pipelines import Pipelines
from .properties import PropertyDef, PropertyRegistry
from .searchindex import SearchIndex
from .settings import HubSpotSettings
from .store import ObjectStore

#: First record id per type. Companies and deals use ids beyond 2**31, as real portals do.
FIRST_IDS = {"contacts": 101, "companies": 9_000_000_001, "deals": 15_000_000_001}


class HubSpotState:
    """All mutable account data. Handlers take ``lock`` around reads and writes."""

    def __init__(self, settings: HubSpotSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.lock = threading.RLock()
        self.build()

    def build(self) -> None:
        """(Re)create an empty account with the standard schema."""
        now = self.clock.now_ms()
        self.pipelines = Pipelines(int(self.settings.seed_epoch * 1000) - 2 * 365 * 86_400_000)
        self.registries: dict[str, PropertyRegistry] = {
            t: PropertyRegistry(t, now, self.settings.max_unique_properties) for t in OBJECT_TYPES
        }
        deals = self.registries["deals"]
        stage_ids = self.pipelines.all_stage_ids()
        deals.defs["dealstage"].options = [
            {"label": s.label, "value": s.id, "displayOrder": i, "hidden": False}
            for i, s in enumerate(s for p in self.pipelines.items.values() for s in p.stages)
        ]
        deals.defs["pipeline"].options = [
            {"label": p.label, "value": p.id, "displayOrder": p.display_order, "hidden": False}
            for p in self.pipelines.items.values()
        ]
        for stage_id in stage_ids:
            for prefix, label in (("hs_v2_date_entered_", "Date entered"), ("hs_date_entered_", "Date entered (legacy)")):
                deals.add_internal(PropertyDef(
                    name=f"{prefix}{stage_id}", label=f"{label} {stage_id}", type="datetime", fieldType="date",
                    groupName="dealinformation", hubspotDefined=True, readOnlyValue=True, calculated=True,
                    createdAt=now, updatedAt=now,
                ))
        self.stores: dict[str, ObjectStore] = {}
        for t in OBJECT_TYPES:
            store = ObjectStore(t, MODIFIED_PROP[t], FIRST_IDS[t], {"email"} if t == "contacts" else set())
            if t == "contacts":
                store.ensure_index("email")
            self.stores[t] = store
        self.associations = AssociationStore()
        self.search_indexes: dict[str, SearchIndex] = {
            t: SearchIndex(self.stores[t], self.settings.search_lag_seconds, self.clock) for t in OBJECT_TYPES
        }
