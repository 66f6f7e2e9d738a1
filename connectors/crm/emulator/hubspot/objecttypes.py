"""Object type names, ids and the modified-date property of each CRM object type."""

from __future__ import annotations

OBJECT_TYPES = ("contacts", "companies", "deals")

#: HubSpot object type ids.
TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3"}

SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal"}

_ALIASES = {
    "contacts": "contacts", "contact": "contacts", "0-1": "contacts",
    "companies": "companies", "company": "companies", "0-2": "companies",
    "deals": "deals", "deal": "deals", "0-3": "deals",
}

#: Property holding the last-modified timestamp (contacts differ from the rest).
MODIFIED_PROP = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate", "deals": "hs_lastmodifieddate"}

#: Upper-case name used in some error messages ("Could not get some CONTACT objects ...").
UPPER = {"contacts": "CONTACT", "companies": "COMPANY", "deals": "DEAL"}


def canonical_type(name: str) -> str | None:
    """Map ``deal``/``deals``/``0-3`` (any case) to ``deals``; ``None`` if unknown."""
    return _ALIASES.get(name.lower())
