"""Deal pipelines: the default Sales Pipeline and a custom one with numeric stage ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .values import iso_from_ms


@dataclass(frozen=True)
class Stage:
    id: str
    label: str
    display_order: int
    is_closed: bool
    probability: float

    @property
    def is_won(self) -> bool:
        return self.is_closed and self.probability >= 1.0

    @property
    def is_lost(self) -> bool:
        return self.is_closed and self.probability <= 0.0


@dataclass(frozen=True)
class Pipeline:
    id: str
    label: str
    display_order: int
    stages: tuple[Stage, ...]

    def stage(self, stage_id: str) -> Stage | None:
        for s in self.stages:
            if s.id == stage_id:
                return s
        return None


DEFAULT_PIPELINE = Pipeline(
    id="default",
    label="Sales Pipeline",
    display_order=0,
    stages=(
        Stage("appointmentscheduled", "Appointment Scheduled", 0, False, 0.2),
        Stage("qualifiedtobuy", "Qualified To Buy", 1, False, 0.4),
        Stage("presentationscheduled", "Presentation Scheduled", 2, False, 0.6),
        Stage("decisionmakerboughtin", "Decision Maker Bought-In", 3, False, 0.8),
        Stage("contractsent", "Contract Sent", 4, False, 0.9),
        Stage("closedwon", "Closed Won", 5, True, 1.0),
        Stage("closedlost", "Closed Lost", 6, True, 0.0),
    ),
)

#: A custom pipeline as accounts create them: numeric ids, won stage not called "closedwon".
CUSTOM_PIPELINE = Pipeline(
    id="75318642",
    label="Enterprise Renewals",
    display_order=1,
    stages=(
        Stage("148302001", "Renewal Identified", 0, False, 0.1),
        Stage("148302002", "Negotiation", 1, False, 0.5),
        Stage("148302003", "Signed", 2, True, 1.0),
        Stage("148302004", "Churned", 3, True, 0.0),
    ),
)


def _prob(p: float) -> str:
    return f"{p:.1f}"


class Pipelines:
    """Deal pipelines of the account (read-only in this emulator)."""

    def __init__(self, created_ms: int) -> None:
        self.created_ms = created_ms
        self.items: dict[str, Pipeline] = {p.id: p for p in (DEFAULT_PIPELINE, CUSTOM_PIPELINE)}

    def get(self, pipeline_id: str) -> Pipeline | None:
        return self.items.get(pipeline_id)

    def first(self) -> Pipeline:
        return self.items["default"]

    def all_stage_ids(self) -> list[str]:
        return [s.id for p in self.items.values() for s in p.stages]

    def stage_json(self, stage: Stage) -> dict[str, Any]:
        ts = iso_from_ms(self.created_ms)
        return {
            "label": stage.label,
            "displayOrder": stage.display_order,
            "metadata": {"isClosed": "true" if stage.is_closed else "false", "probability": _prob(stage.probability)},
            "id": stage.id,
            "createdAt": ts,
            "updatedAt": ts,
            "archived": False,
        }

    def pipeline_json(self, p: Pipeline) -> dict[str, Any]:
        ts = iso_from_ms(self.created_ms)
        return {
            "label": p.label,
            "displayOrder": p.display_order,
            "id": p.id,
            "stages": [self.stage_json(s) for s in p.stages],
            "createdAt": ts,
            "updatedAt": ts,
            "archived": False,
        }
