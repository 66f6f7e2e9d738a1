"""Deterministic seed data: users, accounts, contacts, opportunities with line items, NetSuite invoices.

Everything derives from ``random.Random(settings.seed)``; timestamps fall in the year after
``seed_epoch``, so reads by ``SystemModstamp`` see a spread of modification times. Line items carry
product codes ``ITEM-0001`` to ``ITEM-0020``, the item names the NetSuite emulator seeds.
"""

from __future__ import annotations

import random
from datetime import timedelta

from .settings import SalesforceSettings
from .store import OrgStore
from .values import from_epoch

_ADJ = "Northern Coastal Bright Iron Silver Crimson Open Swift Royal Granite Lunar Amber Pacific Cobalt".split()
_NOUN = "Harbor Works Valley Systems Foods Logistics Labs Textiles Energy Outfitters Media Health Robotics".split()
_SUFFIX = ["Inc.", "LLC", "Ltd", "GmbH", "Corp", "Group", "S.A.", "plc"]
_FIRST = "Ava Ben Chloe Dan Ella Finn Gia Hugo Iris Jon Kira Liam Maya Noah Omar Pia Quinn Rosa".split()
_LAST = "Garcia Miller Lopez Clark Lewis Young King Scott Green Baker Adams Nelson Hill Ramirez".split()
_CITIES = [("Chicago", "United States"), ("Austin", "United States"), ("London", "United Kingdom"),
           ("Toronto", "Canada"), ("Berlin", "Germany"), ("Paris", "France"), ("Denver", "United States")]
_CURRENCY_BY_COUNTRY = {"United States": "USD", "United Kingdom": "GBP", "Canada": "CAD", "Germany": "EUR",
                        "France": "EUR"}
_OPEN_STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review"]
DAY = 86_400


def seed_org(store: OrgStore, settings: SalesforceSettings) -> str:
    """Fill an empty store; returns the integration user's id."""
    rng = random.Random(settings.seed)
    epoch = settings.seed_epoch

    def moment() -> float:
        return epoch + rng.randrange(0, 365 * DAY)

    def create(type_name: str, body: dict[str, object], at: float, user: str | None = None) -> str:
        record = store.create(store.types[type_name], body, user_id=user, at=from_epoch(at))
        modified = from_epoch(at + rng.randrange(0, 30 * DAY))
        record["LastModifiedDate"] = record["SystemModstamp"] = modified
        return str(record["Id"])

    users = [create("User", {"Username": settings.username, "FirstName": "Integration", "LastName": "User",
                             "Email": settings.username, "Alias": "integ", "IsActive": True}, epoch)]
    store.default_user_id = users[0]
    for i in range(1, settings.users):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        users.append(create("User", {"Username": f"{first}.{last}.{i}@emulator.example.com".lower(),
                                     "FirstName": first, "LastName": last, "Alias": f"{first[:4]}{i}".lower(),
                                     "Email": f"{first}.{last}@emulator.example.com".lower(), "IsActive": True},
                            epoch))

    accounts: list[tuple[str, str, str]] = []
    for i in range(settings.accounts):
        name = f"{rng.choice(_ADJ)} {rng.choice(_NOUN)} {rng.choice(_SUFFIX)}"
        city, country = rng.choice(_CITIES)
        currency = _CURRENCY_BY_COUNTRY[country]
        body: dict[str, object] = {
            "Name": name, "Type": rng.choice(["Prospect", "Customer - Direct", "Customer - Direct",
                                              "Customer - Channel", "Partner"]),
            "Industry": rng.choice(["Banking", "Energy", "Manufacturing", "Retail", "Technology", "Healthcare"]),
            "Phone": f"+1 555 {rng.randrange(1000, 9999)}", "Website": f"https://www.account{i}.example.com",
            "BillingCity": city, "BillingCountry": country, "CurrencyIsoCode": currency,
            "AnnualRevenue": float(rng.randrange(1, 500) * 10_000), "NumberOfEmployees": rng.randrange(5, 5000),
            "OwnerId": rng.choice(users), "Key_Account__c": i % 4 == 0,  # not drawn: the seed's draws stay as they were
        }
        accounts.append((create("Account", body, moment(), rng.choice(users)), name, currency))

    for i in range(settings.contacts):
        account_id, _, _ = rng.choice(accounts)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        create("Contact", {"AccountId": account_id, "FirstName": first, "LastName": last,
                           "Email": f"{first}.{last}.{i}@contacts.example.com".lower(),
                           "Title": rng.choice(["CFO", "Controller", "AP Manager", "Buyer", "CEO"]),
                           "HasOptedOutOfEmail": rng.random() < 0.1}, moment(), rng.choice(users))

    for i in range(settings.opportunities):
        account_id, account_name, currency = rng.choice(accounts)
        created = moment()
        stage = "Closed Won" if i % 3 == 0 else "Closed Lost" if i % 7 == 0 else rng.choice(_OPEN_STAGES)
        close = from_epoch(created).date() + timedelta(days=rng.randrange(10, 120))
        opportunity = create("Opportunity", {
            "AccountId": account_id, "Name": f"{account_name} - {rng.choice(['Renewal', 'Expansion', 'New'])}",
            "StageName": stage, "CloseDate": close.isoformat(), "CurrencyIsoCode": currency,
            "Probability": 100.0 if stage == "Closed Won" else 0.0 if stage == "Closed Lost" else 40.0,
        }, created, rng.choice(users))
        total = 0.0
        for _ in range(rng.randrange(1, 4)):
            quantity, price = float(rng.randrange(1, 20)), float(rng.randrange(10, 900))
            create("OpportunityLineItem", {"OpportunityId": opportunity,
                                           "ProductCode": f"ITEM-{rng.randrange(1, 21):04d}",
                                           "Quantity": quantity, "UnitPrice": price}, created)
            total += quantity * price
        store.records["Opportunity"][opportunity]["Amount"] = round(total, 2)
    return users[0]
