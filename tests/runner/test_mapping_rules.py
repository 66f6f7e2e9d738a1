"""Field mapping rules: sources, value maps, lookups, defaults, coercion and required fields."""

from __future__ import annotations

from typing import Any

import pytest

from connector_core.engine.interpolation import Interpolator
from connector_core.sync.mapping import CoercionError, CompiledMapping, CompiledTarget, coerce
from connector_core.sync.models import Check, Lookup


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


class TestLists:
    def test_each_maps_every_item_with_item_paths_templates_and_a_filter(self) -> None:
        mapping = compiled(
            {
                "item.items": {
                    "each": {
                        "from": "lines",
                        "filter": "{{ item.qty | float > 0 }}",
                        "mapping": {
                            "item.id": {"from": "sku", "map": {"A": "7", "B": "8"}},
                            "quantity": {"from": "qty", "type": "number"},
                            "description": {"template": "{{ record.name }} #{{ index }}: {{ item.sku }}"},
                        },
                    }
                }
            }
        )
        record = {"name": "Deal", "lines": [{"sku": "A", "qty": "2"}, {"sku": "B", "qty": 0}, {"sku": "B", "qty": 1}]}
        mapped, problems = mapping.apply(record, record_id=1)
        assert problems == []
        assert mapped == {
            "item": {
                "items": [
                    {"item": {"id": "7"}, "quantity": 2, "description": "Deal #0: A"},
                    {"item": {"id": "8"}, "quantity": 1, "description": "Deal #2: B"},
                ]
            }
        }

    def test_element_problems_name_the_element_and_the_source_item(self) -> None:
        mapping = compiled({"lines": {"each": {"from": "rows", "mapping": {"rate": {"from": "price", "type": "number"}, "sku": {"from": "sku", "required": True}}}}})
        _, problems = mapping.apply({"rows": [{"price": "1", "sku": "x"}, {"price": "cheap"}]}, record_id=9)
        assert problems == [
            "record 9: field lines[1].rate: 'cheap' is not a number (expected type number, from rows.1.price)",
            "record 9: field lines[1].sku: is required but from rows.1.sku gave nothing",
        ]

    def test_each_needs_a_list_and_a_missing_one_uses_the_default_or_is_required(self) -> None:
        rule = {"each": {"from": "rows", "mapping": {"a": "a"}}}
        assert compiled({"lines": rule}).apply({"rows": {"a": 1}}, record_id=2)[1] == [
            "record 2: field lines: {'a': 1} (from rows) is a mapping, not a list (expected a list for `each`)"
        ]
        assert compiled({"lines": {**rule, "default": []}}).apply({}, record_id=2) == ({"lines": []}, [])
        assert compiled({"lines": {**rule, "required": True}}).apply({"rows": []}, record_id=2)[1] == [
            "record 2: field lines: is required but from rows gave []"
        ]

    def test_items_builds_fixed_elements_over_the_record(self) -> None:
        mapping = compiled({"item.items": {"items": [{"item.id": {"const": "1"}, "rate": {"from": "amount", "type": "number"}}, {"item.id": {"const": "2"}, "rate": {"const": 0}}]}})
        assert mapping.apply({"amount": "99.5"})[0] == {"item": {"items": [{"item": {"id": "1"}, "rate": 99.5}, {"item": {"id": "2"}, "rate": 0}]}}

    def test_a_list_rule_cannot_take_a_value_map(self) -> None:
        with pytest.raises(ValueError, match="a list rule \\(each\\) builds a list: it cannot have map"):
            compiled({"lines": {"each": {"from": "rows", "mapping": {}}, "map": {"a": 1}}})

    def test_each_falls_back_to_fixed_items_without_line_items(self) -> None:
        rule = {
            "each": {"from": "line_items", "mapping": {"item.id": {"from": "sku", "map": {"WIDGET": "7"}}, "rate": {"from": "price", "type": "number"}}},
            "fallback": {"items": [{"item.id": {"const": "1"}, "rate": {"from": "amount", "type": "number", "required": True}}]},
        }
        mapping = compiled({"item.items": rule})
        assert mapping.apply({"line_items": [{"sku": "WIDGET", "price": "5"}], "amount": "9"})[0] == {"item": {"items": [{"item": {"id": "7"}, "rate": 5}]}}
        assert mapping.apply({"line_items": [], "amount": "9"})[0] == {"item": {"items": [{"item": {"id": "1"}, "rate": 9}]}}
        assert mapping.apply({"amount": "9"})[0] == {"item": {"items": [{"item": {"id": "1"}, "rate": 9}]}}


