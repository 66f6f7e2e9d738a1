"""Deterministic seed data: companies, contacts and deals with associations (random.Random(seed))."""

from __future__ import annotations

import random

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


def _id_step(rng: random.Random) -> int:
    """Mostly consecutive ids with occasional gaps, as in real portals."""
    return 1 if rng.random() < 0.9 else rng.randint(2, 40)


def seed_state(state: HubSpotState) -> None:
    """Fill an empty state according to ``state.settings`` (same seed -> same data)."""
    s = state.settings
    rng = random.Random(s.seed)
    epoch_ms = int(s.seed_epoch * 1000)
    companies = _seed_companies(state, rng, epoch_ms)
    contacts = _seed_contacts(state, rng, epoch_ms, companies)
    _seed_deals(state, rng, epoch_ms, companies, contacts)
    for index in state.search_indexes.values():
        index.load_all()


def _times(rng: random.Random, epoch_ms: int) -> tuple[int, int]:
    created = epoch_ms - rng.randint(0, _TWO_YEARS_MS)
    modified = created + rng.randint(0, epoch_ms - created)
    return created, modified


def _insert(state: HubSpotState, object_type: str, modified_prop: str, rng: random.Random,
            props: dict[str, str], created: int, modified: int) -> CrmObject:
    store = state.stores[object_type]
    oid = store.allocate_id(_id_step(rng))
    props["hs_object_id"] = str(oid)
    props["createdate"] = iso_from_ms(created)
    props[modified_prop] = iso_from_ms(modified)
    obj = CrmObject(oid, props, created, modified)
    store.insert(obj, notify=False)
    return obj


def _seed_companies(state: HubSpotState, rng: random.Random, epoch_ms: int) -> list[CrmObject]:
    s = state.settings
    shared_ts = epoch_ms - 86_400_000
    out = []
    for i in range(s.companies):
        adj, noun, suffix = rng.choice(_ADJ), rng.choice(_NOUN), rng.choice(_SUFFIX)
        city, country = rng.choice(_CITIES)
        created, modified = _times(rng, epoch_ms)
        if i < s.seed_same_timestamp:
            created, modified = min(created, shared_ts), shared_ts
        slug = f"{adj}{noun}".lower()
        props = {
            "name": f"{adj} {noun} {suffix}",
            "domain": f"{slug}{i}.example.com",
            "industry": rng.choice(INDUSTRIES),
            "city": city,
            "country": country,
            "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "annualrevenue": str(rng.randint(1, 5000) * 10_000),
            "numberofemployees": str(rng.randint(1, 5000)),
            "lifecyclestage": rng.choice(("lead", "opportunity", "customer")),
        }
        out.append(_insert(state, "companies", "hs_lastmodifieddate", rng, props, created, modified))
    return out


def _seed_contacts(state: HubSpotState, rng: random.Random, epoch_ms: int,
                   companies: list[CrmObject]) -> list[CrmObject]:
    out = []
    assoc = state.associations
    for i in range(state.settings.contacts):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        company = rng.choice(companies) if companies and rng.random() < 0.9 else None
        domain = company.props["domain"] if company else "example.org"
        created, modified = _times(rng, epoch_ms)
        props = {
            "firstname": first,
            "lastname": last,
            "email": f"{first}.{last}.{i}@{domain}".lower(),
            "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            "jobtitle": rng.choice(("CFO", "Controller", "VP Sales", "Buyer", "CEO", "Engineer")),
            "lifecyclestage": rng.choice(("lead", "customer", "opportunity")),
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
        stage = rng.choice(pipeline.stages)
        company = rng.choice(companies) if companies else None
        created, modified = _times(rng, epoch_ms)
        entered = iso_from_ms(rng.randint(created, modified))
        props = {
            "dealname": f"{company.props['name'] if company else 'Direct'} - {rng.choice(_PRODUCTS)}",
            "amount": str(rng.randint(5, 500) * 100),
            "pipeline": pipeline.id,
            "dealstage": stage.id,
            "closedate": iso_from_ms(created + rng.randint(7, 120) * 86_400_000),
            "dealtype": rng.choice(("newbusiness", "existingbusiness")),
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
            assoc.add("deals", obj.id, "contacts", rng.choice(contacts).id, 3)
