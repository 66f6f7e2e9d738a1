"""``/crm/v3/objects/{type}``: list, get, create, update, archive."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ..errors import EmptyNotFound, object_not_found_patch, validation
from ..serialize import PropertySelector, object_json
from ..store import CrmObject
from .context import Ctx, Reply, object_type


def list_objects(ctx: Ctx, otype: str) -> Reply:
    t = object_type(otype)
    s = ctx.settings
    history = ctx.arg_list("propertiesWithHistory")
    limit = ctx.arg_int("limit", s.list_default_limit)
    if limit < 1:
        raise validation(f"limit must be at least 1, got {limit}")
    limit = min(limit, 50 if history else s.list_max_limit)
    after_raw = ctx.request.args.get("after")
    after = 0
    if after_raw:
        if not after_raw.isdigit():
            raise validation(f"Invalid value for after: {after_raw}")
        after = int(after_raw)
    archived = ctx.arg_bool("archived")
    selector = PropertySelector(ctx.state, t, ctx.arg_list("properties"))
    assoc = ctx.arg_list("associations")
    results: list[dict[str, Any]] = []
    next_id = None
    for obj in ctx.state.stores[t].iter_from(after, archived):
        if len(results) == limit:
            next_id = obj.id
            break
        results.append(object_json(ctx.state, t, obj, selector, history, assoc))
    body: dict[str, Any] = {"results": results}
    if next_id is not None:
        params = [(k, v) for k, v in ctx.request.args.items(multi=True) if k != "after"]
        params.append(("after", str(next_id)))
        link = f"{ctx.request.host_url}crm/v3/objects/{otype}?{urlencode(params)}"
        body["paging"] = {"next": {"after": str(next_id), "link": link}}
    return 200, body


def get_object(ctx: Ctx, otype: str, oid: str) -> Reply:
    t = object_type(otype)
    obj = ctx.service.find(t, oid, ctx.request.args.get("idProperty"), include_archived=ctx.arg_bool("archived"))
    if obj is None:
        raise EmptyNotFound()
    selector = PropertySelector(ctx.state, t, ctx.arg_list("properties"))
    return 200, object_json(ctx.state, t, obj, selector, ctx.arg_list("propertiesWithHistory"),
                            ctx.arg_list("associations"))


class _AllProps(PropertySelector):
    """Selector returning every value a record holds (create/update replies)."""

    def __init__(self) -> None:
        self.names = ()

    def pick(self, obj: CrmObject) -> dict[str, str | None]:
        return dict(obj.props)


ALL_PROPS = _AllProps()


def create_object(ctx: Ctx, otype: str) -> Reply:
    t = object_type(otype)
    body = ctx.json_object()
    obj = ctx.service.create(t, body.get("properties"), body.get("associations"))
    return 201, object_json(ctx.state, t, obj, ALL_PROPS)


def update_object(ctx: Ctx, otype: str, oid: str) -> Reply:
    t = object_type(otype)
    body = ctx.json_object()
    obj = ctx.service.find(t, oid, ctx.request.args.get("idProperty"))
    if obj is None:
        raise object_not_found_patch(oid)
    if "properties" not in body:
        raise validation("Invalid input JSON: 'properties' is required.")
    ctx.service.update(t, obj, body.get("properties"))
    return 200, object_json(ctx.state, t, obj, ALL_PROPS)


def archive_object(ctx: Ctx, otype: str, oid: str) -> Reply:
    t = object_type(otype)
    obj = ctx.service.find(t, oid)
    if obj is not None:
        ctx.service.archive(t, obj)
    return 204, None
