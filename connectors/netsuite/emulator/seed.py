"""Deterministic seed data: subsidiaries, customers, items, sales orders and invoices.

Everything derives from ``random.Random(settings.seed)`` and the clock time at seeding, so the
same seed yields the same rows (timestamps are offsets from "now"). Rows are generated as
tuples and inserted with ``executemany``; 200,000 customers seed in a couple of seconds.
"""

from __future__ import annotations

import json
import random
from typing import Any

from .dates import to_store
from .settings import EmulatorSettings
from .store import Store

CURRENCIES = [
    (1, "US Dollar", "USD", "T", 1.0),
    (2, "British pound", "GBP", "F", 1.27),
    (3, "Canadian Dollar", "CAD", "F", 0.74),
    (4, "Euro", "EUR", "F", 1.09),
]
CHILD_SUBSIDIARIES = [
    ("Acme US", "US", 1),
    ("Acme UK", "GB", 2),
    ("Acme Canada", "CA", 3),
    ("Acme Germany", "DE", 4),
    ("Acme France", "FR", 4),
]
PARENT_NAME = "Acme Holdings Inc."

_ADJ = "Blue Green Red Silver Golden Rapid Bright Quiet Bold Prime Global Urban Summit North".split()
_NOUN = "River Falcon Harbor Peak Forge Maple Stone Cedar Orbit Anchor Meadow Signal Vertex Bridge".split()
_SUFFIX = ["Inc.", "LLC", "Ltd", "GmbH", "Corp", "Group", "Partners", "Co."]
_FIRST = "Alice Bob Carol David Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy".split()
_LAST = "Smith Jones Brown Taylor Wilson Davies Evans Thomas Johnson Roberts Walker Wright".split()
_PRODUCTS = "Widget Gadget Sprocket Gizmo Module Sensor Bracket Cable Adapter License Support".split()
_ITEM_TYPES = ["NonInvtPart", "InvtPart", "Service"]

DAY = 86400


def seed(store: Store, settings: EmulatorSettings) -> None:
    """Fill an empty schema with the configured number of rows."""
    rng = random.Random(settings.seed)
    now = int(settings.clock.now())
    year_ago = now - 365 * DAY
    with store.write() as cur:
        cur.executemany(
            "INSERT INTO currency VALUES (?,?,?,?,'F',?,NULL,?)",
            [(i, n, s, b, r, to_store(year_ago)) for i, n, s, b, r in CURRENCIES],
        )
        n_children = max(2, settings.subsidiaries - 1)
        subs: list[tuple[Any, ...]] = [
            (1, PARENT_NAME, PARENT_NAME, None, "US", 1, "F", "F", None, to_store(year_ago))
        ]
        for i in range(n_children):
            base, country, cur_id = CHILD_SUBSIDIARIES[i % len(CHILD_SUBSIDIARIES)]
            name = base if i < len(CHILD_SUBSIDIARIES) else f"{base} {i // len(CHILD_SUBSIDIARIES) + 1}"
            subs.append(
                (i + 2, name, f"{PARENT_NAME} : {name}", 1, country, cur_id, "F", "F", None, to_store(year_ago))
            )
        cur.executemany("INSERT INTO subsidiary VALUES (?,?,?,?,?,?,?,?,?,?)", subs)
        child_ids = [s[0] for s in subs[1:]]

        _customers(cur, rng, settings.customers, child_ids, now)
        cur.execute(
            "INSERT INTO customersubsidiaryrelationship (entity, subsidiary, isprimarysub, lastmodifieddate)"
            " SELECT id, subsidiary, 'T', lastmodifieddate FROM customer ORDER BY id"
        )
        # every tenth customer also trades with the next subsidiary
        cur.execute(
            "INSERT INTO customersubsidiaryrelationship (entity, subsidiary, isprimarysub, lastmodifieddate)"
            " SELECT c.id, (SELECT MIN(s.id) FROM subsidiary s WHERE s.parent IS NOT NULL AND s.id <> c.subsidiary),"
            " 'F', c.lastmodifieddate FROM customer c WHERE c.id % 10 = 0 ORDER BY c.id"
        )

        items = []
        for i in range(1, settings.items + 1):
            created = year_ago - rng.randrange(0, 365) * DAY
            items.append(
                (
                    i,
                    f"ITEM-{i:04d}",
                    f"{rng.choice(_ADJ)} {rng.choice(_PRODUCTS)}",
                    f"{rng.choice(_PRODUCTS)} for general use",
                    _ITEM_TYPES[i % 3],
                    round(rng.uniform(5, 500), 2),
                    round(rng.uniform(1, 200), 2),
                    1,
                    "F",
                    f"ITEM-EXT-{i}" if i % 2 == 0 else None,
                    to_store(created),
                    to_store(created + rng.randrange(0, 300) * DAY),
                )
            )
        cur.executemany("INSERT INTO item VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", items)
        item_prices = {it[0]: it[5] for it in items}
        _transactions(cur, rng, settings, item_prices, now)
    store.create_indexes()


