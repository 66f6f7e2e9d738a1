"""Deterministic seed data: companies, contacts and deals with associations (random.Random(seed))."""

from __future__ import annotations

import gc
import random
from collections.abc import Sequence
from typing import TypeVar

from .pipelines import CUSTOM_PIPELINE, DEFAULT_PIPELINE
from .properties import INDUSTRIES
from .state import HubSpotState
from .store import CrmObject
from .values import iso_from_ms

_ADJ = ("Blue", "Northern", "Rapid", "Silver", "Bright", "Summit", "Pacific", "Atlas", "Crimson", "Vertex",
        "Golden", "Nimble", "Prime", "Quantum", "Harbor", "Granite", "Evergreen", "Lunar", "Solar", "Iron")
_NOUN = ("Logistics", "Analytics", "Foods", "Systems", "Dynamics", "Labs", "Partners", "Holdings", "Works",
         "Networks", "Energy", "Health", "Robotics", "Textiles", "Media", "Capital", "Motors", "Software")
_SUFFIX = ("Inc", "LLC", "Ltd", "GmbH", "SA", "Co", "Group", "PLC")
_CITIES = (("Boston", "United States"), ("Austin", "United States"), ("Toronto", "Canada"),
           ("London", "United Kingdom"), ("Berlin", "Germany"), ("Paris", "France"), ("Dublin", "Ireland"),
           ("Sydney", "Australia"), ("Madrid", "Spain"), ("Amsterdam", "Netherlands"), ("Chicago", "United States"))
_FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kara", "Liam", "Maya",
          "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wes", "Xena", "Yusuf", "Zoe")
_LAST = ("Smith", "Garcia", "Chen", "Okafor", "Muller", "Rossi", "Novak", "Silva", "Kim", "Patel", "Dubois",
         "Larsen", "Cohen", "Ivanova", "Tanaka", "Murphy", "Haddad", "Santos", "Nguyen", "Fischer")
_PRODUCTS = ("Annual licence", "Implementation", "Support renewal", "Expansion", "Pilot", "Training")
_TWO_YEARS_MS = 2 * 365 * 86_400_000

_T = TypeVar("_T")


def _id_step(rng: random.Random) -> int:
    """Mostly consecutive ids with occasional gaps, as in real portals."""
    r = rng.random()
    return 1 if r < 0.9 else 2 + int((r - 0.9) * 390)


def _pick(rng: random.Random, seq: Sequence[_T]) -> _T:  # faster than rng.choice, same distribution
    return seq[int(rng.random() * len(seq))]


def _between(rng: random.Random, low: int, high: int) -> int:
    """Uniform integer in [low, high] (fast; fine for seed data)."""
    return low + int(rng.random() * (high - low + 1))


def seed_state(state: HubSpotState) -> None:
    """Fill an empty state according to ``state.settings`` (same seed -> same data)."""
    s = state.settings
    rng = random.Random(s.seed)
    epoch_ms = int(s.seed_epoch * 1000)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # many small dicts; collector passes would dominate the run time
    try:
        companies = _seed_companies(state, rng, epoch_ms)
        contacts = _seed_contacts(state, rng, epoch_ms, companies)
        _seed_deals(state, rng, epoch_ms, companies, contacts)
    finally:
        if gc_was_enabled:
            gc.enable()
    for index in state.search_indexes.values():
        index.load_all()


def _times(rng: random.Random, epoch_ms: int) -> tuple[int, int]:
    created = epoch_ms - _between(rng, 0, _TWO_YEARS_MS)
    modified = created + _between(rng, 0, epoch_ms - created)
    return created, modified


def _insert(state: HubSpotState, object_type: str, modified_prop: str, rng: random.Random,
            props: dict[str, str], created: int, modified: int) -> CrmObject:
    store = state.stores[object_type]
    oid = store.allocate_id(_id_step(rng))
    created_iso = iso_from_ms(created)
    props["hs_object_id"] = str(oid)
    props["createdate"] = created_iso
    props[modified_prop] = iso_from_ms(modified)
    obj = CrmObject(oid, props, created, modified, created_iso)
    store.insert(obj, notify=False)
    return obj


