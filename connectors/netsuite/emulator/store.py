"""The emulated account's data: one in-memory SQLite database shaped like SuiteQL's tables.

The record API and SuiteQL both read and write these tables, so a record created over REST
is visible to SuiteQL at once, as in NetSuite. Internal ids (and line unique keys) are
``AUTOINCREMENT``: they only grow, per table, so a deleted record's id is never given again,
as NetSuite never reuses one. One connection is shared by all server threads
and guarded by a re-entrant lock; ``version`` increments on every write so caches (SuiteQL
counts) can tell when data changed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from . import dates

SCHEMA = """
CREATE TABLE dual (dummy TEXT);
INSERT INTO dual VALUES ('X');
CREATE TABLE currency (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, symbol TEXT, isbasecurrency TEXT, isinactive TEXT,
  exchangerate REAL, externalid TEXT, lastmodifieddate TEXT);
CREATE TABLE subsidiary (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, fullname TEXT, parent INTEGER, country TEXT,
  currency INTEGER, isinactive TEXT, iselimination TEXT, externalid TEXT, lastmodifieddate TEXT);
CREATE TABLE entitystatus (key INTEGER PRIMARY KEY, name TEXT, entitytype TEXT, probability REAL);
CREATE TABLE customer (
  id INTEGER PRIMARY KEY AUTOINCREMENT, entityid TEXT, companyname TEXT, isperson TEXT, firstname TEXT,
  lastname TEXT, email TEXT, phone TEXT, subsidiary INTEGER, currency INTEGER,
  entitystatus INTEGER, comments TEXT, creditlimit REAL, overduebalance REAL, externalid TEXT,
  datecreated TEXT, lastmodifieddate TEXT, isinactive TEXT);
CREATE TABLE customersubsidiaryrelationship (
  id INTEGER PRIMARY KEY AUTOINCREMENT, entity INTEGER, subsidiary INTEGER, isprimarysub TEXT,
  lastmodifieddate TEXT);
CREATE TABLE item (
  id INTEGER PRIMARY KEY AUTOINCREMENT, itemid TEXT, displayname TEXT, description TEXT, itemtype TEXT,
  baseprice REAL, cost REAL, subsidiary INTEGER, isinactive TEXT, externalid TEXT,
  createddate TEXT, lastmodifieddate TEXT);
CREATE TABLE transactionstatus (id TEXT, trantype TEXT, name TEXT, fullname TEXT,
  PRIMARY KEY (trantype, id));
CREATE TABLE "transaction" (
  id INTEGER PRIMARY KEY AUTOINCREMENT, tranid TEXT, trandate TEXT, type TEXT, entity INTEGER, status TEXT,
  currency INTEGER, exchangerate REAL, foreigntotal REAL, taxtotal REAL, amountpaid REAL,
  amountremaining REAL, duedate TEXT, memo TEXT, otherrefnum TEXT, createdfrom INTEGER,
  externalid TEXT, createddate TEXT, lastmodifieddate TEXT);
CREATE TABLE transactionline (
  uniquekey INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER, "transaction" INTEGER, linesequencenumber INTEGER,
  mainline TEXT, taxline TEXT, item INTEGER, quantity REAL, rate REAL, foreignamount REAL,
  netamount REAL, memo TEXT, subsidiary INTEGER, entity INTEGER, linelastmodifieddate TEXT);
CREATE TABLE deletedrecord (
  id INTEGER PRIMARY KEY AUTOINCREMENT, recordid INTEGER, recordtypeid TEXT, type TEXT, name TEXT,
  externalid TEXT, deleteddate TEXT, context TEXT, iscustomrecord TEXT);
