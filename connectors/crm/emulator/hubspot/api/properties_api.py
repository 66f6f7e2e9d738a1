"""``/crm/v3/properties/{type}``: property definitions and groups."""

from __future__ import annotations

from ..errors import ApiError, validation
from .context import Ctx, Reply, batch_inputs, object_type


def list_properties(ctx: Ctx, otype: str) -> Reply:
    t = object_type(otype)
    if ctx.arg_bool("archived"):
        return 200, {"results": []}
    return 200, {"results": [d.to_json() for d in ctx.state.registries[t].all()]}


def create_property(ctx: Ctx, otype: str) -> Reply:
    t = object_type(otype)
    d = ctx.state.registries[t].create(ctx.json(), ctx.state.clock.now_ms())
    if d.hasUniqueValue:
        ctx.state.stores[t].ensure_index(d.name)
    return 201, d.to_json()


def get_property(ctx: Ctx, otype: str, name: str) -> Reply:
    t = object_type(otype)
    d = ctx.state.registries[t].get(name)
    if d is None:
        raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find property {name} for object type {t}.")
    return 200, d.to_json()


def update_property(ctx: Ctx, otype: str, name: str) -> Reply:
    t = object_type(otype)
    d = ctx.state.registries[t].update(name, ctx.json(), ctx.state.clock.now_ms())
    return 200, d.to_json()


def delete_property(ctx: Ctx, otype: str, name: str) -> Reply:
    t = object_type(otype)
    ctx.state.registries[t].delete(name)
    ctx.state.stores[t].remove_property(name)
    return 204, None


def batch_read_properties(ctx: Ctx, otype: str) -> Reply:
    t = object_type(otype)
    registry = ctx.state.registries[t]
    results = []
    for item in batch_inputs(ctx, ctx.json_object()):
        name = item.get("name") if isinstance(item, dict) else None
        if not name:
            raise validation("Invalid input JSON: each input needs a 'name'.")
        d = registry.get(str(name))
        if d is not None:
            results.append(d.to_json())
    return 200, {"status": "COMPLETE", "results": results}


def list_groups(ctx: Ctx, otype: str) -> Reply:
    t = object_type(otype)
    return 200, {"results": list(ctx.state.registries[t].groups.values())}


def create_group(ctx: Ctx, otype: str) -> Reply:
    t = object_type(otype)
    return 201, ctx.state.registries[t].create_group(ctx.json())
