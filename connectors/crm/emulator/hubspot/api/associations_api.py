"""``/crm/v4`` associations: list, create (default and labelled), delete, batch, labels."""

from __future__ import annotations

from typing import Any

from .. import association_types as at
from ..errors import ApiError, validation
from ..objecttypes import SINGULAR, TYPE_IDS
from ..serialize import v4_targets
from ..values import iso_from_ms
from .context import Ctx, Reply, batch_inputs, object_type


def _require(ctx: Ctx, t: str, raw: Any) -> int:
    text = str(raw)
    obj = ctx.state.stores[t].get(int(text)) if text.isdigit() else None
    if obj is None or obj.archived:
        raise validation("One or more associations are invalid", context={"INVALID_OBJECT_IDS": [text]})
    return obj.id


def _types_from(ft: str, tt: str, specs: Any) -> list[int]:
    if not isinstance(specs, list) or not specs:
        raise validation("Invalid input JSON: expected a non-empty list of association types.")
    out = []
    for spec in specs:
        if not isinstance(spec, dict):
            raise validation("Invalid input JSON: association types must be objects.")
        try:
            raw_id: Any = spec.get("associationTypeId", spec.get("typeId", -1))  # any JSON value
            type_id = int(raw_id)
        except (TypeError, ValueError):
            raise validation("Invalid association type id.") from None
        category = str(spec.get("associationCategory", spec.get("category", "HUBSPOT_DEFINED")))
        t = at.lookup(type_id, ft, tt)
        if t is None or category != t.category:
            raise validation(
                f"{category} {type_id} is not a valid association type between {ft} and {tt}.",
                context={"associationTypeId": [str(type_id)]},
            )
        out.append(type_id)
    return out


def _labels_reply(ft: str, fid: int, tt: str, tid: int, type_ids: list[int]) -> dict[str, Any]:
    return {
        "fromObjectTypeId": TYPE_IDS[ft],
        "fromObjectId": fid,
        "toObjectTypeId": TYPE_IDS[tt],
        "toObjectId": tid,
        "labels": [at.TYPES[t].label for t in type_ids if at.TYPES[t].label],
    }


def list_associations(ctx: Ctx, ft: str, fid: str, tt: str) -> Reply:
    f, t = object_type(ft), object_type(tt)
    limit = ctx.arg_int("limit", ctx.settings.association_page_max)
    limit = max(1, min(limit, ctx.settings.association_page_max))
    after = ctx.arg_int("after", 0)
    items = v4_targets(ctx.state, f, int(fid), t) if fid.isdigit() else []
    page = items[after:after + limit]
    body: dict[str, Any] = {"results": page}
    if after + limit < len(items):
        nxt = str(after + limit)
        body["paging"] = {"next": {"after": nxt, "link": f"{ctx.request.base_url}?after={nxt}&limit={limit}"}}
    return 200, body


def put_default(ctx: Ctx, ft: str, fid: str, tt: str, tid: str) -> Reply:
    f, t = object_type(ft), object_type(tt)
    from_id, to_id = _require(ctx, f, fid), _require(ctx, t, tid)
    default = at.default_type(f, t)
    if default is None:
        raise validation(f"No default association type between {f} and {t}.")
    started = ctx.state.clock.now_ms()
    ctx.state.associations.add(f, from_id, t, to_id, default.type_id)
    results = [
        {"from": {"id": str(from_id)}, "to": {"id": str(to_id)},
         "associationSpec": {"associationCategory": default.category, "associationTypeId": default.type_id}},
        {"from": {"id": str(to_id)}, "to": {"id": str(from_id)},
         "associationSpec": {"associationCategory": default.category, "associationTypeId": default.inverse}},
    ]
    return 200, {"status": "COMPLETE", "results": results, "startedAt": iso_from_ms(started),
                 "completedAt": iso_from_ms(ctx.state.clock.now_ms())}


def put_labelled(ctx: Ctx, ft: str, fid: str, tt: str, tid: str) -> Reply:
    f, t = object_type(ft), object_type(tt)
    type_ids = _types_from(f, t, ctx.json())
    from_id, to_id = _require(ctx, f, fid), _require(ctx, t, tid)
    for type_id in type_ids:
        ctx.state.associations.add(f, from_id, t, to_id, type_id)
    all_types = sorted(ctx.state.associations.targets(f, from_id, t).get(to_id, set()))
    return 201, _labels_reply(f, from_id, t, to_id, all_types)


