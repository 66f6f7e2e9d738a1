"""HubSpot-defined association type ids between contacts, companies and deals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AssocType:
    type_id: int
    from_type: str
    to_type: str
    label: str | None  # None = unlabeled
    inverse: int
    category: str = "HUBSPOT_DEFINED"

    @property
    def is_primary(self) -> bool:
        return self.label == "Primary"


_TABLE = [
    AssocType(279, "contacts", "companies", None, 280),
    AssocType(280, "companies", "contacts", None, 279),
    AssocType(1, "contacts", "companies", "Primary", 2),
    AssocType(2, "companies", "contacts", "Primary", 1),
    AssocType(341, "deals", "companies", None, 342),
    AssocType(342, "companies", "deals", None, 341),
    AssocType(5, "deals", "companies", "Primary", 6),
    AssocType(6, "companies", "deals", "Primary", 5),
    AssocType(3, "deals", "contacts", None, 4),
    AssocType(4, "contacts", "deals", None, 3),
    AssocType(449, "contacts", "contacts", None, 449),
    AssocType(450, "companies", "companies", None, 450),
    AssocType(451, "deals", "deals", None, 451),
]

TYPES: dict[int, AssocType] = {t.type_id: t for t in _TABLE}


def default_type(from_type: str, to_type: str) -> AssocType | None:
    """The unlabeled type for a pair of object types."""
    for t in _TABLE:
        if t.from_type == from_type and t.to_type == to_type and t.label is None:
            return t
    return None


def types_for(from_type: str, to_type: str) -> list[AssocType]:
    return [t for t in _TABLE if t.from_type == from_type and t.to_type == to_type]


def lookup(type_id: int, from_type: str, to_type: str) -> AssocType | None:
    t = TYPES.get(type_id)
    if t is None or t.from_type != from_type or t.to_type != to_type:
        return None
    return t


def v3_name(t: AssocType) -> str:
    """Name used in v3 inline associations: primary -> ``deal_to_company``, plain -> ``..._unlabeled``.

    Pairs with a Primary label render their unlabeled type as ``<a>_to_<b>_unlabeled``; pairs without
    one (deal<->contact) render it as ``<a>_to_<b>``.
    """
    from .objecttypes import SINGULAR

    base = f"{SINGULAR[t.from_type]}_to_{SINGULAR[t.to_type]}"
    if t.is_primary:
        return base
    has_primary = any(x.is_primary for x in types_for(t.from_type, t.to_type))
    return f"{base}_unlabeled" if has_primary else base
