"""The org's records: validated create, update and delete, with the audit fields Salesforce keeps.

Every write sets ``LastModifiedDate``, ``LastModifiedById`` and ``SystemModstamp`` from the emulator
clock; a delete moves the record to the recycle bin (``IsDeleted`` true, seen only by ``queryAll``).
Calculated fields (``Name`` of a contact, ``IsWon`` of an opportunity, ``TotalPrice`` of a line) are
recomputed on each write. Callers hold :attr:`OrgStore.lock` around a request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from connector_core.testing.emulator import Clock

from .errors import SalesforceError, bad_request, not_found
from .ids import IdFactory, canonical_id
from .schema import SObjectType, build_types
from .values import coerce, from_epoch

Record = dict[str, Any]


class OrgStore:
    """Records of every sObject type, by 18-character id."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.types: dict[str, SObjectType] = build_types()
        self.ids = IdFactory()
        self.records: dict[str, dict[str, Record]] = {name: {} for name in self.types}
        self.by_prefix = {t.key_prefix: t.name for t in self.types.values()}
        self.default_user_id = ""

    def clear(self) -> None:
        self.records = {name: {} for name in self.types}
        self.ids.reset()
        self.default_user_id = ""

    # -- lookups -----------------------------------------------------------------------------------
    def sobject(self, name: str) -> SObjectType:
        """A type by name in any letter case; 404 NOT_FOUND as the REST API answers an unknown type."""
        found = self.find_type(name)
        if found is None:
            raise not_found(f"The requested resource does not exist: sObject type '{name}' is not supported.")
        return found

    def find_type(self, name: str) -> SObjectType | None:
        found = self.types.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        return next((t for t in self.types.values() if t.name.lower() == lowered), None)

    def get(self, sobject: SObjectType, record_id: str, *, deleted_ok: bool = False) -> Record:
        normal = canonical_id(record_id)
        record = self.records[sobject.name].get(normal) if normal else None
        if record is None:
            raise not_found(f"Provided external ID field does not exist or is not accessible: {record_id}"
                            if normal is None else "The requested resource does not exist")
        if record["IsDeleted"] and not deleted_ok:
            raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return record

    def type_of_id(self, record_id: str) -> SObjectType | None:
        name = self.by_prefix.get(record_id[:3])
        return self.types[name] if name else None

    def rows(self, sobject: SObjectType, *, include_deleted: bool = False) -> Iterator[Record]:
        for record in self.records[sobject.name].values():
            if include_deleted or not record["IsDeleted"]:
                yield record

    def find_by(self, sobject: SObjectType, field_name: str, value: str) -> list[Record]:
        """Live records whose ``field_name`` equals ``value`` (external ids compare case-insensitively)."""
        lowered = value.lower()
        return [r for r in self.rows(sobject) if isinstance(r.get(field_name), str)
                and r[field_name].lower() == lowered]

    # -- writes ------------------------------------------------------------------------------------
    def clean(self, sobject: SObjectType, body: Mapping[str, Any], *, creating: bool) -> Record:
        """The body's fields as stored values, checked against the type's fields."""
        values: Record = {}
        unknown = [name for name in body if name != "attributes" and sobject.field(name) is None]
        if unknown:
            raise bad_request("INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {sobject.name}",
                              [unknown[0]])
        locked = []
        for name, raw in body.items():
            if name == "attributes":
                continue
            field = sobject.field(name)
            assert field is not None
            allowed = (field.createable if creating else field.updateable) and not field.system
            if not allowed:
                locked.append(field.name)
                continue
            values[field.name] = coerce(field, raw)
        if locked:
            raise bad_request("INVALID_FIELD_FOR_INSERT_UPDATE",
                              f"Unable to create/update fields: {', '.join(locked)}. Please check the security "
                              "settings of this field and verify that it is read/write for your profile or "
                              "permission set.", locked)
        for name, value in values.items():
            field = sobject.fields[name]
            if field.type == "reference" and value is not None:
                self._check_reference(field.reference_to, value, name)
        return values

    def _check_reference(self, targets: tuple[str, ...], value: str, name: str) -> None:
        for target in targets:
            record = self.records[target].get(value)
            if record is not None and not record["IsDeleted"]:
                return
        raise bad_request("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {value}", [name])

    def create(self, sobject: SObjectType, body: Mapping[str, Any], *, user_id: str | None = None,
               at: datetime | None = None) -> Record:
        values = self.clean(sobject, body, creating=True)
        now = at or from_epoch(self.clock.now())
        record: Record = dict.fromkeys(sobject.fields)
        for field in sobject.fields.values():
            if field.type == "boolean":
                record[field.name] = False
        if "CurrencyIsoCode" in sobject.fields:
            record["CurrencyIsoCode"] = "USD"
        if "OwnerId" in sobject.fields:
            record["OwnerId"] = user_id or self.default_user_id or None
        record.update(values)
        missing = [f.name for f in sobject.fields.values() if f.required and record.get(f.name) in (None, "")]
        if missing:
            raise bad_request("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                              missing)
        self._check_unique(sobject, record, None)
        record_id = self.ids.new(sobject.key_prefix)
        record.update({"Id": record_id, "IsDeleted": False, "CreatedDate": now, "LastModifiedDate": now,
                       "SystemModstamp": now, "CreatedById": user_id or self.default_user_id or record_id,
                       "LastModifiedById": user_id or self.default_user_id or record_id})
        _calculate(sobject.name, record)
        self.records[sobject.name][record_id] = record
        return record

    def update(self, sobject: SObjectType, record_id: str, body: Mapping[str, Any], *,
               user_id: str | None = None) -> Record:
        record = self.get(sobject, record_id)
        values = self.clean(sobject, body, creating=False)
        missing = [name for name, value in values.items()
                   if value in (None, "") and sobject.fields[name].required]
        if missing:
            raise bad_request("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                              missing)
        candidate = {**record, **values}
        self._check_unique(sobject, candidate, record["Id"])
        record.update(values)
        self.touch(sobject, record, user_id=user_id)
        return record

    def touch(self, sobject: SObjectType, record: Record, *, user_id: str | None = None) -> None:
        now = from_epoch(self.clock.now())
        record["LastModifiedDate"] = now
        record["SystemModstamp"] = now
        if user_id:
            record["LastModifiedById"] = user_id
        _calculate(sobject.name, record)

    def delete(self, sobject: SObjectType, record_id: str) -> Record:
        record = self.get(sobject, record_id)
        record["IsDeleted"] = True
        record["SystemModstamp"] = from_epoch(self.clock.now())
        if sobject.name == "Opportunity":  # line items go to the recycle bin with their opportunity
            lines = self.types["OpportunityLineItem"]
            for line in self.rows(lines):
                if line["OpportunityId"] == record["Id"]:
                    line["IsDeleted"] = True
                    line["SystemModstamp"] = record["SystemModstamp"]
        return record

    def _check_unique(self, sobject: SObjectType, record: Record, own_id: str | None) -> None:
        for field in sobject.fields.values():
            value = record.get(field.name)
            if not field.unique or field.system or value in (None, ""):
                continue
            for other in self.find_by(sobject, field.name, str(value)):
                if other["Id"] != own_id:
                    raise bad_request("DUPLICATE_VALUE", f"duplicate value found: {field.name} duplicates value "
                                      f"on record with id: {other['Id']}", [field.name])


def _calculate(type_name: str, record: Record) -> None:
    if type_name in ("Contact", "User"):
        record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
    elif type_name == "Opportunity":
        stage = record.get("StageName")
        record["IsClosed"] = stage in ("Closed Won", "Closed Lost")
        record["IsWon"] = stage == "Closed Won"
    elif type_name == "OpportunityLineItem":
        quantity, price = record.get("Quantity"), record.get("UnitPrice")
        record["TotalPrice"] = round(quantity * price, 2) if quantity is not None and price is not None else None
        record["Name"] = record.get("ProductCode") or record.get("Description") or "Product"
