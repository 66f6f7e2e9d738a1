"""Field mapping rules: sources, value maps, lookups, defaults, coercion and required fields."""

from __future__ import annotations

from typing import Any

import pytest

from connector_core.connection import Lookup
from connector_core.interpolation import Interpolator
from connector_core.mapping import CoercionError, CompiledMapping, coerce


def compiled(mapping: dict[str, Any]) -> CompiledMapping:
    return CompiledMapping(mapping, Interpolator())


class TestCoerce:
    @pytest.mark.parametrize(
        ("value", "kind", "expected"),
        [
            ("42", "integer", 42),
            (42.0, "integer", 42),
            ("1,234", "integer", 1234),
            ("12.50", "number", 12.5),
            (7, "number", 7),
            ("T", "boolean", True),
            ("no", "boolean", False),
            (1, "boolean", True),
            (True, "string", "true"),
            (3.0, "string", "3"),
            ("2024-05-01T10:30:00+02:00", "datetime", "2024-05-01T08:30:00Z"),
            ("2024-05-01 10:30:00", "date", "2024-05-01"),
            ("2024-05-01", "date", "2024-05-01"),
            (None, "integer", None),
        ],
    )
    def test_converts(self, value: Any, kind: str, expected: Any) -> None:
        assert coerce(value, kind) == expected

    @pytest.mark.parametrize(
        ("value", "kind", "words"),
        [
            ("abc", "number", "'abc' is not a number"),
            ("4.5", "integer", "'4.5' is not an integer"),
            (True, "integer", "is a boolean, not an integer"),
            ("maybe", "boolean", "'maybe' is not a boolean"),
            ("31/02/2024", "date", "is not a date"),
            ({"a": 1}, "string", "is a mapping, not a string"),
            (float("nan"), "number", "not a finite number"),
        ],
    )
    def test_refuses_with_the_value(self, value: Any, kind: str, words: str) -> None:
        with pytest.raises(CoercionError, match=words):
            coerce(value, kind)


class TestApply:
    def test_type_mismatch_names_record_field_value_and_type(self) -> None:
        mapping = compiled({"payload.creditLimit": {"from": "limit", "type": "number"}})
        mapped, problems = mapping.apply({"limit": "lots"}, record_id="C-17")
        assert mapped == {}
        assert problems == ["record C-17: field payload.creditLimit: 'lots' is not a number (expected type number, from limit)"]

    def test_every_problem_of_a_record_is_reported(self) -> None:
        mapping = compiled({"a": {"from": "a", "type": "integer"}, "b": {"from": "b", "required": True}, "c": "c"})
        mapped, problems = mapping.apply({"a": "x", "c": 3}, record_id=5)
        assert mapped == {"c": 3}
        assert [p.split(": ", 2)[1] for p in problems] == ["field a", "field b"]
        assert "is required but from b gave nothing" in problems[1]

    def test_paths_templates_and_constants(self) -> None:
        mapping = compiled(
            {
                "payload.companyName": "name",
                "payload.addr.city": "address.city",
                "payload.label": {"template": "{{ record.name ~ ' (' ~ source.external_id ~ ')' }}"},
                "payload.isPerson": {"const": False},
            }
        )
        mapped, problems = mapping.apply(
            {"name": "Acme", "address": {"city": "Oslo"}}, record_id=1, context={"source": {"external_id": "crm-1"}}
        )
        assert problems == []
        assert mapped == {"payload": {"companyName": "Acme", "addr": {"city": "Oslo"}, "label": "Acme (crm-1)", "isPerson": False}}

    def test_missing_values_are_left_out_and_nulls_written(self) -> None:
        mapped, problems = compiled({"a": "a", "b": "b"}).apply({"b": None}, record_id=1)
        assert (mapped, problems) == ({"b": None}, [])

    def test_defaults_fill_missing_and_null(self) -> None:
        mapping = compiled({"a": {"from": "a", "default": "x"}, "b": {"from": "b", "default": 0, "type": "integer"}})
        assert mapping.apply({"b": None}, record_id=1) == ({"a": "x", "b": 0}, [])

    def test_value_map(self) -> None:
        mapping = compiled({"status": {"from": "stage", "map": {"closedwon": "Closed Won", "1": "one"}}})
        assert mapping.apply({"stage": "closedwon"})[0] == {"status": "Closed Won"}
        assert mapping.apply({"stage": 1})[0] == {"status": "one"}

    def test_unmapped_value_is_a_clear_error(self) -> None:
        mapping = compiled({"status": {"from": "stage", "map": {"closedwon": 1, "closedlost": 2}}})
        _, problems = mapping.apply({"stage": "appointmentscheduled"}, record_id="d-9")
        assert problems == [
            "record d-9: field status: value 'appointmentscheduled' (from stage) is not in the value map "
            "(known: 'closedwon', 'closedlost'); add it to `map` or set a `default`"
        ]

    def test_unmapped_value_takes_the_default(self) -> None:
        mapping = compiled({"status": {"from": "stage", "map": {"closedwon": 1}, "default": 0}})
        assert mapping.apply({"stage": "other"}) == ({"status": 0}, [])

    def test_lookup_replaces_the_value(self) -> None:
        calls: list[Lookup] = []

        def index(lookup: Lookup) -> dict[str, Any]:
            calls.append(lookup)
            return {"Acme UK": "3", "Acme US": "2"}

        mapping = compiled({"subsidiary.id": {"from": "region", "lookup": {"stream": "destination.subsidiaries", "key": "name", "value": "id"}, "type": "integer"}})
        assert mapping.apply({"region": "Acme UK"}, lookups=index) == ({"subsidiary": {"id": 3}}, [])
        _, problems = mapping.apply({"region": "Acme FR"}, record_id=4, lookups=index)
        assert problems == ["record 4: field subsidiary.id: lookup found no record in destination.subsidiaries whose name is 'Acme FR' (from region); 2 records there"]

    def test_template_failure_is_a_record_problem(self) -> None:
        _, problems = compiled({"x": {"template": "{{ record.missing.deeper }}"}}).apply({}, record_id=2)
        assert len(problems) == 1 and problems[0].startswith("record 2: field x: template failed:")
