"""The record API's reads: record types, ids, loading, serialising records to JSON, listing, paging.

Records live in the SuiteQL tables of :mod:`.store`; :class:`RecordReader` maps columns back onto
record fields. Writes build on it in :mod:`.records`, request bodies are checked in :mod:`.record_bodies`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from . import dates
from .errors import NsError, invalid_parameter, nonexistent_id, unknown_record_type, user_error
from .qfilter import compile_q
from .schema import (
    ITEM_TYPE_RECORD,
    LINE_FIELDS,
    RECORD_TYPES,
    RECORD_TYPES_LOWER,
    REF_NAME_SQL,
    Field,
    RecordType,
)
from .settings import EmulatorSettings
from .store import TRANSACTION_STATUSES, Store

RECORD_PATH = "/services/rest/record/v1"


class RecordReader:
    """Looks records up and serialises them the way the record API's GETs do."""

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
                out[f.name] = self.sublist(rt, f, row, self_href, base, expand, simple_enum)
                continue
            value = row.get(f.column or "")
            if value is None:
                continue
            out[f.name] = self._value(f, value, base, simple_enum, tx_type)
        return out

    def sublist(
        self, rt: RecordType, f: Field, row: dict[str, Any], self_href: str, base: str,
        expand: bool, simple_enum: bool,
    ) -> dict[str, Any]:
        """Sublist ``f`` of a record: a self-link stub, or (``expand``) its lines as a collection."""
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