_CUSTOMER_SQL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count),
h1 AS (SELECT i, (i * 2654435761 + :salt) % 4294967296 AS a FROM n),
h2 AS (SELECT i, a, ((a | (a / 65536)) - (a & (a / 65536))) * 1103515245 % 4294967296 AS b FROM h1),
h AS (SELECT i, b AS r, ((b | (b / 8192)) - (b & (b / 8192))) * 1664525013 % 4294967296 AS r2,
             (a * 40503 + :salt2) % 4294967296 AS r3 FROM h2),
p AS (
  SELECT i, r, r2, r3,
    json_extract(:subs, '$[' || (r % :nsub) || ']') AS sub,
    json_extract(:nouns, '$[' || (r / 32 % :nnoun) || ']') AS noun,
    :now - :span + (r2 % :span) AS created
  FROM h)
INSERT INTO customer
SELECT
  i,
  'CUST' || printf('%06d', i),
  CASE WHEN i % 10 = 7 THEN NULL ELSE
    json_extract(:adjs, '$[' || (r % :nadj) || ']') || ' ' || noun || ' ' ||
    json_extract(:suffixes, '$[' || (r / 1024 % :nsuf) || ']') END,
  CASE WHEN i % 10 = 7 THEN 'T' ELSE 'F' END,
  CASE WHEN i % 10 = 7 THEN json_extract(:firsts, '$[' || (r2 % :nfirst) || ']') END,
  CASE WHEN i % 10 = 7 THEN json_extract(:lasts, '$[' || (r3 % :nlast) || ']') END,
  CASE WHEN i % 10 = 7 THEN 'contact' || i || '@example.com'
       ELSE 'ap' || i || '@' || lower(noun) || i || '.example.com' END,
  '+1-555-' || printf('%04d', r3 % 10000),
  sub,
  (SELECT s.currency FROM subsidiary s WHERE s.id = sub),
  CASE WHEN i % 5 = 0 THEN 8 ELSE 13 END,
  NULL,
  (r / 4096 % 50) * 1000.0,
  0.0,
  CASE WHEN i % 3 = 0 THEN 'CRM-' || i END,
  datetime(created, 'unixepoch'),
  datetime(created + (r3 % (:now - created + 1)), 'unixepoch'),
  CASE WHEN i % 20 = 0 THEN 'T' ELSE 'F' END
