"""``/crm/v3/objects/{type}/batch/{read,create,update,upsert,archive}``."""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, validation
from ..objecttypes import UPPER
from ..serialize import PropertySelector, object_json, split_names
from ..store import CrmObject
from ..values import iso_from_ms
from .context import Ctx, Reply, batch_inputs, object_type
from .objects import ALL_PROPS


def _envelope(ctx: Ctx, started: int, results: list[Any], errors: list[dict[str, Any]], ok_status: int) -> Reply:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    body["startedAt"] = iso_from_ms(started)
    body["completedAt"] = iso_from_ms(ctx.state.clock.now_ms())
    return (207 if errors else ok_status), body


def _not_found(t: str, ids: list[str]) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": f"Could not get some {UPPER[t]} objects, they may be deleted or not exist. Check that ids are valid.",
        "context": {"ids": ids},
    }


def _input_id(item: Any) -> str:
    if not isinstance(item, dict) or item.get("id") in (None, ""):
        raise validation("Invalid input JSON: each input needs an 'id'.")
    return str(item["id"])


def _check_duplicates(ids: list[str]) -> None:
    seen: set[str] = set()
    dups = [i for i in ids if i in seen or seen.add(i)]  # type: ignore[func-returns-value]
    if dups:
        raise validation(f"Duplicate IDs found in batch input: {sorted(set(dups))}. IDs must be unique")


def batch(ctx: Ctx, otype: str, op: str) -> Reply:
    t = object_type(otype)
    handler = _OPS.get(op)
    if handler is None:
        raise ApiError(404, "OBJECT_NOT_FOUND", f"Unknown batch operation {op}.")
    return handler(ctx, t)


def batch_read(ctx: Ctx, t: str) -> Reply:
    started = ctx.state.clock.now_ms()
    body = ctx.json_object()
    history = split_names(body.get("propertiesWithHistory"))
    if history:
        inputs = body.get("inputs") or []
        if isinstance(inputs, list) and len(inputs) > 50:
            raise validation("The maximum number of inputs supported in a batch request for property histories is 50")
    inputs = batch_inputs(ctx, body)
    id_property = body.get("idProperty")
    include_archived = bool(body.get("archived", False))
    selector = PropertySelector(ctx.state, t, split_names(body.get("properties")))
    results, missing, seen = [], [], set()
    for item in inputs:
        raw = _input_id(item)
        obj = ctx.service.find(t, raw, id_property, include_archived=include_archived)
        if obj is None:
            missing.append(raw)
            continue
        if obj.id in seen:
            continue
        seen.add(obj.id)
        results.append(object_json(ctx.state, t, obj, selector, history))
    errors = [_not_found(t, missing)] if missing else []
    return _envelope(ctx, started, results, errors, 200)


def batch_create(ctx: Ctx, t: str) -> Reply:
    started = ctx.state.clock.now_ms()
    inputs = batch_inputs(ctx, ctx.json_object())
    service = ctx.service
    cleaned = []
    for item in inputs:
        if not isinstance(item, dict):
            raise validation("Invalid input JSON: each input must be an object.")
        cleaned.append(service.clean_properties(t, item.get("properties"), None))  # any invalid value fails the call
    if t == "contacts":
        # Known or repeated emails fail the whole call with one 409 (the first), nothing is written.
        seen: dict[str, int] = {}
        for i, clean in enumerate(cleaned):
            email = clean.get("email")
            if email is None:
                continue
            service.check_unique(t, {"email": email}, None)
            if email in seen:
                raise validation(f"Duplicate values for email found in batch input: [{email}]. Values must be unique")
            seen[email] = i
    results, errors = [], []
    for item, clean in zip(inputs, cleaned, strict=True):
        try:
            service.check_unique(t, clean, None)
            edges = service.resolve_associations(t, item.get("associations"))
        except ApiError as exc:
            errors.append(exc.batch_item())
            continue
        obj = service.insert_clean(t, clean, edges)
        results.append(object_json(ctx.state, t, obj, ALL_PROPS))
    return _envelope(ctx, started, results, errors, 201)


def batch_update(ctx: Ctx, t: str) -> Reply:
    started = ctx.state.clock.now_ms()
    body = ctx.json_object()
    inputs = batch_inputs(ctx, body)
    service = ctx.service
    ids = [_input_id(i) for i in inputs]
    _check_duplicates(ids)
    found: list[tuple[dict[str, Any], CrmObject | None]] = []
    for item, raw in zip(inputs, ids, strict=True):
        id_property = item.get("idProperty") or body.get("idProperty")
        found.append((item, service.find(t, raw, id_property)))
    cleaned = [service.clean_properties(t, item.get("properties"), obj) if obj is not None else None
               for item, obj in found]
    results, errors, missing = [], [], []
    for (_item, obj), clean, raw in zip(found, cleaned, ids, strict=True):
        if obj is None or clean is None:
            missing.append(raw)
            continue
        try:
            service.check_unique(t, clean, obj.id)
        except ApiError as exc:
            errors.append(exc.batch_item())
            continue
        service.apply_clean(t, obj, clean)
        results.append(object_json(ctx.state, t, obj, ALL_PROPS))
    if missing:
        errors.insert(0, _not_found(t, missing))
    return _envelope(ctx, started, results, errors, 200)


def batch_upsert(ctx: Ctx, t: str) -> Reply:
    started = ctx.state.clock.now_ms()
    body = ctx.json_object()
    inputs = batch_inputs(ctx, body)
    service = ctx.service
    registry = ctx.state.registries[t]
    ids = [_input_id(i) for i in inputs]
    _check_duplicates(ids)
    plans = []
    for item, raw in zip(inputs, ids, strict=True):
        id_property = item.get("idProperty") or body.get("idProperty")
        if not id_property:
            raise validation("Invalid input JSON: upsert inputs need an idProperty.")
        if id_property == "hs_object_id" or id_property not in registry.id_properties():
            raise validation(f"{id_property} is not a unique property and cannot be used as an idProperty.")
        obj = service.find(t, raw, id_property)
        props = dict(item.get("properties") or {})
        if obj is None:
            props.setdefault(id_property, raw)
        clean = service.clean_properties(t, props, obj)
        plans.append((item, obj, clean))
    results, errors = [], []
    for _item, obj, clean in plans:
        try:
            service.check_unique(t, clean, obj.id if obj else None)
            if obj is None:
                obj = service.insert_clean(t, clean)
                new = True
            else:
                service.apply_clean(t, obj, clean)
                new = False
        except ApiError as exc:
            errors.append(exc.batch_item())
            continue
        out = object_json(ctx.state, t, obj, ALL_PROPS)
        out["new"] = new
        results.append(out)
    return _envelope(ctx, started, results, errors, 200)


def batch_archive(ctx: Ctx, t: str) -> Reply:
    inputs = batch_inputs(ctx, ctx.json_object())
    for item in inputs:
        obj = ctx.service.find(t, _input_id(item))
        if obj is not None:
            ctx.service.archive(t, obj)
    return 204, None


_OPS = {
    "read": batch_read,
    "create": batch_create,
    "update": batch_update,
    "upsert": batch_upsert,
    "archive": batch_archive,
}
