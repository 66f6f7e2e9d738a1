"""Record writes with HubSpot's validation: property checks, unique values, deal stages, associations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import association_types as at
from .errors import ApiError, property_error_item, property_errors, validation
from .objecttypes import MODIFIED_PROP, SINGULAR
from .state import HubSpotState
from .store import CrmObject
from .values import CoercionError, coerce, iso_from_ms, ms_from_text

_DEAL_DERIVED_READONLY = ("pipeline", "dealstage")


class ObjectService:
    """Create/update/find records of every type. Callers hold ``state.lock``."""

    def __init__(self, state: HubSpotState) -> None:
        self.state = state

    # -- lookups ---------------------------------------------------------------------------
    def find(self, object_type: str, raw_id: str, id_property: str | None = None,
             include_archived: bool = False) -> CrmObject | None:
        store = self.state.stores[object_type]
        if id_property and id_property != "hs_object_id":
            registry = self.state.registries[object_type]
            if id_property not in registry.id_properties():
                if registry.get(id_property) is None:
                    raise validation(f"Property \"{id_property}\" does not exist.")
                raise validation(f"{id_property} is not a unique property and cannot be used as an idProperty.")
            store.ensure_index(id_property)
            obj = store.find_unique(id_property, str(raw_id))
        else:
            text = str(raw_id).strip()
            obj = store.get(int(text)) if text.isdigit() else None
        if obj is None or (obj.archived and not include_archived):
            return None
        return obj

    # -- validation ------------------------------------------------------------------------
    def clean_properties(self, object_type: str, properties: Any, existing: CrmObject | None) -> dict[str, str | None]:
        """Validate and coerce incoming values; raises the 'Property values were not valid' 400."""
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            raise validation("Invalid input JSON: properties must be an object.")
        registry = self.state.registries[object_type]
        clean: dict[str, str | None] = {}
        problems: list[dict[str, Any]] = []
        for name, value in properties.items():
            d = registry.get(name)
            if d is None:
                problems.append(property_error_item(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
                continue
            if d.readOnlyValue:
                problems.append(property_error_item(
                    name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'))
                continue
            options = None
            if d.type == "enumeration" and d.options and name not in _DEAL_DERIVED_READONLY:
                options = d.option_values
            try:
                out = coerce(d.type, d.fieldType, value, options, name)
            except CoercionError as exc:
                problems.append(property_error_item(name, exc.code, exc.message))
                continue
            if out is not None and object_type == "contacts" and name == "email":
                out = out.strip().lower()
            clean[name] = out
        if object_type == "deals":
            problems.extend(self._derive_deal(clean, existing))
        if problems:
            raise property_errors(problems)
        return clean

    def _derive_deal(self, clean: dict[str, str | None], existing: CrmObject | None) -> list[dict[str, Any]]:
        """Fill pipeline/stage defaults and the stage-derived read-only properties."""
        pipelines = self.state.pipelines
        old = existing.props if existing else {}
        if not ("pipeline" in clean or "dealstage" in clean or existing is None):
            return []
        pipeline_id = clean.get("pipeline") or old.get("pipeline") or pipelines.first().id
        pipeline = pipelines.get(pipeline_id)
        if pipeline is None:
            allowed = ", ".join(pipelines.items)
            return [property_error_item("pipeline", "INVALID_OPTION",
                                        f"{pipeline_id} was not one of the allowed options: [{allowed}]")]
        stage_id = clean.get("dealstage") or old.get("dealstage") or pipeline.stages[0].id
        stage = pipeline.stage(stage_id)
        if stage is None:
            allowed = ", ".join(s.id for s in pipeline.stages)
            return [property_error_item("dealstage", "INVALID_OPTION",
                                        f"{stage_id} was not one of the allowed options: [{allowed}]")]
        clean["pipeline"] = pipeline.id
        clean["dealstage"] = stage.id
        if old.get("dealstage") != stage.id or existing is None:
            now_iso = iso_from_ms(self.state.clock.now_ms())
            clean["hs_is_closed"] = "true" if stage.is_closed else "false"
            clean["hs_is_closed_won"] = "true" if stage.is_won else "false"
            clean["hs_is_closed_lost"] = "true" if stage.is_lost else "false"
            clean["hs_deal_stage_probability"] = f"{stage.probability:g}"
            clean[f"hs_v2_date_entered_{stage.id}"] = now_iso
            clean[f"hs_date_entered_{stage.id}"] = now_iso
            if stage.is_closed and not (clean.get("closedate") or old.get("closedate")):
                clean["closedate"] = now_iso
        return []

    def check_unique(self, object_type: str, clean: dict[str, str | None], exclude_id: int | None) -> None:
        """Raise when a unique-value property (or a contact email) already belongs to another record."""
        store = self.state.stores[object_type]
        registry = self.state.registries[object_type]
        names = registry.unique_names()
        if object_type == "contacts":
            names.add("email")
        for name in names:
            value = clean.get(name)
            if value is None:
                continue
            store.ensure_index(name)
            other = store.find_unique(name, value)
            if other is None or other.id == exclude_id:
                continue
            if object_type == "contacts" and name == "email":
                raise ApiError(409, "CONFLICT", f"Contact already exists. Existing ID: {other.id}")
            status = self.state.settings.unique_conflict_status
            raise ApiError(
                status,
                "CONFLICT" if status == 409 else "VALIDATION_ERROR",
                f"{value} already has that value for unique property {name} on {SINGULAR[object_type]} "
                f"{other.id}. Existing ID: {other.id}",
                context={"propertyName": [name], "existingId": [str(other.id)]},
            )

    def resolve_associations(self, object_type: str, associations: Any) -> list[tuple[str, int, int]]:
        """Validate ``[{"to":{"id"},"types":[{associationCategory, associationTypeId}]}]``."""
        if not associations:
            return []
        if not isinstance(associations, list):
            raise validation("Invalid input JSON: associations must be a list.")
        edges: list[tuple[str, int, int]] = []
        bad: list[str] = []
        for item in associations:
            if not isinstance(item, dict):
                raise validation("Invalid input JSON: each association needs 'to' and 'types'.")
            to_id = str((item.get("to") or {}).get("id", ""))
            types = item.get("types") or []
            ok = bool(types) and to_id.isdigit()
            for t in types:
                at_type = at.TYPES.get(int(t.get("associationTypeId", -1))) if isinstance(t, dict) else None
                if at_type is None or at_type.from_type != object_type:
                    ok = False
                    continue
                target = self.state.stores[at_type.to_type].get(int(to_id)) if to_id.isdigit() else None
                if target is None or target.archived:
                    ok = False
                    continue
                edges.append((at_type.to_type, int(to_id), at_type.type_id))
            if not ok:
                bad.append(to_id)
        if bad:
            raise validation("One or more associations are invalid", context={"INVALID_OBJECT_IDS": bad})
        return edges

    # -- writes ----------------------------------------------------------------------------
    def create(self, object_type: str, properties: Any, associations: Any = None) -> CrmObject:
        clean = self.clean_properties(object_type, properties, None)
        self.check_unique(object_type, clean, None)
        edges = self.resolve_associations(object_type, associations)
        return self.insert_clean(object_type, clean, edges)

    def insert_clean(self, object_type: str, clean: dict[str, str | None],
                     edges: Sequence[tuple[str, int, int]] = (), obj_id: int | None = None,
                     created_ms: int | None = None, updated_ms: int | None = None) -> CrmObject:
        store = self.state.stores[object_type]
        now = self.state.clock.now_ms()
        props = {k: v for k, v in clean.items() if v is not None}
        if created_ms is None:
            given = props.get("createdate")
            created_ms = ms_from_text(given) if given else None
            if created_ms is None:
                created_ms = now if updated_ms is None else min(now, updated_ms)
        updated_ms = max(updated_ms if updated_ms is not None else now, created_ms)
        oid = obj_id if obj_id is not None else store.allocate_id()
        props["hs_object_id"] = str(oid)
        props["createdate"] = iso_from_ms(created_ms)
        props[MODIFIED_PROP[object_type]] = iso_from_ms(updated_ms)
        obj = CrmObject(oid, props, created_ms, updated_ms)
        store.insert(obj)
        for to_type, to_id, type_id in edges:
            self.state.associations.add(object_type, oid, to_type, to_id, type_id)
        return obj

    def update(self, object_type: str, obj: CrmObject, properties: Any) -> CrmObject:
        clean = self.clean_properties(object_type, properties, obj)
        self.check_unique(object_type, clean, obj.id)
        self.apply_clean(object_type, obj, clean)
        return obj

    def apply_clean(self, object_type: str, obj: CrmObject, clean: dict[str, str | None]) -> None:
        if "createdate" in clean and clean["createdate"]:
            ms = ms_from_text(clean["createdate"])
            if ms is not None:
                obj.created_ms = ms
                obj.created_iso = iso_from_ms(ms)
        # a deal entering a stage was stamped when its properties were cleaned: the write is modified then too
        entered = next((v for k, v in clean.items() if k.startswith("hs_v2_date_entered_") and v), None)
        stamped = ms_from_text(entered) if entered else None
        self.state.stores[object_type].set_props(obj, clean, stamped if stamped is not None else self.state.clock.now_ms())

    def archive(self, object_type: str, obj: CrmObject) -> None:
        self.state.stores[object_type].archive(obj, self.state.clock.now_ms())

