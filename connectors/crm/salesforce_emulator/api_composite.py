"""sObject Collections (``/composite/sobjects``): create, update, upsert, delete and retrieve up to 200 records.

The reply is one result per record, in request order: ``{"id", "success", "errors": [{"statusCode",
"message", "fields"}]}`` (``created`` too for upserts). With ``allOrNone: false`` each record stands
alone; with ``allOrNone: true`` one failure rolls every record back, and the records that were fine
report ``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .api_sobjects import MultipleChoices, record_json, upsert_record
from .call import Call, Reply
from .errors import SalesforceError, bad_request
from .ids import canonical_id
from .schema import SObjectType
from .store import OrgStore, Record

_ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}


def _limit(call: Call, count: int) -> None:
    cap = call.org.settings.collection_max
    if count > cap:
        raise bad_request(
            "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {cap} records into this call"
        )


def _payload(call: Call) -> tuple[bool, list[Any]]:
    body = call.json_object()
    records = body.get("records")
    if not isinstance(records, list):
        raise bad_request("JSON_PARSER_ERROR", "The request body must have a 'records' list")
    _limit(call, len(records))
    return bool(body.get("allOrNone", False)), records


def _record_type(store: OrgStore, item: Any) -> SObjectType:
    if not isinstance(item, dict):
        raise bad_request("JSON_PARSER_ERROR", "Each record must be a JSON object")
    attributes = item.get("attributes")
    type_name = attributes.get("type") if isinstance(attributes, dict) else None
    if not type_name:
        raise bad_request("INVALID_TYPE", "Must send a concrete entity type.")
    found = store.find_type(str(type_name))
    if found is None:
        raise bad_request("INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
    return found


class _Snapshot:
    """Pre-images of the types a batch touches, to roll an all-or-none batch back."""

    def __init__(self, store: OrgStore) -> None:
        self.store = store
        self.saved: dict[str, dict[str, Record]] = {}

    def keep(self, sobject: SObjectType) -> None:
        names = [sobject.name] + (["OpportunityLineItem"] if sobject.name == "Opportunity" else [])
        for name in names:
            if name not in self.saved:
                self.saved[name] = {rid: dict(rec) for rid, rec in self.store.records[name].items()}

    def restore(self) -> None:
        for name, records in self.saved.items():
            self.store.records[name] = records


def _run(
    call: Call, all_or_none: bool, items: list[Any], one: Callable[[Any, _Snapshot], dict[str, Any]]
) -> Reply:
    snapshot = _Snapshot(call.org.store)
    results: list[dict[str, Any]] = []
    failed = False
    for item in items:
        try:
            results.append({"success": True, "errors": [], **one(item, snapshot)})
        except SalesforceError as exc:
            failed = True
            error = (
                exc.record_error()
                if not isinstance(exc, MultipleChoices)
                else {
                    "statusCode": "MULTIPLE_CHOICES",
                    "message": "More than one record found for external id: "
                    + ", ".join(u.rsplit("/", 1)[-1] for u in exc.urls),
                    "fields": [],
                }
            )
            result: dict[str, Any] = {"success": False, "errors": [error]}
            known_id = item.get("Id") if isinstance(item, dict) else item if isinstance(item, str) else None
            if known_id:
                result = {"id": known_id, **result}
            results.append(result)
            if all_or_none:
                break
    if all_or_none and failed:
        snapshot.restore()
        store = call.org.store
        rolled = []
        for result in results:
            if result["success"]:  # rolled back: a record it created no longer exists, so it has no id
                kept = result.get("id")
                kept_type = store.type_of_id(kept) if kept else None
                exists = kept_type is not None and kept in store.records[kept_type.name]
                result = {
                    **({"id": kept} if exists else {}),
                    "success": False,
                    "errors": [dict(_ROLLED_BACK)],
                }
            rolled.append(result)
        rolled.extend({"success": False, "errors": [dict(_ROLLED_BACK)]} for _ in items[len(results) :])
        results = rolled
    return Reply(200, results)


def create(call: Call) -> Reply:
    all_or_none, items = _payload(call)
    store = call.org.store
    user = call.session.user_id if call.session else None

    def one(item: Any, snapshot: _Snapshot) -> dict[str, Any]:
        sobject = _record_type(store, item)
        if "Id" in item:
            raise bad_request("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        snapshot.keep(sobject)
        return {"id": store.create(sobject, item, user_id=user)["Id"]}

    return _run(call, all_or_none, items, one)


def update(call: Call) -> Reply:
    all_or_none, items = _payload(call)
    store = call.org.store
    user = call.session.user_id if call.session else None

    def one(item: Any, snapshot: _Snapshot) -> dict[str, Any]:
        sobject = _record_type(store, item)
        record_id = item.get("Id")
        if not record_id:
            raise bad_request("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
        snapshot.keep(sobject)
        body = {k: v for k, v in item.items() if k != "Id"}
        return {"id": store.update(sobject, str(record_id), body, user_id=user)["Id"]}

    return _run(call, all_or_none, items, one)


def upsert(call: Call, sobject_name: str, field_name: str) -> Reply:
    all_or_none, items = _payload(call)
    store = call.org.store
    sobject = store.sobject(sobject_name)
    field = sobject.field(field_name)
    key = field.name if field is not None else field_name
    values = [str(i.get(key)) for i in items if isinstance(i, dict) and i.get(key) is not None]
    repeated = {v.lower() for v in values if sum(1 for w in values if w.lower() == v.lower()) > 1}

    def one(item: Any, snapshot: _Snapshot) -> dict[str, Any]:
        item_type = _record_type(store, item)
        if item_type.name != sobject.name:
            raise bad_request("INVALID_TYPE", f"Record type {item_type.name} does not match {sobject.name}")
        value = item.get(key)
        if value in (None, ""):
            raise bad_request("MISSING_ARGUMENT", f"{key} not specified", [key])
        if str(value).lower() in repeated:
            raise bad_request("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}", [key])
        snapshot.keep(sobject)
        body = {k: v for k, v in item.items() if k != "attributes"}
        return upsert_record(call, store, sobject, key, str(value), body)

    return _run(call, all_or_none, items, one)


def delete(call: Call) -> Reply:
    ids = [i for i in call.request.args.get("ids", "").split(",") if i]
    if not ids:
        raise bad_request("MISSING_ARGUMENT", "ids not specified")
    _limit(call, len(ids))
    all_or_none = call.request.args.get("allOrNone", "false").lower() == "true"
    store = call.org.store

    def one(record_id: Any, snapshot: _Snapshot) -> dict[str, Any]:
        normal = canonical_id(record_id)
        sobject = store.type_of_id(normal) if normal else None
        if sobject is None or normal is None:
            raise bad_request("MALFORMED_ID", f"malformed id {record_id}")
        snapshot.keep(sobject)
        store.delete(sobject, normal)
        return {"id": normal}

    return _run(call, all_or_none, ids, one)


def retrieve(call: Call, sobject_name: str) -> Reply:
    store = call.org.store
    sobject = store.sobject(sobject_name)
    ids = [i for i in call.request.args.get("ids", "").split(",") if i]
    fields = [f for f in call.request.args.get("fields", "").split(",") if f]
    if not ids or not fields:
        raise bad_request("MISSING_ARGUMENT", "ids and fields are required")
    _limit(call, len(ids))
    out: list[dict[str, Any] | None] = []
    for record_id in ids:
        normal = canonical_id(record_id)
        record = store.records[sobject.name].get(normal) if normal else None
        out.append(record_json(call, sobject, record, fields) if record and not record["IsDeleted"] else None)
    return Reply(200, out)
