"""``/crm/v3/pipelines/deals``: read-only pipelines and stages."""

from __future__ import annotations

from ..errors import ApiError, validation
from ..pipelines import Pipeline
from .context import Ctx, Reply, object_type


def _deals_only(otype: str) -> None:
    if object_type(otype) != "deals":
        raise validation(f"Object type {otype} does not support pipelines.")


def _pipeline(ctx: Ctx, pid: str) -> Pipeline:
    p = ctx.state.pipelines.get(pid)
    if p is None:
        raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find pipeline {pid}.")
    return p


def list_pipelines(ctx: Ctx, otype: str) -> Reply:
    _deals_only(otype)
    pipelines = ctx.state.pipelines
    return 200, {"results": [pipelines.pipeline_json(p) for p in pipelines.items.values()]}


def get_pipeline(ctx: Ctx, otype: str, pid: str) -> Reply:
    _deals_only(otype)
    return 200, ctx.state.pipelines.pipeline_json(_pipeline(ctx, pid))


def list_stages(ctx: Ctx, otype: str, pid: str) -> Reply:
    _deals_only(otype)
    p = _pipeline(ctx, pid)
    return 200, {"results": [ctx.state.pipelines.stage_json(s) for s in p.stages]}


def get_stage(ctx: Ctx, otype: str, pid: str, sid: str) -> Reply:
    _deals_only(otype)
    stage = _pipeline(ctx, pid).stage(sid)
    if stage is None:
        raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find stage {sid} in pipeline {pid}.")
    return 200, ctx.state.pipelines.stage_json(stage)