def _seed_companies(state: HubSpotState, rng: random.Random, epoch_ms: int) -> list[CrmObject]:
    s = state.settings
    shared_ts = epoch_ms - 86_400_000
    out = []
    for i in range(s.companies):
        adj, noun, suffix = _pick(rng, _ADJ), _pick(rng, _NOUN), _pick(rng, _SUFFIX)
        city, country = _pick(rng, _CITIES)
        created, modified = _times(rng, epoch_ms)
        if i < s.seed_same_timestamp:
            created, modified = min(created, shared_ts), shared_ts
        slug = f"{adj}{noun}".lower()
        props = {
            "name": f"{adj} {noun} {suffix}",
            "domain": f"{slug}{i}.example.com",
            "industry": _pick(rng, INDUSTRIES),
            "city": city,
            "country": country,
            "phone": f"+1 555 {_between(rng, 100, 999)} {_between(rng, 1000, 9999)}",
            "annualrevenue": str(_between(rng, 1, 5000) * 10_000),
            "numberofemployees": str(_between(rng, 1, 5000)),
            "lifecyclestage": _pick(rng, ("lead", "opportunity", "customer")),
        }
        out.append(_insert(state, "companies", "hs_lastmodifieddate", rng, props, created, modified))
    return out


def _seed_contacts(state: HubSpotState, rng: random.Random, epoch_ms: int,
                   companies: list[CrmObject]) -> list[CrmObject]:
    out = []
    assoc = state.associations
    for i in range(state.settings.contacts):
        first, last = _pick(rng, _FIRST), _pick(rng, _LAST)
        company = _pick(rng, companies) if companies and rng.random() < 0.9 else None
        domain = company.props["domain"] if company else "example.org"
        created, modified = _times(rng, epoch_ms)
        props = {
            "firstname": first,
            "lastname": last,
            "email": f"{first}.{last}.{i}@{domain}".lower(),
            "phone": f"+1 555 {_between(rng, 100, 999)} {_between(rng, 1000, 9999)}",
            "jobtitle": _pick(rng, ("CFO", "Controller", "VP Sales", "Buyer", "CEO", "Engineer")),
            "lifecyclestage": _pick(rng, ("lead", "customer", "opportunity")),
        }
        if company:
            props["company"] = company.props["name"]
            props["associatedcompanyid"] = str(company.id)
        obj = _insert(state, "contacts", "lastmodifieddate", rng, props, created, modified)
        if company:
            assoc.add("contacts", obj.id, "companies", company.id, 279)
            assoc.add("contacts", obj.id, "companies", company.id, 1)
        out.append(obj)
    return out


def _seed_deals(state: HubSpotState, rng: random.Random, epoch_ms: int,
                companies: list[CrmObject], contacts: list[CrmObject]) -> None:
    assoc = state.associations
    for _ in range(state.settings.deals):
        pipeline = DEFAULT_PIPELINE if rng.random() < 0.8 else CUSTOM_PIPELINE
        stage = _pick(rng, pipeline.stages)
        company = _pick(rng, companies) if companies else None
        created, modified = _times(rng, epoch_ms)
        entered = iso_from_ms(_between(rng, created, modified))
        props = {
            "dealname": f"{company.props['name'] if company else 'Direct'} - {_pick(rng, _PRODUCTS)}",
            "amount": str(_between(rng, 5, 500) * 100),
            "pipeline": pipeline.id,
            "dealstage": stage.id,
            "closedate": iso_from_ms(created + _between(rng, 7, 120) * 86_400_000),
            "dealtype": _pick(rng, ("newbusiness", "existingbusiness")),
            "deal_currency_code": "USD",
            "hs_is_closed": "true" if stage.is_closed else "false",
            "hs_is_closed_won": "true" if stage.is_won else "false",
            "hs_is_closed_lost": "true" if stage.is_lost else "false",
            "hs_deal_stage_probability": f"{stage.probability:g}",
            f"hs_v2_date_entered_{stage.id}": entered,
            f"hs_date_entered_{stage.id}": entered,
        }
        obj = _insert(state, "deals", "hs_lastmodifieddate", rng, props, created, modified)
        if company:
            assoc.add("deals", obj.id, "companies", company.id, 341)
            assoc.add("deals", obj.id, "companies", company.id, 5)
        if contacts and rng.random() < 0.7:
            assoc.add("deals", obj.id, "contacts", _pick(rng, contacts).id, 3)
