"""Property definitions (schema) per object type, with the standard HubSpot properties seeded."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, validation
from .values import iso_from_ms

PROPERTY_TYPES = {"string", "number", "date", "datetime", "enumeration", "bool", "phone_number"}
FIELD_TYPES = {
    "text", "textarea", "number", "date", "select", "radio", "checkbox", "booleancheckbox",
    "calculation_equation", "file", "phonenumber", "html",
}


@dataclass
class PropertyDef:
    """One property definition, serialised as HubSpot's ``Property`` model."""

    name: str
    label: str
    type: str
    fieldType: str
    groupName: str
    description: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)
    displayOrder: int = -1
    hasUniqueValue: bool = False
    hidden: bool = False
    formField: bool = False
    hubspotDefined: bool = False
    readOnlyValue: bool = False
    calculated: bool = False
    createdAt: int = 0
    updatedAt: int = 0

    @property
    def option_values(self) -> list[str]:
        return [str(o.get("value")) for o in self.options]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.fieldType,
            "description": self.description,
            "groupName": self.groupName,
            "options": self.options,
            "displayOrder": self.displayOrder,
            "calculated": self.calculated,
            "externalOptions": False,
            "hasUniqueValue": self.hasUniqueValue,
            "hidden": self.hidden,
            "formField": self.formField,
            "modificationMetadata": {
                "archivable": not self.hubspotDefined,
                "readOnlyDefinition": self.hubspotDefined,
                "readOnlyValue": self.readOnlyValue,
            },
            "createdAt": iso_from_ms(self.createdAt),
            "updatedAt": iso_from_ms(self.updatedAt),
            "archived": False,
        }
        if self.hubspotDefined:
            out["hubspotDefined"] = True
        return out


def _opts(*values: str) -> list[dict[str, Any]]:
    return [
        {"label": v.replace("_", " ").title(), "value": v, "displayOrder": i, "hidden": False}
        for i, v in enumerate(values)
    ]


INDUSTRIES = (
    "ACCOUNTING", "AIRLINES_AVIATION", "APPAREL_FASHION", "AUTOMOTIVE", "BANKING", "BIOTECHNOLOGY",
    "CHEMICALS", "COMPUTER_SOFTWARE", "CONSTRUCTION", "CONSUMER_GOODS", "EDUCATION_MANAGEMENT",
    "FINANCIAL_SERVICES", "FOOD_BEVERAGES", "HOSPITAL_HEALTH_CARE", "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "INSURANCE", "LOGISTICS_AND_SUPPLY_CHAIN", "MACHINERY", "MEDIA_PRODUCTION", "OIL_ENERGY", "RETAIL",
    "TELECOMMUNICATIONS", "UTILITIES", "WHOLESALE",
)
LIFECYCLE = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
    "evangelist", "other",
)

