"""``POST /crm/v3/objects/{type}/search``."""

from __future__ import annotations

from typing import Any

from ..errors import validation
from ..serialize import PropertySelector, object_json, split_names
from .context import Ctx, Reply, object_type


def _int(body: dict[str, Any], name: str, default: int) -> int:
    raw = body.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise validation(f"Invalid value for {name}: {raw}") from None


def search(ctx: Ctx, otype: str) -> Reply:
    t = object_type(otype)
    s = ctx.settings
    body = ctx.json(required=False) or {}
    if not isinstance(body, dict):
        raise validation("Invalid input JSON: expected a JSON object.")
    limit = _int(body, "limit", s.search_default_limit)
    if limit < 0 or limit > s.search_max_limit:
        raise validation(f"limit must be between 0 and {s.search_max_limit}, got {limit}",
                         context={"limit": [str(limit)]})
    after = _int(body, "after", 0)
    if after < 0:
        raise validation(f"Invalid value for after: {after}")
    cap = s.search_result_cap
    if after >= cap:
        raise validation(
            f"The search API can page through at most {cap} results; requested results starting at {after}. "
            "Narrow the query with filters.",
            context={"after": [str(after)], "maxResults": [str(cap)]},
        )
    limits = (s.max_filter_groups, s.max_filters_per_group, s.max_filters_total)
    rows = ctx.engine.run(t, ctx.state.registries[t], ctx.state.search_indexes[t], body, limits)
    end = min(after + limit, cap)
    page = rows[after:end]
    selector = PropertySelector(ctx.state, t, split_names(body.get("properties")))
    out: dict[str, Any] = {
        "total": len(rows),
        "results": [object_json(ctx.state, t, o, selector) for o in page],
    }
    next_after = after + len(page)
    if page and next_after < len(rows):
        out["paging"] = {"next": {"after": str(next_after)}}
    return 200, out
