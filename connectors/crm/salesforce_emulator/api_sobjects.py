"""The sObject resources: describe, create, read, update, delete, and upsert by external id."""

from __future__ import annotations

from typing import Any

from .call import Call, Reply
from .errors import SalesforceError, bad_request, not_found
from .ids import canonical_id
from .schema import SObjectType
from .store import OrgStore, Record
from .values import format_datetime, from_epoch, parse_datetime, to_json


def record_json(
    call: Call, sobject: SObjectType, record: Record, fields: list[str] | None = None
) -> dict[str, Any]:
    """A record as ``GET /sobjects/<Type>/<Id>`` returns it (every field, or the ``fields`` asked for)."""
    url = f"{call.data_path}/sobjects/{sobject.name}/{record['Id']}"
    out: dict[str, Any] = {"attributes": {"type": sobject.name, "url": url}}
    names = fields or list(sobject.fields)
    for name in names:
        field = sobject.field(name)
        if field is None:
            raise bad_request(
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{sobject.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after the custom "
                "field name. Please reference your WSDL or the describe call for the appropriate "
                "names.",
            )
        out[field.name] = to_json(field, record.get(field.name))
    return out


def _fields_arg(call: Call) -> list[str] | None:
    raw = call.request.args.get("fields")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else None


def global_describe(call: Call) -> Reply:
    store = call.org.store
    return Reply(
        200,
        {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [t.describe_summary(call.version) for t in store.types.values()],
        },
    )


def sobject_info(call: Call, sobject_name: str) -> Reply:
    sobject = call.org.store.sobject(sobject_name)
    return Reply(200, {"objectDescribe": sobject.describe_summary(call.version), "recentItems": []})


def describe(call: Call, sobject_name: str) -> Reply:
    return Reply(200, call.org.store.sobject(sobject_name).describe(call.version))


def create(call: Call, sobject_name: str) -> Reply:
    store = call.org.store
    sobject = store.sobject(sobject_name)
    body = call.json_object()
    if "Id" in body or "id" in body:
        raise bad_request("INVALID_FIELD_FOR_INSERT_UPDATE", "Cannot specify Id in an insert call", ["Id"])
    record = store.create(sobject, body, user_id=_user(call))
    return Reply(
        201,
        {"id": record["Id"], "success": True, "errors": []},
        {"Location": f"{call.data_path}/sobjects/{sobject.name}/{record['Id']}"},
    )


def read(call: Call, sobject_name: str, record_id: str) -> Reply:
    store = call.org.store
    sobject = store.sobject(sobject_name)
    return Reply(200, record_json(call, sobject, store.get(sobject, record_id), _fields_arg(call)))


def update(call: Call, sobject_name: str, record_id: str) -> Reply:
    store = call.org.store
    sobject = store.sobject(sobject_name)
    store.update(sobject, record_id, call.json_object(), user_id=_user(call))
    return Reply(204)


def delete(call: Call, sobject_name: str, record_id: str) -> Reply:
    store = call.org.store
    store.delete(store.sobject(sobject_name), record_id)
    return Reply(204)


def read_by_external_id(call: Call, sobject_name: str, field_name: str, value: str) -> Reply:
    store = call.org.store
    sobject = store.sobject(sobject_name)
    matches = matching(store, sobject, field_name, value)
    if len(matches) > 1:
        raise _multiple(call, sobject, matches)
    if not matches:
        raise not_found()
    return Reply(200, record_json(call, sobject, matches[0], _fields_arg(call)))


def upsert(call: Call, sobject_name: str, field_name: str, value: str) -> Reply:
    """``PATCH /sobjects/<Type>/<ExtIdField>/<value>``: 201 created, 200 updated, 300 when ambiguous."""
    store = call.org.store
    sobject = store.sobject(sobject_name)
    body = call.json_object()
    update_only = call.request.args.get("updateOnly", "").lower() == "true"
    outcome = upsert_record(call, store, sobject, field_name, value, body, update_only=update_only)
    status = 201 if outcome["created"] else 200
    return Reply(status, {"id": outcome["id"], "success": True, "errors": [], "created": outcome["created"]})


def upsert_record(
    call: Call,
    store: OrgStore,
    sobject: SObjectType,
    field_name: str,
    value: str,
    body: dict[str, Any],
    *,
    update_only: bool = False,
) -> dict[str, Any]:
    """Upsert one record by external id; returns ``{"id", "created"}`` or raises the API's error."""
    field = _external_id_field(sobject, field_name)
    matches = matching(store, sobject, field.name, value)
    if len(matches) > 1:
        raise _multiple(call, sobject, matches)
    given = next((v for k, v in body.items() if k.lower() == field.name.lower()), None)
    if field.type != "id" and given is not None and str(given) != value:
        raise bad_request(
            "INVALID_FIELD",
            f"The value of the external ID field in the URL ({value}) does not "
            f"match the value in the request body ({given})",
            [field.name],
        )
    clean = {k: v for k, v in body.items() if k.lower() != field.name.lower()}
    if matches:
        record = store.update(sobject, matches[0]["Id"], clean, user_id=_user(call))
        return {"id": record["Id"], "created": False}
    if update_only or field.type == "id":
        raise not_found()
    record = store.create(sobject, {**clean, field.name: value}, user_id=_user(call))
    return {"id": record["Id"], "created": True}


def _external_id_field(sobject: SObjectType, field_name: str) -> Any:
    field = sobject.field(field_name)
    if field is None:
        raise not_found(f"Provided external ID field does not exist or is not accessible: {field_name}")
    if not (field.external_id or field.type == "id"):
        raise bad_request(
            "INVALID_FIELD",
            f"Field {field.name} is not an External ID or indexed field for {sobject.name}",
            [field.name],
        )
    return field


def matching(store: OrgStore, sobject: SObjectType, field_name: str, value: str) -> list[Record]:
    """Live records whose external id (or ``Id``) equals ``value``."""
    field = _external_id_field(sobject, field_name)
    if field.type == "id":
        normal = canonical_id(value)
        record = store.records[sobject.name].get(normal) if normal else None
        return [record] if record is not None and not record["IsDeleted"] else []
    return store.find_by(sobject, field.name, value)


class MultipleChoices(SalesforceError):
    """More than one record has the external id: 300 with the candidates' URLs."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__(300, "MULTIPLE_CHOICES", "Multiple records found with the given external ID")
        self.urls = urls

    def body(self) -> list[Any]:
        return list(self.urls)


def _multiple(call: Call, sobject: SObjectType, matches: list[Record]) -> MultipleChoices:
    return MultipleChoices([f"{call.data_path}/sobjects/{sobject.name}/{m['Id']}" for m in matches])


def _user(call: Call) -> str | None:
    return call.session.user_id if call.session else None


def _window(call: Call) -> tuple[Any, Any]:
    args = call.request.args
    start, end = parse_datetime(args.get("start", "")), parse_datetime(args.get("end", ""))
    if start is None or end is None:
        raise bad_request(
            "INVALID_REPLICATION_DATE",
            "start and end must be ISO 8601 datetimes, e.g. 2024-01-01T00:00:00+00:00",
        )
    if end < start:
        raise bad_request("INVALID_REPLICATION_DATE", "end must not be before start")
    covered = min(end, from_epoch(call.org.clock.now())).replace(second=0, microsecond=0)
    return start, covered


def updated(call: Call, sobject_name: str) -> Reply:
    """``GET /sobjects/<Type>/updated?start=&end=``: ids of live records changed in the window (by SystemModstamp)."""
    store = call.org.store
    sobject = store.sobject(sobject_name)
    start, covered = _window(call)
    ids = [r["Id"] for r in store.rows(sobject) if start <= r["SystemModstamp"] < covered]
    return Reply(200, {"ids": ids, "latestDateCovered": format_datetime(covered)})


def deleted(call: Call, sobject_name: str) -> Reply:
    """``GET /sobjects/<Type>/deleted?start=&end=``: records moved to the recycle bin in the window."""
    store = call.org.store
    sobject = store.sobject(sobject_name)
    start, covered = _window(call)
    gone = [
        r
        for r in store.rows(sobject, include_deleted=True)
        if r["IsDeleted"] and start <= r["SystemModstamp"] < covered
    ]
    earliest = min((r["SystemModstamp"] for r in store.rows(sobject, include_deleted=True)), default=start)
    return Reply(
        200,
        {
            "deletedRecords": [
                {"id": r["Id"], "deletedDate": format_datetime(r["SystemModstamp"])} for r in gone
            ],
            "earliestDateAvailable": format_datetime(earliest),
            "latestDateCovered": format_datetime(covered),
        },
    )
