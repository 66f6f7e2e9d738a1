"""Record -> JSON in HubSpot's ``SimplePublicObject`` shape."""

from __future__ import annotations

from typing import Any

from . import association_types as at
from .objecttypes import MODIFIED_PROP, canonical_type
from .state import HubSpotState
from .store import CrmObject
from .values import iso_from_ms

#: Properties returned when a request names none.
DEFAULT_PROPERTIES = {
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "deals": ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
              "hs_object_id", "pipeline"),
}

_ALWAYS = ("createdate", "hs_object_id")


def split_names(raw: Any) -> list[str]:
    """Accept ``a,b`` strings, repeated query params (already joined) or JSON lists."""
    if raw is None:
        return []
    if isinstance(raw, str):
        items = raw.split(",")
    elif isinstance(raw, list):
        items = []
        for r in raw:
            items.extend(str(r).split(","))
    else:
        return []
    return [i.strip() for i in items if i and i.strip()]


class PropertySelector:
    """Pre-computed list of property names to output for one request."""

    def __init__(self, state: HubSpotState, object_type: str, requested: list[str]) -> None:
        registry = state.registries[object_type]
        if requested:
            names = [n for n in requested if registry.get(n) is not None]
            for extra in (*_ALWAYS, MODIFIED_PROP[object_type]):
                if extra not in names:
                    names.append(extra)
        else:
            names = list(DEFAULT_PROPERTIES[object_type])
        self.names = tuple(dict.fromkeys(names))

    def pick(self, obj: CrmObject) -> dict[str, str | None]:
        get = obj.props.get
        return {n: get(n) for n in self.names}


def object_json(
    state: HubSpotState,
    object_type: str,
    obj: CrmObject,
    selector: PropertySelector,
    history: list[str] | None = None,
    associations: list[str] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(obj.id),
        "properties": selector.pick(obj),
        "createdAt": obj.created_iso,
        "updatedAt": obj.props.get(MODIFIED_PROP[object_type]) or iso_from_ms(obj.updated_ms),
        "archived": obj.archived,
    }
    if obj.archived and obj.archived_ms is not None:
        out["archivedAt"] = iso_from_ms(obj.archived_ms)
    if history:
        registry = state.registries[object_type]
        out["propertiesWithHistory"] = {
            name: ([{"value": obj.props[name], "timestamp": iso_from_ms(obj.updated_ms), "sourceType": "API",
                     "sourceId": "emulator"}] if name in obj.props else [])
            for name in history if registry.get(name) is not None
        }
    if associations:
        assoc = inline_associations(state, object_type, obj.id, associations)
        if assoc:
            out["associations"] = assoc
    return out


def inline_associations(state: HubSpotState, object_type: str, obj_id: int, wanted: list[str]) -> dict[str, Any]:
    """v3 inline form: one entry per (target, type); a primary target shows twice, as HubSpot does."""
    result: dict[str, Any] = {}
    for name in wanted:
        to_type = canonical_type(name)
        if to_type is None:
            continue
        targets = state.associations.targets(object_type, obj_id, to_type)
        to_store = state.stores[to_type]
        items = []
        for to_id in sorted(targets):
            target = to_store.get(to_id)
            if target is None or target.archived:
                continue
            for type_id in sorted(targets[to_id], key=lambda t: (not at.TYPES[t].is_primary, t)):
                items.append({"id": str(to_id), "type": at.v3_name(at.TYPES[type_id])})
        if items:
            result[to_type] = {"results": items}
    return result


def v4_targets(state: HubSpotState, object_type: str, obj_id: int, to_type: str) -> list[dict[str, Any]]:
    targets = state.associations.targets(object_type, obj_id, to_type)
    to_store = state.stores[to_type]
    out = []
    for to_id in sorted(targets):
        target = to_store.get(to_id)
        if target is None or target.archived:
            continue
        out.append({
            "toObjectId": to_id,
            "associationTypes": [
                {"category": at.TYPES[t].category, "typeId": t, "label": at.TYPES[t].label}
                for t in sorted(targets[to_id], key=lambda t: (not at.TYPES[t].is_primary, t))
            ],
        })
    return out
