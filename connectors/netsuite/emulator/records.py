"""The record API's writes: create, update, upsert, delete, transform, and invoice payments.

:class:`RecordService` is every record operation: the reads of :class:`~.record_reads.RecordReader`
plus the writes here, which check bodies with :class:`~.record_bodies.BodyParser`, apply NetSuite's
defaults and rules, and keep transactions' lines and totals consistent.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from . import dates
from .errors import NsError, user_error
from .record_bodies import BodyParser, ParsedBody, Validation
from .record_reads import RecordReader
from .schema import LINE_BY_LOWER, RECORD_TYPES, REF_NAME_SQL, RecordType
from .settings import EmulatorSettings
from .store import Store


@dataclass
class WriteResult:
    """Outcome of a write: the record's id and any property-validation warnings."""

    rt: RecordType
    id: int
    warnings: list[str] = field(default_factory=list)


class RecordService(RecordReader):
    """Implements every record API operation against the store."""

    def __init__(self, store: Store, settings: EmulatorSettings) -> None:
        super().__init__(store, settings)
        self.bodies = BodyParser(store, settings)

    def _now(self) -> str:
        return dates.to_store(self.settings.clock.now())

    def create(self, rt: RecordType, body: Any, validation: Validation, external_id: str | None = None) -> WriteResult:
        parsed = self.bodies.parse(rt, body, validation)
        if external_id is not None:
            parsed.values["externalId"] = external_id
        with self.store.write() as cur:
            rid = self._insert(cur, rt, parsed)
        return WriteResult(rt, rid, parsed.warnings)

    def update(
        self,
        rt: RecordType,
        rid: int,
        body: Any,
        validation: Validation,
        replace: set[str] | None = None,
        replace_selected: bool = False,
    ) -> WriteResult:
        parsed = self.bodies.parse(rt, body, validation)
        replace = {r.lower() for r in (replace or set())}
        if replace_selected:
            for name in replace:
                f = rt.field(name)
                if f and f.kind not in ("sublist",) and not f.read_only and f.name not in parsed.values:
                    parsed.values[f.name] = None
        with self.store.write() as cur:
            self._update(cur, rt, rid, parsed, replace_lines="item" in replace)
        return WriteResult(rt, rid, parsed.warnings)

    def upsert(self, rt: RecordType, external_id: str, body: Any, validation: Validation) -> WriteResult:
        """``PUT /type/eid:X``: update the record with that external id, or create it."""
        try:
            rid = self.resolve_id(rt, f"eid:{external_id}")
        except NsError:
            return self.create(rt, body, validation, external_id=external_id)
        return self.update(rt, rid, body, validation)

    def _check_required(self, rt: RecordType, row: dict[str, Any]) -> None:
        missing = []
        for f in rt.fields:
            if f.required and f.column and row.get(f.column) in (None, ""):
                missing.append(f.title)
        if rt.name == "customer":
            if row.get("isperson") == "T":
                missing += [t for c, t in (("firstname", "First Name"), ("lastname", "Last Name")) if not row.get(c)]
            elif not row.get("companyname"):
                missing.insert(0, "Company Name")
        if missing:
            raise user_error(f"Please enter value(s) for: {', '.join(missing)}.")

    def _row_from(self, rt: RecordType, base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        row = dict(base)
        for name, value in values.items():
            f = rt.field(name)
            if f and f.column:
                row[f.column] = value
        return row

    def _insert(self, cur: sqlite3.Cursor, rt: RecordType, parsed: ParsedBody) -> int:
        now = self._now()
        row = self._row_from(rt, {}, parsed.values)
        if rt.discriminator:
            row[rt.discriminator[0]] = rt.discriminator[1]
        if rt.name == "customer":
            if not row.get("entityid") and self.settings.auto_entity_id:
                row["entityid"] = row.get("companyname") or " ".join(
                    p for p in (row.get("firstname"), row.get("lastname")) if p
                ) or None
            row.setdefault("isperson", "F")
            row.setdefault("isinactive", "F")
            row.setdefault("entitystatus", 13)
            row.setdefault("overduebalance", 0.0)
            row["datecreated"] = now
        elif rt.name == "subsidiary":
            row.setdefault("isinactive", "F")
            row.setdefault("iselimination", "F")
        elif rt.table == "item":
            row.setdefault("isinactive", "F")
            row["createddate"] = now
        elif rt.name == "currency":
            row.setdefault("isinactive", "F")
            row["isbasecurrency"] = "F"
        if rt.is_transaction:
            return self._write_transaction(cur, rt, None, row, parsed.lines, replace_lines=True, now=now)
        self._check_required(rt, row)
        self._prepare_entity(cur, rt, row, None)
        row["lastmodifieddate"] = now
        row.pop("id", None)
        cols = list(row)
        try:
            cur.execute(
                f'INSERT INTO "{rt.table}" ({",".join(cols)}) VALUES ({",".join("?" * len(cols))})',
                [row[c] for c in cols],
            )
        except sqlite3.IntegrityError:
            raise _duplicate_external_id(row.get("externalid")) from None
        rid = int(cur.lastrowid or 0)
        if rt.name == "customer":
            cur.execute(
                "INSERT INTO customersubsidiaryrelationship (entity, subsidiary, isprimarysub, lastmodifieddate)"
                " VALUES (?,?,'T',?)",
                [rid, row["subsidiary"], now],
            )
        elif rt.name == "subsidiary":
            self._set_fullname(cur, rid)
        return rid

    def _prepare_entity(self, cur: sqlite3.Cursor, rt: RecordType, row: dict[str, Any], rid: int | None) -> None:
        """Customer-only rules: unique entityId and a currency defaulted from the subsidiary."""
        if rt.name != "customer":
            return
        dup = cur.execute(
            "SELECT id FROM customer WHERE entityid = ? AND id IS NOT ?", [row.get("entityid"), rid]
        ).fetchone()
        if dup:
            raise user_error("This entity already exists.")
        if row.get("currency") is None and row.get("subsidiary") is not None:
            row["currency"] = cur.execute(
                "SELECT currency FROM subsidiary WHERE id = ?", [row["subsidiary"]]
            ).fetchone()[0]

    def _set_fullname(self, cur: sqlite3.Cursor, rid: int) -> None:
        name, parent = cur.execute("SELECT name, parent FROM subsidiary WHERE id = ?", [rid]).fetchone()
        full = name
        if parent is not None:
            pfull = cur.execute("SELECT fullname FROM subsidiary WHERE id = ?", [parent]).fetchone()
            if pfull and pfull[0]:
                full = f"{pfull[0]} : {name}"
        cur.execute("UPDATE subsidiary SET fullname = ? WHERE id = ?", [full, rid])

    def _update(self, cur: sqlite3.Cursor, rt: RecordType, rid: int, parsed: ParsedBody, replace_lines: bool) -> None:
        now = self._now()
        current = self.load(rt, rid)
        row = self._row_from(rt, current, parsed.values)
        if rt.is_transaction:
            lines = parsed.lines
            if replace_lines and lines is None:
                lines = []
            self._write_transaction(cur, rt, rid, row, lines, replace_lines=replace_lines, now=now)
            return
        self._check_required(rt, row)
        self._prepare_entity(cur, rt, row, rid)
        row["lastmodifieddate"] = now
        cols = [c for c in row if c != "id"]
        try:
            cur.execute(
                f'UPDATE "{rt.table}" SET {",".join(f"{c} = ?" for c in cols)} WHERE id = ?',
                [row[c] for c in cols] + [rid],
            )
        except sqlite3.IntegrityError:
            raise _duplicate_external_id(row.get("externalid")) from None
        if rt.name == "customer" and row.get("subsidiary") != current.get("subsidiary"):
            cur.execute(
                "UPDATE customersubsidiaryrelationship SET subsidiary = ?, lastmodifieddate = ?"
                " WHERE entity = ? AND isprimarysub = 'T'",
                [row["subsidiary"], now, rid],
            )
        if rt.name == "subsidiary":
            self._set_fullname(cur, rid)

    def _write_transaction(
        self,
        cur: sqlite3.Cursor,
        rt: RecordType,
        rid: int | None,
        row: dict[str, Any],
        new_lines: list[tuple[int, dict[str, Any]]] | None,
        *,
        replace_lines: bool,
        now: str,
    ) -> int:
        """Insert or rewrite a transaction, its main line and its item lines; recompute totals."""
        self._check_required(rt, row)
        existing = self.load_lines(rid) if rid is not None else []
        lines = self._merge_lines(cur, existing, new_lines, replace_lines)
        if not lines:
            raise user_error("You must enter at least one line item for this transaction.")
        customer = cur.execute(
            "SELECT subsidiary, currency FROM customer WHERE id = ?", [row["entity"]]
        ).fetchone()
        if row.get("subsidiary") is None:
            row["subsidiary"] = customer[0]  # defaulting from the customer: UNCONFIRMED
        if row.get("currency") is None:
            row["currency"] = customer[1]
        row.setdefault("exchangerate", 1.0)
        if row.get("trandate") is None:
            row["trandate"] = now[:10] + " 00:00:00"
        total = round(sum(ln["foreignamount"] for ln in lines), 2)
        row["foreigntotal"] = total
        row.setdefault("taxtotal", 0.0)
        if rt.name == "invoice":
            if row.get("duedate") is None:
                due = dates.from_store(row["trandate"]) + timedelta(days=30)
                row["duedate"] = due.strftime("%Y-%m-%d 00:00:00")
            paid = row.get("amountpaid") or 0.0
            row["amountpaid"] = paid
            row["amountremaining"] = round(max(total - paid, 0.0), 2)
            if row.get("status") in (None, "A", "B"):
                row["status"] = "B" if row["amountremaining"] == 0 and total > 0 else "A"
        elif row.get("status") is None:
            row["status"] = "B"
        row["lastmodifieddate"] = now
        subsidiary = row.pop("subsidiary")
        row.pop("id", None)
        if rid is None:
            row["createddate"] = now
            cols = list(row)
            try:
                cur.execute(
                    f'INSERT INTO "transaction" ({",".join(cols)}) VALUES ({",".join("?" * len(cols))})',
                    [row[c] for c in cols],
                )
            except sqlite3.IntegrityError:
                raise _duplicate_external_id(row.get("externalid")) from None
            rid = int(cur.lastrowid or 0)
            if not row.get("tranid"):
                cur.execute('UPDATE "transaction" SET tranid = ? WHERE id = ?', [f"{rt.number_prefix}{rid}", rid])
        else:
            cols = list(row)
            try:
                cur.execute(
                    f'UPDATE "transaction" SET {",".join(f"{c} = ?" for c in cols)} WHERE id = ?',
                    [row[c] for c in cols] + [rid],
                )
            except sqlite3.IntegrityError:
                raise _duplicate_external_id(row.get("externalid")) from None
        # lines are rewritten, but a line that stays keeps its unique key; new lines get new ones, and
        # the key of a dropped line is never given again (AUTOINCREMENT)
        keys: dict[int, int] = dict(cur.execute('SELECT id, uniquekey FROM transactionline WHERE "transaction" = ?', [rid]))
        cur.execute('DELETE FROM transactionline WHERE "transaction" = ?', [rid])
        entity = row["entity"]
        cur.execute(
            "INSERT INTO transactionline (uniquekey, id, \"transaction\", linesequencenumber, mainline, taxline, item,"
            " quantity, rate, foreignamount, netamount, memo, subsidiary, entity, linelastmodifieddate)"
            " VALUES (?, 0, ?, 0, 'T', 'F', NULL, NULL, NULL, ?, ?, ?, ?, ?, ?)",
            [keys.get(0), rid, total, total, row.get("memo"), subsidiary, entity, now],
        )
        cur.executemany(
            "INSERT INTO transactionline (uniquekey, id, \"transaction\", linesequencenumber, mainline, taxline, item,"
            " quantity, rate, foreignamount, netamount, memo, subsidiary, entity, linelastmodifieddate)"
            " VALUES (?, ?, ?, ?, 'F', 'F', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    keys.get(ln["id"]), ln["id"], rid, ln["id"], ln["item"], ln["quantity"], ln["rate"],
                    ln["foreignamount"], ln["foreignamount"], ln.get("memo"), subsidiary, entity, now,
                )
                for ln in lines
            ],
        )
        return rid

    def _merge_lines(
        self,
        cur: sqlite3.Cursor,
        existing: list[dict[str, Any]],
        new_lines: list[tuple[int, dict[str, Any]]] | None,
        replace: bool,
    ) -> list[dict[str, Any]]:
        lines = [] if replace else [dict(ln) for ln in existing]
        by_number = {ln["id"]: ln for ln in lines}
        next_no = max((ln["id"] for ln in lines), default=0) + 1
        for index, spec in new_lines or []:
            target = by_number.get(spec.get("line")) if "line" in spec else None
            if target is None:
                if "item" not in spec or spec["item"] is None:
                    raise user_error(
                        "Please enter value(s) for: Item.", error_path=f"item.items[{index}].item"
                    )
                target = {"id": next_no, "item": None, "quantity": None, "rate": None, "foreignamount": None, "memo": None}
                next_no += 1
                lines.append(target)
                by_number[target["id"]] = target
            for name, value in spec.items():
                f = LINE_BY_LOWER.get(name.lower())
                if f and f.column and name != "line":
                    target[f.column] = value
            explicit_amount = "amount" in spec and spec["amount"] is not None
            if target["quantity"] is None:
                target["quantity"] = 1.0
            if target["rate"] is None:
                if explicit_amount:
                    target["rate"] = round(spec["amount"] / (target["quantity"] or 1.0), 4)
                else:
                    price = cur.execute("SELECT baseprice FROM item WHERE id = ?", [target["item"]]).fetchone()
                    target["rate"] = float(price[0] or 0.0) if price else 0.0
            if not explicit_amount:
                target["foreignamount"] = round(target["quantity"] * target["rate"], 2)
        return lines

    # ----------------------------------------------------------------- delete / transform

    def delete(self, rt: RecordType, rid: int) -> None:
        row = self.load(rt, rid)
        dependents = {
            "customer": ('SELECT 1 FROM "transaction" WHERE entity = ? LIMIT 1', [rid]),
            "subsidiary": ("SELECT 1 FROM customer WHERE subsidiary = ? LIMIT 1", [rid]),
            "salesOrder": ('SELECT 1 FROM "transaction" WHERE createdfrom = ? LIMIT 1', [rid]),
        }
        if rt.table == "item":
            dependents[rt.name] = ("SELECT 1 FROM transactionline WHERE item = ? LIMIT 1", [rid])
        with self.store.write() as cur:
            check = dependents.get(rt.name)
            if check and cur.execute(*check).fetchone():
                raise user_error("This record cannot be deleted because it has dependent records.")
            name_sql = REF_NAME_SQL["item" if rt.table == "item" else rt.name][2]
            name = cur.execute(f'SELECT {name_sql} FROM "{rt.table}" WHERE id = ?', [rid]).fetchone()[0]
            cur.execute(f'DELETE FROM "{rt.table}" WHERE id = ?', [rid])
            if rt.is_transaction:
                cur.execute('DELETE FROM transactionline WHERE "transaction" = ?', [rid])
            if rt.name == "customer":
                cur.execute("DELETE FROM customersubsidiaryrelationship WHERE entity = ?", [rid])
            cur.execute(
                "INSERT INTO deletedrecord (recordid, recordtypeid, type, name, externalid, deleteddate, context,"
                " iscustomrecord) VALUES (?,?,?,?,?,?,'REST Web Services','F')",
                [rid, rt.name.lower(), rt.label, name, row.get("externalid"), self._now()],
            )

    def transform(self, rt: RecordType, rid: int, target: str, body: Any, validation: Validation) -> WriteResult:
        """``POST /salesOrder/{id}/!transform/invoice``: bill a sales order."""
        target_rt = self.record_type(target)
        if rt.name != "salesOrder" or target_rt.name != "invoice":
            raise user_error(f"Transformation of {rt.name} to {target} is not supported.")
        source = self.load(rt, rid)
        if source["status"] in ("G", "H", "C"):
            raise user_error(f"You can not initialize invoice: invalid reference {rid}.")
        parsed = self.bodies.parse(target_rt, body if body is not None else {}, validation)
        values = {
            "entity": source["entity"],
            "subsidiary": source["subsidiary"],
            "currency": source["currency"],
            "exchangeRate": source["exchangerate"],
            "memo": source["memo"],
            "otherRefNum": source["otherrefnum"],
            "createdFrom": rid,
        }
        values.update(parsed.values)
        if parsed.lines is None:
            parsed.lines = [
                (i, {"item": ln["item"], "quantity": ln["quantity"], "rate": ln["rate"],
                     "amount": ln["foreignamount"], "description": ln["memo"]})
                for i, ln in enumerate(self.load_lines(rid))
            ]
        parsed.values = values
        with self.store.write() as cur:
            new_id = self._insert(cur, target_rt, parsed)
            cur.execute(
                'UPDATE "transaction" SET status = \'G\', lastmodifieddate = ? WHERE id = ?', [self._now(), rid]
            )
        return WriteResult(target_rt, new_id, parsed.warnings)

    def pay_invoice(self, rid: int, amount: float | None = None) -> None:
        """Record a payment against an invoice (control API helper; no payment record is made)."""
        row = self.load(RECORD_TYPES["invoice"], rid)
        remaining = row["amountremaining"] or 0.0
        pay = remaining if amount is None else min(amount, remaining)
        paid = round((row["amountpaid"] or 0.0) + pay, 2)
        left = round(remaining - pay, 2)
        now = self._now()
        with self.store.write() as cur:
            cur.execute(
                'UPDATE "transaction" SET amountpaid = ?, amountremaining = ?, status = ?, lastmodifieddate = ?'
                " WHERE id = ?",
                [paid, left, "B" if left == 0 else "A", now, rid],
            )
            cur.execute('UPDATE transactionline SET linelastmodifieddate = ? WHERE "transaction" = ?', [now, rid])


def _duplicate_external_id(value: Any) -> NsError:
    return user_error(f"A record with the external ID {value} already exists.")