def delete_association(ctx: Ctx, ft: str, fid: str, tt: str, tid: str) -> Reply:
    f, t = object_type(ft), object_type(tt)
    if fid.isdigit() and tid.isdigit():
        ctx.state.associations.remove(f, int(fid), t, int(tid))
    return 204, None


def labels(ctx: Ctx, ft: str, tt: str) -> Reply:
    f, t = object_type(ft), object_type(tt)
    return 200, {"results": [{"category": x.category, "typeId": x.type_id, "label": x.label}
                             for x in at.types_for(f, t)]}


def batch(ctx: Ctx, ft: str, tt: str, op: str) -> Reply:
    f, t = object_type(ft), object_type(tt)
    started = ctx.state.clock.now_ms()
    body = ctx.json_object()
    inputs = batch_inputs(ctx, body, max_inputs=ctx.settings.batch_max_inputs)
    store = ctx.state.associations
    results: list[Any] = []
    errors: list[dict[str, Any]] = []
    ok_status = 200
    if op in ("create", "associate/default"):
        ok_status = 201 if op == "create" else 200
        for item in inputs:
            try:
                if not isinstance(item, dict):
                    raise validation("Invalid input JSON: each input must be an object.")
                from_id = _require(ctx, f, (item.get("from") or {}).get("id", ""))
                to_id = _require(ctx, t, (item.get("to") or {}).get("id", ""))
                if op == "create":
                    type_ids = _types_from(f, t, item.get("types"))
                else:
                    default = at.default_type(f, t)
                    if default is None:
                        raise validation(f"No default association type between {f} and {t}.")
                    type_ids = [default.type_id]
            except ApiError as exc:
                errors.append(exc.batch_item())
                continue
            for type_id in type_ids:
                store.add(f, from_id, t, to_id, type_id)
            if op == "create":
                results.append(_labels_reply(f, from_id, t, to_id, type_ids))
            else:
                results.append({"from": {"id": str(from_id)}, "to": {"id": str(to_id)},
                                "associationSpec": {"associationCategory": "HUBSPOT_DEFINED",
                                                    "associationTypeId": type_ids[0]}})
    elif op == "read":
        for item in inputs:
            raw = str((item or {}).get("id", "")) if isinstance(item, dict) else ""
            targets = v4_targets(ctx.state, f, int(raw), t) if raw.isdigit() else []
            if not targets:
                errors.append({
                    "status": "error", "category": "OBJECT_NOT_FOUND",
                    "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                    "message": f"No {SINGULAR[t]} is associated with {SINGULAR[f]} {raw}.",
                    "context": {"fromObjectId": [raw]},
                })
                continue
            results.append({"from": {"id": raw}, "to": targets})
    elif op == "archive":
        for item in inputs:
            if not isinstance(item, dict):
                continue
            raw = str((item.get("from") or {}).get("id", ""))
            tos = item.get("to") or []
            if isinstance(tos, dict):
                tos = [tos]
            for to in tos:
                to_raw = str((to or {}).get("id", ""))
                if raw.isdigit() and to_raw.isdigit():
                    store.remove(f, int(raw), t, int(to_raw))
        return 204, None
    elif op == "labels/archive":
        for item in inputs:
            raw = str((item.get("from") or {}).get("id", ""))
            to_raw = str((item.get("to") or {}).get("id", ""))
            label_ids = set(_types_from(f, t, item.get("types")))
            if raw.isdigit() and to_raw.isdigit():
                store.remove(f, int(raw), t, int(to_raw), label_ids)
        return 204, None
    else:
        raise ApiError(404, "OBJECT_NOT_FOUND", f"Unknown batch operation {op}.")
    out: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        out["numErrors"] = len(errors)
        out["errors"] = errors
    out["startedAt"] = iso_from_ms(started)
    out["completedAt"] = iso_from_ms(ctx.state.clock.now_ms())
    return (207 if errors else ok_status), out