FROM p
"""


def _customers(cur: Any, rng: random.Random, count: int, child_ids: list[int], now: int) -> None:
    """Generate customers inside SQLite (hash-mixed row numbers salted from ``rng``)."""
    if count <= 0:
        return
    cur.execute(
        _CUSTOMER_SQL,
        {
            "count": count,
            "salt": rng.randrange(1 << 31),
            "salt2": rng.randrange(1 << 31),
            "subs": json.dumps(child_ids),
            "nsub": len(child_ids),
            "adjs": json.dumps(_ADJ),
            "nadj": len(_ADJ),
            "nouns": json.dumps(_NOUN),
            "nnoun": len(_NOUN),
            "suffixes": json.dumps(_SUFFIX),
            "nsuf": len(_SUFFIX),
            "firsts": json.dumps(_FIRST),
            "nfirst": len(_FIRST),
            "lasts": json.dumps(_LAST),
            "nlast": len(_LAST),
            "now": now,
            "span": 365 * DAY,
        },
    )


def _transactions(
    cur: Any,
    rng: random.Random,
    settings: EmulatorSettings,
    item_prices: dict[int, float],
    now: int,
) -> None:
    n_customers = cur.execute("SELECT COUNT(*) FROM customer").fetchone()[0]
    if not n_customers or not item_prices:
        return
    tx_rows: list[tuple[Any, ...]] = []
    line_rows: list[tuple[Any, ...]] = []
    item_ids = sorted(item_prices)
    tx_id = 0
    line_key = 0
    sales_orders: list[int] = []
    plan = [("SalesOrd", n) for n in range(settings.sales_orders)] + [
        ("CustInvc", n) for n in range(settings.invoices)
    ]
    for tx_type, n in plan:
        tx_id += 1
        cust_id = rng.randint(1, n_customers)
        _, cust_sub, cust_cur = cur.execute(
            "SELECT id, subsidiary, currency FROM customer WHERE id = ?", (cust_id,)
        ).fetchone()
        created = now - rng.randrange(1, 300) * DAY - rng.randrange(0, DAY)
        modified = min(now, created + rng.randrange(0, 30) * DAY + rng.randrange(0, DAY))
        trandate = to_store(created)[:10] + " 00:00:00"
        lines = []
        total = 0.0
        for ln in range(1, rng.randint(1, 4) + 1):
            item = item_ids[rng.randrange(len(item_ids))]
            qty = float(rng.randint(1, 10))
            rate = item_prices[item]
            amount = round(qty * rate, 2)
            total += amount
            lines.append((ln, item, qty, rate, amount))
        total = round(total, 2)
        created_from = None
        if tx_type == "SalesOrd":
            status = rng.choice(["B", "F", "G"])
            paid = remaining = None
            due = None
            tranid = f"SO{10000 + n}"
            sales_orders.append(tx_id)
        else:
            roll = rng.random()
            if roll < 0.4:
                status, paid, remaining = "B", total, 0.0
            elif roll < 0.55:
                paid = round(total * 0.5, 2)
                status, remaining = "A", round(total - paid, 2)
            else:
                status, paid, remaining = "A", 0.0, total
            due = to_store(created + 30 * DAY)[:10] + " 00:00:00"
            tranid = f"INV{20000 + n}"
            if sales_orders and n % 4 == 0:
                created_from = sales_orders[n % len(sales_orders)]
        ext = f"{'SO' if tx_type == 'SalesOrd' else 'INV'}-EXT-{n}" if n % 2 == 0 else None
        tx_rows.append(
            (
                tx_id, tranid, trandate, tx_type, cust_id, status, cust_cur, 1.0, total, 0.0, paid,
                remaining, due, None, None, created_from, ext, to_store(created), to_store(modified),
            )
        )
        line_key += 1
        lmd = to_store(modified)
        line_rows.append(
            (line_key, 0, tx_id, 0, "T", "F", None, None, None, total, total, None, cust_sub, cust_id, lmd)
        )
        for ln, item, qty, rate, amount in lines:
            line_key += 1
            line_rows.append(
                (line_key, ln, tx_id, ln, "F", "F", item, qty, rate, amount, amount, None, cust_sub, cust_id, lmd)
            )
    cur.executemany(f"INSERT INTO \"transaction\" VALUES ({','.join('?' * 19)})", tx_rows)
    cur.executemany(f"INSERT INTO transactionline VALUES ({','.join('?' * 15)})", line_rows)