"""

INDEXES = """
CREATE UNIQUE INDEX customer_eid ON customer(externalid);
CREATE INDEX customer_lmd ON customer(lastmodifieddate);
CREATE INDEX csr_entity ON customersubsidiaryrelationship(entity);
CREATE INDEX csr_subsidiary ON customersubsidiaryrelationship(subsidiary);
CREATE UNIQUE INDEX item_eid ON item(externalid);
CREATE UNIQUE INDEX transaction_eid ON "transaction"(type, externalid);
CREATE INDEX transaction_type_lmd ON "transaction"(type, lastmodifieddate);
CREATE INDEX transaction_lmd ON "transaction"(lastmodifieddate);
CREATE INDEX transaction_entity ON "transaction"(entity);
CREATE INDEX transactionline_tx ON transactionline("transaction", mainline);
CREATE INDEX transactionline_item ON transactionline(item);
CREATE INDEX deletedrecord_date ON deletedrecord(deleteddate);
"""

#: Tables a SuiteQL query may name.
SUITEQL_TABLES = frozenset(
    {
        "dual",
        "currency",
        "subsidiary",
        "entitystatus",
        "customer",
        "customersubsidiaryrelationship",
        "item",
        "transactionstatus",
        "transaction",
        "transactionline",
        "deletedrecord",
    }
)

#: Columns holding dates or datetimes; SuiteQL renders them raw in the date preference.
DATE_COLUMNS = frozenset(
    {
        "datecreated",
        "lastmodifieddate",
        "createddate",
        "trandate",
        "duedate",
        "linelastmodifieddate",
        "deleteddate",
    }
)

TRANSACTION_STATUSES: dict[str, dict[str, str]] = {
    "CustInvc": {
        "A": "Open",
        "B": "Paid In Full",
        "D": "Pending Approval",
        "E": "Rejected",
        "V": "Voided",
    },
    "SalesOrd": {
        "A": "Pending Approval",
        "B": "Pending Fulfillment",
        "C": "Cancelled",
        "D": "Partially Fulfilled",
        "E": "Pending Billing/Partially Fulfilled",
        "F": "Pending Billing",
        "G": "Billed",
        "H": "Closed",
    },
}

TRANSACTION_TYPE_NAMES = {"CustInvc": "Invoice", "SalesOrd": "Sales Order"}

ENTITY_STATUSES = {
    6: "LEAD-Unqualified",
    7: "LEAD-Qualified",
    8: "PROSPECT-In Discussion",
    10: "PROSPECT-Proposal",
    13: "CUSTOMER-Closed Won",
    15: "CUSTOMER-Renewal",
    16: "CUSTOMER-Lost Customer",
}


class Store:
    """Owns the SQLite connection, its lock and the write version counter."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self.lock = threading.RLock()
        self.version = 0
        self._register_functions()
        self.create_schema()

    def _register_functions(self) -> None:
        c = self.conn
        c.create_function("ns_to_char", 2, dates.to_char, deterministic=True)
        c.create_function("ns_to_char", 1, lambda v: dates.to_char(v, None), deterministic=True)
        c.create_function("ns_strptime", 2, dates.strptime_store, deterministic=True)
        c.create_function("ns_trunc", 1, dates.trunc, deterministic=True)

    def set_clock(self, now: Any) -> None:
        """Register ``ns_now()`` (SYSDATE/CURRENT_TIMESTAMP) against the emulator clock."""
        self.conn.create_function("ns_now", 0, lambda: dates.to_store(now()))

    def create_schema(self) -> None:
        with self.lock:
            cur = self.conn.cursor()
            # sqlite_sequence (AUTOINCREMENT's counters) is SQLite's own: dropping a table drops its counter
            tables = [
                r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite%'")
            ]
            for name in tables:
                cur.execute(f'DROP TABLE "{name}"')
            cur.executescript(SCHEMA)
            cur.executemany(
                "INSERT INTO entitystatus VALUES (?,?,?,?)",
                [
                    (k, v, "CUSTOMER" if v.startswith("CUSTOMER") else v.split("-")[0], 100.0)
                    for k, v in ENTITY_STATUSES.items()
                ],
            )
            cur.executemany(
                "INSERT INTO transactionstatus VALUES (?,?,?,?)",
                [
                    (code, tt, label, f"{TRANSACTION_TYPE_NAMES[tt]} : {label}")
                    for tt, codes in TRANSACTION_STATUSES.items()
                    for code, label in codes.items()
                ],
            )
            self.version += 1

    def create_indexes(self) -> None:
        """Build indexes after bulk seeding (much faster than maintaining them per insert)."""
        with self.lock:
            self.conn.executescript(INDEXES)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def query_dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.lock:
            cur = self.conn.execute(sql, params)
            names = [d[0].lower() for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.lock:
            row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Cursor]:
        """A write transaction; bumps ``version`` on success."""
        with self.lock:
            cur = self.conn.cursor()
            cur.execute("BEGIN")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
            self.version += 1
