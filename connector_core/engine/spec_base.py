"""The base of every spec model, and the types every part of the format shares (HTTP methods, durations)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    WithJsonSchema,
)

from connector_core.engine.timeparse import parse_duration

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class SpecModel(BaseModel):
    """Base of every spec model: unknown keys are rejected, values are immutable once loaded."""

    # defer_build: validators are built on first use, so start-up does not pay for models a spec never uses
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def _seconds(value: Any) -> float:
    return parse_duration(value).total_seconds()


#: A duration as every field of the format takes it: seconds (30, 0.5), '500ms', '90s', '15m', '2h', '1d',
#: '1w', or ISO 8601 'PT1H30M'; the model holds seconds.
Duration = Annotated[
    float,
    BeforeValidator(_seconds),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|w)?\s*$|^[Pp](\d+[Ww])?(\d+[Dd])?([Tt](\d+[Hh])?(\d+[Mm])?(\d+(\.\d+)?[Ss])?)?$"},
            ]
        }
    ),
]