# (name, label, type, fieldType, options, readOnlyValue)
_S = "string"
_COMMON: list[tuple[str, str, str, str, tuple[str, ...], bool]] = [
    ("hs_object_id", "Record ID", "number", "number", (), True),
    ("createdate", "Create Date", "datetime", "date", (), False),
    ("hubspot_owner_id", "Owner", "enumeration", "select", (), False),
]
_STANDARD: dict[str, list[tuple[str, str, str, str, tuple[str, ...], bool]]] = {
    "companies": [
        ("name", "Company name", _S, "text", (), False),
        ("domain", "Company Domain Name", _S, "text", (), False),
        ("website", "Website URL", _S, "text", (), False),
        ("industry", "Industry", "enumeration", "select", INDUSTRIES, False),
        ("type", "Type", "enumeration", "select", ("PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER"), False),
        ("description", "Description", _S, "textarea", (), False),
        ("phone", "Phone Number", _S, "phonenumber", (), False),
        ("address", "Street Address", _S, "text", (), False),
        ("city", "City", _S, "text", (), False),
        ("state", "State/Region", _S, "text", (), False),
        ("zip", "Postal Code", _S, "text", (), False),
        ("country", "Country/Region", _S, "text", (), False),
        ("annualrevenue", "Annual Revenue", "number", "number", (), False),
        ("numberofemployees", "Number of Employees", "number", "number", (), False),
        ("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", LIFECYCLE, False),
        ("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", (), True),
    ],
    "contacts": [
        ("email", "Email", _S, "text", (), False),
        ("firstname", "First Name", _S, "text", (), False),
        ("lastname", "Last Name", _S, "text", (), False),
        ("phone", "Phone Number", _S, "phonenumber", (), False),
        ("mobilephone", "Mobile Phone Number", _S, "phonenumber", (), False),
        ("company", "Company Name", _S, "text", (), False),
        ("jobtitle", "Job Title", _S, "text", (), False),
        ("website", "Website URL", _S, "text", (), False),
        ("address", "Street Address", _S, "text", (), False),
        ("city", "City", _S, "text", (), False),
        ("state", "State/Region", _S, "text", (), False),
        ("zip", "Postal Code", _S, "text", (), False),
        ("country", "Country/Region", _S, "text", (), False),
        ("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", LIFECYCLE, False),
        ("associatedcompanyid", "Primary Associated Company ID", "number", "number", (), False),
        ("lastmodifieddate", "Last Modified Date", "datetime", "date", (), True),
    ],
    "deals": [
        ("dealname", "Deal Name", _S, "text", (), False),
        ("amount", "Amount", "number", "number", (), False),
        ("deal_currency_code", "Currency", "enumeration", "select", ("USD", "EUR", "GBP", "CAD", "AUD"), False),
        ("dealstage", "Deal Stage", "enumeration", "radio", (), False),
        ("pipeline", "Pipeline", "enumeration", "select", (), False),
        ("closedate", "Close Date", "datetime", "date", (), False),
        ("dealtype", "Deal Type", "enumeration", "radio", ("newbusiness", "existingbusiness"), False),
        ("description", "Deal Description", _S, "textarea", (), False),
        ("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", ("true", "false"), True),
        ("hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox", ("true", "false"), True),
        ("hs_is_closed_lost", "Is Closed Lost", "bool", "booleancheckbox", ("true", "false"), True),
        ("hs_deal_stage_probability", "Deal probability", "number", "number", (), True),
        ("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", (), True),
    ],
}

#: Property groups seeded per type.
GROUPS = {
    "companies": ["companyinformation"],
    "contacts": ["contactinformation"],
    "deals": ["dealinformation"],
}