class TestFallbacksChainsAndChecks:
    COMPANIES = [{"id": "10", "ns": "C1"}, {"id": "11", "ns": None}]
    DEALS = [
        {"id": "d1", "companies": ["10"], "closed": "2024-01-01", "lost": False},
        {"id": "d2", "companies": ["10", "11"], "closed": "2024-03-01", "lost": False},
        {"id": "d3", "companies": ["10"], "closed": "2024-06-01", "lost": True},
    ]

    def lookups(self, lookup: Lookup) -> dict[str, Any]:
        from connector_core.sync.mapping import lookup_index

        records = {"source.companies": self.COMPANIES, "source.deals": self.DEALS}[lookup.stream]
        return lookup_index(records, lookup, Interpolator())

    def test_a_chain_of_lookups_with_list_keys_filter_and_sort(self) -> None:
        rule = {
            "from": "customer",
            "lookup": [
                {"stream": "source.companies", "key": "ns", "value": "id"},
                {"stream": "source.deals", "key": "companies", "value": "id", "filter": "{{ not record.lost }}", "sort_by": "closed"},
            ],
        }
        assert compiled({"deal": rule}).apply({"customer": "C1"}, lookups=self.lookups) == ({"deal": "d2"}, [])
        oldest = {**rule, "lookup": [rule["lookup"][0], {**rule["lookup"][1], "order": "asc"}]}
        assert compiled({"deal": oldest}).apply({"customer": "C1"}, lookups=self.lookups)[0] == {"deal": "d1"}

    def test_fallback_when_the_first_rule_finds_nothing_and_both_reasons_when_neither_does(self) -> None:
        rule = {
            "template": "{{ (record.ref | default(''))[5:] }}",
            "fallback": {"from": "customer", "lookup": {"stream": "source.companies", "key": "ns", "value": "id"}},
        }
        mapping = compiled({"company": rule})
        assert mapping.apply({"ref": "deal-77", "customer": "C1"}, lookups=self.lookups)[0] == {"company": "77"}
        assert mapping.apply({"customer": "C1"}, lookups=self.lookups)[0] == {"company": "10"}
        _, problems = mapping.apply({"customer": "C9"}, record_id=4, lookups=self.lookups)
        assert problems == [
            "record 4: field company: template gave ''; fallback: lookup found no record in source.companies whose ns is 'C9' (from customer); 1 records there"
        ]

    def test_let_values_feed_templates_and_checks_but_are_not_written(self) -> None:
        mapping = CompiledMapping(
            {"total": {"template": "{{ let.net * 2 }}"}},
            Interpolator(),
            let={"net": {"from": "amount", "type": "number"}},
            checks=[Check(that="{{ mapped.total < 100 }}", message="total {{ mapped.total }} is over the limit for {{ record.name }}")],
        )
        assert mapping.apply({"amount": "20", "name": "A"}) == ({"total": 40.0}, [])
        assert mapping.apply({"amount": "70", "name": "B"}, record_id=3)[1] == ["record 3: check failed: total 140 is over the limit for B"]

    def test_target_resolves_an_id_or_says_why_not(self) -> None:
        target = CompiledTarget({"from": "customer", "lookup": {"stream": "source.companies", "key": "ns", "value": "id"}}, Interpolator())
        assert target.resolve({"customer": "C1"}, record_id=1, lookups=self.lookups) == ("10", None)
        assert target.resolve({"customer": "C9"}, record_id=1, lookups=self.lookups) == (
            None, "lookup found no record in source.companies whose ns is 'C9' (from customer); 1 records there"
        )
        assert target.resolve({}, record_id=1, lookups=self.lookups) == (None, "match.target gave nothing")



