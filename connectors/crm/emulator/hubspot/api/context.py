"""Per-request context handed to every handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from werkzeug.wrappers import Request

from ..errors import validation
from ..objecttypes import canonical_type
from ..search import SearchEngine
from ..service import ObjectService
from ..settings import HubSpotSettings
from ..state import HubSpotState

#: A handler returns ``(status, json_body_or_None)``.
Reply = tuple[int, Any]


@dataclass
class Ctx:
    state: HubSpotState
    service: ObjectService
    engine: SearchEngine
    request: Request

    @property
    def settings(self) -> HubSpotSettings:
        return self.state.settings

    def json(self, required: bool = True) -> Any:
        raw = self.request.get_data(cache=True)
        if not raw.strip():
            if required:
                raise validation("Invalid input JSON: the request body is empty.")
            return {}
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise validation(f"Invalid input JSON on line {exc.lineno}, column {exc.colno}: {exc.msg}") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise validation("Invalid input JSON: expected a JSON object.")
        return body

    def arg_list(self, name: str) -> list[str]:
        out: list[str] = []
        for raw in self.request.args.getlist(name):
            out.extend(p.strip() for p in raw.split(",") if p.strip())
        return out

    def arg_bool(self, name: str) -> bool:
        return self.request.args.get(name, "false").lower() == "true"

    def arg_int(self, name: str, default: int) -> int:
        raw = self.request.args.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise validation(f"Invalid value for {name}: {raw}") from None


def object_type(name: str) -> str:
    """Canonical object type from a path segment, or a 400 as HubSpot gives for unknown types."""
    t = canonical_type(name)
    if t is None:
        raise validation(f"Unable to infer object type from: {name}")
    return t


def batch_inputs(ctx: Ctx, body: dict[str, Any], max_inputs: int | None = None) -> list[Any]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation("Invalid input JSON: 'inputs' must be a list.")
    limit = ctx.settings.batch_max_inputs if max_inputs is None else max_inputs
    if len(inputs) > limit:
        raise validation(f"The maximum number of inputs supported in a batch is {limit}",
                         context={"maxInputs": [str(limit)], "inputCount": [str(len(inputs))]})
    return inputs