class PropertyRegistry:
    """Definitions for one object type; thread-safe via the owning state's lock."""

    def __init__(self, object_type: str, now_ms: int, max_unique: int) -> None:
        self.object_type = object_type
        self.max_unique = max_unique
        self._lock = threading.RLock()
        self.defs: dict[str, PropertyDef] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        group = GROUPS[object_type][0]
        for g in GROUPS[object_type]:
            self.groups[g] = {"name": g, "label": g.replace("information", " information").title(),
                              "displayOrder": -1, "archived": False}
        for i, (name, label, ptype, ftype, options, ro) in enumerate(_COMMON + _STANDARD[object_type]):
            self.defs[name] = PropertyDef(
                name=name, label=label, type=ptype, fieldType=ftype, groupName=group,
                options=_opts(*options) if ptype != "bool" else [
                    {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
                    {"label": "No", "value": "false", "displayOrder": 1, "hidden": False},
                ],
                displayOrder=i, hubspotDefined=True, readOnlyValue=ro, formField=not ro,
                createdAt=now_ms, updatedAt=now_ms,
                calculated=name in ("hs_is_closed", "hs_is_closed_won", "hs_is_closed_lost"),
            )

    # -- queries --------------------------------------------------------------------------
    def get(self, name: str) -> PropertyDef | None:
        return self.defs.get(name)

    def all(self) -> list[PropertyDef]:
        return list(self.defs.values())

    def unique_names(self) -> set[str]:
        return {d.name for d in self.defs.values() if d.hasUniqueValue}

    def id_properties(self) -> set[str]:
        """Properties accepted as ``idProperty``: unique-value ones, hs_object_id, contact email."""
        names = self.unique_names() | {"hs_object_id"}
        if self.object_type == "contacts":
            names.add("email")
        return names

    # -- mutations --------------------------------------------------------------------------
    def add_internal(self, d: PropertyDef) -> None:
        """Register a HubSpot-defined property (e.g. per-stage date-entered fields)."""
        self.defs.setdefault(d.name, d)

    def create(self, payload: Any, now_ms: int) -> PropertyDef:
        if not isinstance(payload, dict):
            raise validation("Invalid input JSON: expected an object.")
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not payload.get(k)]
        if missing:
            raise validation(
                f"Invalid input JSON: missing required field(s) {', '.join(missing)}.",
                context={"missingFields": missing},
            )
        name = str(payload["name"])
        if not name.replace("_", "").isalnum() or name != name.lower() or not name[0].isalpha():
            raise validation(f"Property name '{name}' is invalid: use lower-case letters, digits and underscores.")
        ptype, ftype = str(payload["type"]), str(payload["fieldType"])
        if ptype not in PROPERTY_TYPES:
            raise validation(f"'{ptype}' is not a valid property type.")
        if ftype not in FIELD_TYPES:
            raise validation(f"'{ftype}' is not a valid field type.")
        options = payload.get("options") or []
        if ptype == "enumeration" and not options and ftype != "booleancheckbox":
            raise validation("Enumeration properties need at least one option.")
        options = self._check_options(options)
        with self._lock:
            if name in self.defs:
                raise ApiError(409, "CONFLICT", f"A property named '{name}' already exists.")
            if str(payload["groupName"]) not in self.groups:
                raise validation(f"Property group '{payload['groupName']}' does not exist.")
            unique = bool(payload.get("hasUniqueValue", False))
            if unique:
                custom_unique = sum(1 for d in self.defs.values() if d.hasUniqueValue and not d.hubspotDefined)
                if custom_unique >= self.max_unique:
                    raise validation(
                        f"Cannot create more than {self.max_unique} unique value properties for this object type."
                    )
            d = PropertyDef(
                name=name, label=str(payload["label"]), type=ptype, fieldType=ftype,
                groupName=str(payload["groupName"]), description=str(payload.get("description") or ""),
                options=options, displayOrder=int(payload.get("displayOrder", -1)),
                hasUniqueValue=unique, hidden=bool(payload.get("hidden", False)),
                formField=bool(payload.get("formField", False)), createdAt=now_ms, updatedAt=now_ms,
            )
            self.defs[name] = d
            return d

    def update(self, name: str, payload: Any, now_ms: int) -> PropertyDef:
        if not isinstance(payload, dict):
            raise validation("Invalid input JSON: expected an object.")
        with self._lock:
            d = self.defs.get(name)
            if d is None:
                raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find property {name} for object type {self.object_type}.")
            if "hasUniqueValue" in payload and bool(payload["hasUniqueValue"]) != d.hasUniqueValue:
                raise validation("hasUniqueValue can only be set when a property is created.")
            if "name" in payload and payload["name"] != name:
                raise validation("A property's name cannot be changed.")
            if "type" in payload and payload["type"] not in PROPERTY_TYPES:
                raise validation(f"'{payload['type']}' is not a valid property type.")
            if "fieldType" in payload and payload["fieldType"] not in FIELD_TYPES:
                raise validation(f"'{payload['fieldType']}' is not a valid field type.")
            if "groupName" in payload and payload["groupName"] not in self.groups:
                raise validation(f"Property group '{payload['groupName']}' does not exist.")
            for key in ("label", "description", "groupName", "type", "fieldType"):
                if key in payload:
                    setattr(d, key, str(payload[key]))
            for key in ("hidden", "formField"):
                if key in payload:
                    setattr(d, key, bool(payload[key]))
            if "displayOrder" in payload:
                d.displayOrder = int(payload["displayOrder"])
            if "options" in payload:
                d.options = self._check_options(payload["options"] or [])
            d.updatedAt = now_ms
            return d

    def delete(self, name: str) -> PropertyDef:
        with self._lock:
            d = self.defs.get(name)
            if d is None:
                raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find property {name} for object type {self.object_type}.")
            if d.hubspotDefined:
                raise validation(f"Property {name} is a HubSpot defined property and cannot be deleted.")
            del self.defs[name]
            return d

    def create_group(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict) or not payload.get("name") or not payload.get("label"):
            raise validation("Invalid input JSON: name and label are required.")
        with self._lock:
            if payload["name"] in self.groups:
                raise ApiError(409, "CONFLICT", f"A property group named '{payload['name']}' already exists.")
            name = str(payload["name"])
            g: dict[str, Any] = {"name": name, "label": str(payload["label"]),
                                 "displayOrder": int(payload.get("displayOrder", -1)), "archived": False}
            self.groups[name] = g
            return g

    @staticmethod
    def _check_options(options: Any) -> list[dict[str, Any]]:
        if not isinstance(options, list):
            raise validation("options must be a list.")
        out = []
        for i, o in enumerate(options):
            if not isinstance(o, dict) or "value" not in o or "label" not in o:
                raise validation("Each option needs a label and a value.")
            out.append({"label": str(o["label"]), "value": str(o["value"]),
                        "displayOrder": int(o.get("displayOrder", i)), "hidden": bool(o.get("hidden", False)),
                        **({"description": str(o["description"])} if "description" in o else {})})
        return out