class TestEveryMatch:
    """A lookup with `all: true` gives every matching record's value as a list; an `each` rule iterates it through `let`."""

    ORDERS = [{"id": "o1"}, {"id": "o2"}, {"id": "o3"}]
    LINES = [
        {"id": "l1", "order": "o1", "sku": "A", "qty": 2, "seq": 2},
        {"id": "l2", "order": "o2", "sku": "B", "qty": 1, "seq": 1},
        {"id": "l3", "order": "o1", "sku": "B", "qty": 5, "seq": 1},
        {"id": "l4", "order": "o1", "sku": "A", "qty": 0, "seq": 3},
    ]

    def lookups(self, lookup: Lookup) -> dict[str, Any]:
        from connector_core.sync.mapping import lookup_index

        return lookup_index(self.LINES, lookup, Interpolator())

    def lines_of_the_order(self, **lookup: Any) -> CompiledMapping:
        return CompiledMapping(
            {
                "item.items": {
                    "each": {
                        "template": "{{ let.lines }}",
                        "filter": "{{ item.qty > 0 }}",
                        "mapping": {"item.id": {"from": "sku", "map": {"A": "7", "B": "8"}}, "quantity": {"from": "qty", "type": "number"}},
                    },
                    "fallback": {"items": [{"item.id": {"const": "1"}, "quantity": {"const": 1}}]},
                }
            },
            Interpolator(),
            let={"lines": {"from": "id", "lookup": {"stream": "source.lines", "key": "order", "value": "", "all": True, **lookup}, "default": []}},
        )

    def test_every_match_in_read_order_or_sorted(self) -> None:
        def ids(**options: Any) -> dict[str, Any]:
            return lookup_index_of(self.LINES, {"stream": "source.lines", "key": "order", "value": "id", "all": True, **options})

        assert ids() == {"o1": ["l1", "l3", "l4"], "o2": ["l2"]}
        assert ids(sort_by="seq", order="asc") == {"o1": ["l3", "l1", "l4"], "o2": ["l2"]}
        assert ids(sort_by="seq") == {"o1": ["l4", "l1", "l3"], "o2": ["l2"]}
        assert ids(filter="{{ record.sku == 'B' }}") == {"o1": ["l3"], "o2": ["l2"]}
        # a list-valued key files the record under each of its items, once per record
        assert lookup_index_of([{"id": "x", "tags": ["a", "b", "a"]}], {"stream": "s.t", "key": "tags", "value": "id", "all": True}) == {"a": ["x"], "b": ["x"]}

    def test_each_over_every_match_builds_one_element_per_matching_record(self) -> None:
        mapping = self.lines_of_the_order(sort_by="seq", order="asc")
        mapped, problems = mapping.apply({"id": "o1"}, record_id="o1", lookups=self.lookups)
        assert problems == []
        assert mapped == {"item": {"items": [{"item": {"id": "8"}, "quantity": 5}, {"item": {"id": "7"}, "quantity": 2}]}}
        assert mapping.apply({"id": "o2"}, lookups=self.lookups)[0] == {"item": {"items": [{"item": {"id": "8"}, "quantity": 1}]}}

    def test_no_match_takes_the_default_and_the_list_rule_falls_back(self) -> None:
        assert self.lines_of_the_order().apply({"id": "o3"}, lookups=self.lookups) == ({"item": {"items": [{"item": {"id": "1"}, "quantity": 1}]}}, [])

    def test_element_problems_name_the_matching_record(self) -> None:
        lines = [*self.LINES, {"id": "l5", "order": "o2", "sku": "Z", "qty": 1}]
        _, problems = self.lines_of_the_order().apply({"id": "o2"}, record_id="o2", lookups=lambda lookup: lookup_index_of(lines, lookup.model_dump()))
        assert problems == [
            "record o2: field item.items[1].item.id: value 'Z' (from each.template.1.sku) is not in the value map (known: 'A', 'B'); add it to `map` or set a `default`"
        ]

    def test_each_template_must_give_a_list(self) -> None:
        mapping = CompiledMapping({"lines": {"each": {"template": "{{ record.name }}", "mapping": {"a": "a"}}}}, Interpolator())
        assert mapping.apply({"name": "x"}, record_id=3)[1] == ["record 3: field lines: 'x' (from each.template) is a str, not a list (expected a list for `each`)"]

    @pytest.mark.parametrize(
        ("rule", "words"),
        [
            ({"from": "a", "lookup": [{"stream": "s.t", "key": "k", "value": "v", "all": True}, {"stream": "s.u", "key": "k", "value": "v"}]}, "only the last lookup of a chain"),
            ({"from": "a", "type": "string", "lookup": {"stream": "s.t", "key": "k", "value": "v", "all": True}}, "cannot have `type`"),
            ({"each": {"from": "a", "template": "{{ let.b }}", "mapping": {}}}, "exactly one of from"),
            ({"each": {"mapping": {}}}, "exactly one of from"),
        ],
    )
    def test_refused_shapes(self, rule: dict[str, Any], words: str) -> None:
        with pytest.raises(ValueError, match=words):
            compiled({"x": rule})


def lookup_index_of(records: list[dict[str, Any]], lookup: dict[str, Any]) -> dict[str, Any]:
    from connector_core.sync.mapping import lookup_index

    return lookup_index(records, Lookup(**lookup), Interpolator())
