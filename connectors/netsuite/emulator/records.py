"""The record API (``/services/rest/record/v1``): CRUD, upsert, list, transform, metadata.

Records live in the SuiteQL tables of :mod:`.store`; this module maps record fields onto
columns, validates bodies the way NetSuite does and serialises records back to JSON.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from . import dates
from .errors import (
    NsError,
    invalid_content,
    invalid_parameter,
    nonexistent_id,
    unknown_record_type,
    user_error,
)
from .qfilter import compile_q
from .schema import (
    ITEM_TYPE_RECORD,
    LINE_BY_LOWER,
    LINE_FIELDS,
    LOOKUP_TARGETS,
    RECORD_TYPES,
    RECORD_TYPES_LOWER,
    REF_NAME_SQL,
    Field,
    RecordType,
)
from .settings import EmulatorSettings
from .store import TRANSACTION_STATUSES, Store

RECORD_PATH = "/services/rest/record/v1"
_UNKNOWN_FIELD_HINT = "The field is not defined for this record type and was ignored."


@dataclass
class WriteResult:
    """Outcome of a write: the record's id and any property-validation warnings."""

    rt: RecordType
    id: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class Validation:
    """Per-request validation modes from the ``X-NetSuite-Property*Validation`` headers."""

    names: str = "Warning"
    values: str = "Error"


@dataclass
class _Parsed:
    values: dict[str, Any] = field(default_factory=dict)
    lines: list[tuple[int, dict[str, Any]]] | None = None
    warnings: list[str] = field(default_factory=list)


class RecordService:
    """Implements every record API operation against the store."""

    def __init__(self, store: Store, settings: EmulatorSettings) -> None:
        self.store = store
        self.settings = settings

    # ----------------------------------------------------------------- lookups

    def record_type(self, name: str) -> RecordType:
        rt = RECORD_TYPES_LOWER.get(name.lower())
        if rt is None:
            raise unknown_record_type(name)
        denied = {d.lower() for d in self.settings.denied_record_types}
        if rt.name.lower() in denied:
            raise NsError(
                403,
                "INSUFFICIENT_PERMISSION",
                f"Permission Violation: You need the '{rt.permission}' permission to access the "
                f"'{rt.name}' record type. Please contact your account administrator.",
            )
        return rt

    def _base_sql(self, rt: RecordType) -> tuple[str, list[Any]]:
        if rt.is_transaction:
            sql = (
                'SELECT t.*, (SELECT tl.subsidiary FROM transactionline tl WHERE tl."transaction" = t.id'
                " AND tl.mainline = 'T') AS subsidiary FROM \"transaction\" t"
            )
        else:
            sql = f'SELECT t.* FROM "{rt.table}" t'
        if rt.discriminator:
            return sql + f" WHERE t.{rt.discriminator[0]} = ?", [rt.discriminator[1]]
        return sql + " WHERE 1 = 1", []

    def _missing(self, rt: RecordType, raw_id: int | None) -> NsError:
        if rt.is_transaction and raw_id is not None and self.settings.missing_transaction_as_400:
            # Evidence #8: a GET of a nonexistent transaction id answered 400, not 404.
            return user_error("Transaction type specified is incorrect.")
        return nonexistent_id()

    def resolve_id(self, rt: RecordType, token: str) -> int:
        """Internal id for ``token`` (``123`` or ``eid:EXT``); 404 if no such record."""
        if token.lower().startswith("eid:"):
            sql, params = self._base_sql(rt)
            row = self.store.query(sql.replace("t.*", "t.id", 1) + " AND t.externalid = ?", [*params, token[4:]])
            if not row:
                raise nonexistent_id()
            return int(row[0][0])
        if not token.isdigit():
            raise nonexistent_id()
        rid = int(token)
        if self.store.scalar(f'SELECT 1 FROM "{rt.table}" WHERE id = ?', [rid]) is None:
            raise self._missing(rt, rid) if rt.is_transaction else nonexistent_id()
        if rt.discriminator and self.store.scalar(
            f'SELECT 1 FROM "{rt.table}" WHERE id = ? AND {rt.discriminator[0]} = ?', [rid, rt.discriminator[1]]
        ) is None:
            raise self._missing(rt, rid)
        return rid

    def load(self, rt: RecordType, rid: int) -> dict[str, Any]:
        sql, params = self._base_sql(rt)
        rows = self.store.query_dicts(sql + " AND t.id = ?", [*params, rid])
        if not rows:
            raise nonexistent_id()
        return rows[0]

    def load_lines(self, tx_id: int) -> list[dict[str, Any]]:
        return self.store.query_dicts(
            'SELECT * FROM transactionline WHERE "transaction" = ? AND mainline = \'F\' ORDER BY id', [tx_id]
        )

    # ----------------------------------------------------------------- serialisation

    def _ref(self, target: str, value: Any, base: str) -> dict[str, Any]:
        table, id_col, name_sql = REF_NAME_SQL[target]
        extra = ", itemtype" if target == "item" else ""
        row = self.store.query(f"SELECT {name_sql}{extra} FROM {table} WHERE {id_col} = ?", [value])
        ref: dict[str, Any] = {"links": [], "id": str(value)}
        if target in RECORD_TYPES or target == "item":
            link_type = target
            if target == "item" and row:
                link_type = ITEM_TYPE_RECORD.get(row[0][1], "inventoryItem")
            ref["links"] = [{"rel": "self", "href": f"{base}{RECORD_PATH}/{link_type.lower()}/{value}"}]
        if row and row[0][0] is not None:
            ref["refName"] = row[0][0]
        return ref

    def _value(
        self, f: Field, value: Any, base: str, simple_enum: bool, tx_type: str | None = None
    ) -> Any:
        kind = f.kind
        if kind == "id":
            return str(value)
        if kind == "boolean":
            return value == "T"
        if kind == "integer":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "date":
            return dates.iso_date(value)
        if kind == "datetime":
            return dates.iso_datetime(value)
        if kind == "ref":
            return self._ref(f.target or "", value, base)
        if kind == "enum":
            if simple_enum:
                return value
            label = TRANSACTION_STATUSES.get(tx_type or "", {}).get(value, value)
            return {"id": value, "refName": label}
        return value

    def serialize(
        self,
        rt: RecordType,
        row: dict[str, Any],
        base: str,
        *,
        expand: bool = False,
        simple_enum: bool = False,
        fields: set[str] | None = None,
    ) -> dict[str, Any]:
        """A record GET body: self link, then non-empty fields (sublists as stubs unless expanded)."""
        self_href = f"{base}{RECORD_PATH}/{rt.name}/{row['id']}"
        out: dict[str, Any] = {"links": [{"rel": "self", "href": self_href}]}
        tx_type = row.get("type") if rt.is_transaction else None
        for f in rt.fields:
            if fields is not None and f.name.lower() not in fields and f.name != "id":
                continue
            if f.kind == "sublist":
                out[f.name] = self._sublist(rt, f, row, self_href, base, expand, simple_enum)
                continue
            value = row.get(f.column or "")
            if value is None:
                continue
            out[f.name] = self._value(f, value, base, simple_enum, tx_type)
        return out

    def _sublist(
        self, rt: RecordType, f: Field, row: dict[str, Any], self_href: str, base: str,
        expand: bool, simple_enum: bool,
    ) -> dict[str, Any]:
        href = f"{self_href}/{f.name}"
        if not expand:
            return {"links": [{"rel": "self", "href": href}]}
        lines = [self.serialize_line(ln, href, base) for ln in self.load_lines(row["id"])] if f.name == "item" else []
        return {
            "links": [{"rel": "self", "href": href}],
            "count": len(lines),
            "hasMore": False,
            "items": lines,
            "offset": 0,
            "totalResults": len(lines),
        }

    def serialize_line(self, line: dict[str, Any], sublist_href: str, base: str) -> dict[str, Any]:
        out: dict[str, Any] = {"links": [{"rel": "self", "href": f"{sublist_href}/{line['id']}"}]}
        for f in LINE_FIELDS:
            value = line.get(f.column or "")
            if value is not None:
                out[f.name] = self._value(f, value, base, False)
        return out

    # ----------------------------------------------------------------- body parsing

    def _coerce(self, f: Field, value: Any, path: str, validation: Validation, warnings: list[str]) -> Any:
        """Validate one body value; returns the stored form. Raises 400 INVALID_CONTENT."""
        if value is None:
            return None
        expected = {
            "string": "a string",
            "float": "a number",
            "integer": "an integer",
            "boolean": "a boolean",
            "date": "a date (YYYY-MM-DD)",
            "datetime": "a date-time (ISO 8601)",
            "ref": "a reference {\"id\": \"…\"}",
        }.get(f.kind, "a value")
        ok = True
        stored: Any = None
        if f.kind == "string":
            ok = isinstance(value, str)
            stored = value
        elif f.kind in ("float", "integer"):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok and f.kind == "integer":
                ok = float(value).is_integer()
            stored = float(value) if ok and f.kind == "float" else (int(value) if ok else None)
        elif f.kind == "boolean":
            ok = isinstance(value, bool)
            stored = "T" if value is True else "F"
        elif f.kind == "date":
            stored = dates.parse_body_date(value) if isinstance(value, str) else None
            ok = stored is not None
        elif f.kind == "datetime":
            stored = dates.parse_body_datetime(value) if isinstance(value, str) else None
            ok = stored is not None
        elif f.kind == "ref":
            return self._coerce_ref(f, value, path, validation, warnings)
        if ok:
            return stored
        detail = f"Invalid content in the request body. The value of field '{path}' must be {expected}."
        if validation.values == "Error":
            raise invalid_content(detail, error_path=path)
        if validation.values == "Warning":
            warnings.append(detail)
        return _SKIP

    def _coerce_ref(self, f: Field, value: Any, path: str, validation: Validation, warnings: list[str]) -> Any:
        target = f.target or ""
        raw: Any = value
        by_external = False
        if isinstance(value, dict):
            if "id" in value:
                raw = value["id"]
            elif "externalId" in value:
                raw, by_external = value["externalId"], True
            else:
                raw = None
        bad_type = raw is None or isinstance(raw, bool) or not isinstance(raw, str | int)
        if bad_type:
            detail = f"Invalid content in the request body. The value of field '{path}' must be a reference."
            if validation.values == "Error":
                raise invalid_content(detail, error_path=path)
            warnings.append(detail)
            return _SKIP
        if target in LOOKUP_TARGETS:
            table, id_col, _ = LOOKUP_TARGETS[target]
            sql, params = f"SELECT {id_col} FROM {table} WHERE {id_col} = ?", [raw]
        else:
            table, id_col, _ = REF_NAME_SQL[target]
            col = "externalid" if by_external else id_col
            sql, params = f"SELECT {id_col} FROM {table} WHERE {col} = ?", [str(raw) if by_external else raw]
            if target in ("salesOrder", "invoice"):
                sql += " AND type = ?"
                params.append("SalesOrd" if target == "salesOrder" else "CustInvc")
        found = None
        if by_external or str(raw).isdigit():
            if not by_external:
                params[0] = int(raw)
            found = self.store.scalar(sql, params)
        if found is None:
            raise invalid_content(
                f"Invalid value for the resource or sub-resource field '{path}'. Provide a valid value.",
                error_path=path,
            )
        return int(found)

    def _parse(self, rt: RecordType, body: Any, validation: Validation) -> _Parsed:
        if not isinstance(body, dict):
            raise invalid_content("Invalid content in the request body.")
        parsed = _Parsed()
        ci = self.settings.case_insensitive_fields
        for key, value in body.items():
            if key in ("links", "refName"):
                continue
            f = rt.field(key, ci)
            if f is None:
                self._unknown_field(key, validation, parsed.warnings)
                continue
            if f.read_only:
                continue
            if f.kind == "sublist":
                if f.name == "item":
                    parsed.lines = self._parse_lines(value, validation, parsed.warnings)
                continue
            coerced = self._coerce(f, value, f.name, validation, parsed.warnings)
            if coerced is not _SKIP:
                parsed.values[f.name] = coerced
        return parsed

    def _unknown_field(self, key: str, validation: Validation, warnings: list[str]) -> None:
        message = f"Unknown field name {key}. {_UNKNOWN_FIELD_HINT}"
        if validation.names == "Error":
            raise NsError(400, "NONEXISTENT_FIELD", f"Unknown field name {key}.", error_path=key)
        if validation.names == "Warning":
            warnings.append(message)

    def _parse_lines(
        self, value: Any, validation: Validation, warnings: list[str]
    ) -> list[tuple[int, dict[str, Any]]]:
        if not isinstance(value, dict) or not isinstance(value.get("items", []), list):
            raise invalid_content(
                "Invalid content in the request body. The value of field 'item' must be a sublist "
                "object with an 'items' array.",
                error_path="item",
            )
        lines: list[tuple[int, dict[str, Any]]] = []
        for i, line in enumerate(value.get("items", [])):
            if not isinstance(line, dict):
                raise invalid_content("Invalid content in the request body.", error_path=f"item.items[{i}]")
            parsed: dict[str, Any] = {}
            for key, v in line.items():
                if key == "links":
                    continue
                f = LINE_BY_LOWER.get(key.lower())
                if f is None:
                    self._unknown_field(f"item.items[{i}].{key}", validation, warnings)
                    continue
                if f.name == "line":
                    if isinstance(v, int) and not isinstance(v, bool):
                        parsed["line"] = v
                    continue
                coerced = self._coerce(f, v, f"item.items[{i}].{f.name}", validation, warnings)
                if coerced is not _SKIP:
                    parsed[f.name] = coerced
            lines.append((i, parsed))
        return lines

    # ----------------------------------------------------------------- writes

    def _now(self) -> str:
        return dates.to_store(self.settings.clock.now())

    def create(self, rt: RecordType, body: Any, validation: Validation, external_id: str | None = None) -> WriteResult:
        parsed = self._parse(rt, body, validation)
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
        parsed = self._parse(rt, body, validation)
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

    def _insert(self, cur: sqlite3.Cursor, rt: RecordType, parsed: _Parsed) -> int:
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

    def _update(self, cur: sqlite3.Cursor, rt: RecordType, rid: int, parsed: _Parsed, replace_lines: bool) -> None:
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
            cur.execute('DELETE FROM transactionline WHERE "transaction" = ?', [rid])
        entity = row["entity"]
        cur.execute(
            "INSERT INTO transactionline (id, \"transaction\", linesequencenumber, mainline, taxline, item, quantity,"
            " rate, foreignamount, netamount, memo, subsidiary, entity, linelastmodifieddate)"
            " VALUES (0, ?, 0, 'T', 'F', NULL, NULL, NULL, ?, ?, ?, ?, ?, ?)",
            [rid, total, total, row.get("memo"), subsidiary, entity, now],
        )
        cur.executemany(
            "INSERT INTO transactionline (id, \"transaction\", linesequencenumber, mainline, taxline, item, quantity,"
            " rate, foreignamount, netamount, memo, subsidiary, entity, linelastmodifieddate)"
            " VALUES (?, ?, ?, 'F', 'F', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    ln["id"], rid, ln["id"], ln["item"], ln["quantity"], ln["rate"], ln["foreignamount"],
                    ln["foreignamount"], ln.get("memo"), subsidiary, entity, now,
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
        parsed = self._parse(target_rt, body if body is not None else {}, validation)
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

    # ----------------------------------------------------------------- list

    def list(
        self, rt: RecordType, q: str | None, limit: int, offset: int
    ) -> tuple[list[int], int]:
        """Ids for one page plus the total matching count (ordered by id)."""
        sql, params = self._base_sql(rt)
        where = ""
        if q:
            frag, qparams = compile_q(q, rt, lambda f: self._filter_column(rt, f), self.settings.date_format)
            where = f" AND ({frag})"
            params = params + qparams
        id_sql = 'SELECT t.id FROM "transaction" t WHERE t.type = ?' if rt.is_transaction else sql.replace(
            "t.*", "t.id", 1
        )
        total = int(self.store.scalar(f"SELECT COUNT(*) FROM ({id_sql}{where})", params) or 0)
        rows = self.store.query(f"{id_sql}{where} ORDER BY t.id LIMIT ? OFFSET ?", [*params, limit, offset])
        return [int(r[0]) for r in rows], total

    @staticmethod
    def _filter_column(rt: RecordType, f: Field) -> str:
        if rt.is_transaction and f.column == "subsidiary":
            # transactions keep their subsidiary on the main line (fact sheet §7)
            return (
                "(SELECT tl.subsidiary FROM transactionline tl"
                " WHERE tl.\"transaction\" = t.id AND tl.mainline = 'T')"
            )
        return f"t.{f.column}"


class _Skip:
    """Marker for a body value dropped under Warning/Ignore validation."""


_SKIP = _Skip()


def _duplicate_external_id(value: Any) -> NsError:
    return user_error(f"A record with the external ID {value} already exists.")


def record_location(base: str, rt: RecordType, rid: int) -> str:
    """Absolute ``Location`` of a record; NetSuite lowercases the type segment (evidence #11)."""
    return f"{base}{RECORD_PATH}/{rt.name.lower()}/{rid}"


def collection_href(base: str, path: str, limit: int, offset: int, q: str | None) -> str:
    href = f"{base}{path}?limit={limit}&offset={offset}"
    if q:
        href += "&q=" + quote(q, safe="")
    return href


def parse_paging(args: Any, page_cap: int) -> tuple[int, int, bool]:
    """Validate ``limit``/``offset`` URL parameters. Returns ``(limit, offset, given)``."""
    raw_limit, raw_offset = args.get("limit"), args.get("offset")
    given = raw_limit is not None or raw_offset is not None
    try:
        limit = int(raw_limit) if raw_limit is not None else page_cap
    except ValueError:
        raise invalid_parameter(
            f"Invalid value for query parameter 'limit': {raw_limit}.", query_param="limit"
        ) from None
    try:
        offset = int(raw_offset) if raw_offset is not None else 0
    except ValueError:
        raise invalid_parameter(
            f"Invalid value for query parameter 'offset': {raw_offset}.", query_param="offset"
        ) from None
    if limit < 1 or limit > page_cap:
        raise invalid_parameter(
            f"Invalid value for query parameter 'limit'. The value must be between 1 and {page_cap}.",
            query_param="limit",
        )
    if offset < 0 or offset % limit != 0:
        raise invalid_parameter(
            "Invalid value for query parameter 'offset'. The offset must be a multiple of the limit.",
            query_param="offset",
        )
    return limit, offset, given
