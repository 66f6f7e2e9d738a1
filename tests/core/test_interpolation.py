"""Sandboxed templates: what they refuse, how they fail, what types they return, and the filters."""

from __future__ import annotations

import datetime as dt

import pytest

from connector_core.engine.interpolation import Interpolator, parse_datetime
from connector_core.errors import InterpolationError, SpecError

SECRET = "s3cr3t-api-key-value"


@pytest.fixture
def interp() -> Interpolator:
    return Interpolator()


@pytest.fixture
def context() -> dict[str, object]:
    return {
        "config": {"api_key": SECRET, "account_id": "1234567_SB1", "page_size": 50, "tags": ["a", "b"]},
        "input": {"id": "a/b?c", "payload": {"name": "Ada", "nested": {"n": 1}}, "count": 3, "folder": "x/y"},
        "state": {},
    }


class TestSandbox:
    @pytest.mark.parametrize(
        "template",
        [
            "{{ config.__class__.__mro__ }}",
            "{{ config.__class__ }}",
            "{{ ().__class__.__subclasses__() }}",
            "x{{ ().__class__.__base__.__subclasses__() }}",
            "{{ lipsum.__globals__['os'] }}",
            "{{ cycler.__init__.__globals__ }}",
            "{{ uuid4.__globals__ }}",
            "{{ input.payload.__init__ }}",
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ config.api_key.__len__() }}",
        ],
    )
    def test_refuses_python_internals(self, interp: Interpolator, context: dict[str, object], template: str) -> None:
        with pytest.raises(InterpolationError) as caught:
            interp.render(template, context, "streams.customers.request.path")
        message = str(caught.value)
        assert "streams.customers.request.path" in message
        assert "was refused by the sandbox" in message and "unsafe" in message
        assert SECRET not in message

    @pytest.mark.parametrize(
        "template",
        [
            "{{ config.tags.append('c') }}",
            "{{ config.tags.pop() }}",
            "{{ config.update({'x': 1}) }}",
            "{{ config.clear() }}",
            "{% set _ = input.payload.setdefault('k', 1) %}",
        ],
    )
    def test_values_passed_in_cannot_be_mutated(self, interp: Interpolator, context: dict[str, object], template: str) -> None:
        before = repr(context)
        with pytest.raises(InterpolationError, match="sandbox"):
            interp.render(template, context, "operations.x.request.json")
        assert repr(context) == before

    def test_huge_ranges_are_refused(self, interp: Interpolator, context: dict[str, object]) -> None:
        with pytest.raises(SpecError, match="at t exceeds the 100,000-item range limit"):  # constant: refused when it compiles
            interp.render("{{ range(10 ** 9) | list }}", context, "t")


class TestUndefined:
    def test_missing_key_names_the_location_and_suggests(self, interp: Interpolator, context: dict[str, object]) -> None:
        with pytest.raises(InterpolationError) as caught:
            interp.render("Bearer {{ config.api_kye }}", context, "auth.token")
        message = str(caught.value)
        assert "auth.token" in message
        assert "no key 'api_kye'" in message and "did you mean 'api_key'" in message
        assert SECRET not in message and "1234567_SB1" not in message

    def test_single_expression_that_is_undefined_raises(self, interp: Interpolator, context: dict[str, object]) -> None:
        # a lone expression returns the native value; an undefined one must fail, not slip through
        with pytest.raises(InterpolationError, match=r"operations\.create\.request\.json.*no key 'nmae'"):
            interp.render("{{ input.payload.nmae }}", context, "operations.create.request.json")

    def test_undefined_inside_a_literal_raises(self, interp: Interpolator, context: dict[str, object]) -> None:
        with pytest.raises(InterpolationError, match="no key 'nmae'"):
            interp.render("{{ {'name': input.payload.nmae} }}", context, "body")

    def test_config_is_never_dumped(self, interp: Interpolator, context: dict[str, object]) -> None:
        for template in ("{{ config.missing }}", "{{ config.missing.deeper }}", "{{ config.tags[7] }}", "{{ 1 if false }}"):
            with pytest.raises(InterpolationError) as caught:
                interp.render(template, context, "where")
            message = str(caught.value)
            assert SECRET not in message and "1234567_SB1" not in message, message

    def test_index_out_of_range(self, interp: Interpolator, context: dict[str, object]) -> None:
        with pytest.raises(InterpolationError, match=r"index 7 is out of range \(the list has 2 items\)"):
            interp.render("{{ config.tags[7] }}", context, "t")

    def test_default_filter_still_works(self, interp: Interpolator, context: dict[str, object]) -> None:
        assert interp.render("{{ state.cursor | default(None) }}", context, "t") is None
        assert interp.render("{{ config.start_date | default('2024-01-01') }}", context, "t") == "2024-01-01"


class TestCompileTimeErrors:
    def test_unknown_name_suggests(self, interp: Interpolator) -> None:
        with pytest.raises(SpecError, match=r"template at base_url uses unknown name 'confg' \(did you mean 'config'\?\)"):
            interp.compile("https://{{ confg.host }}", "base_url")

    def test_unknown_name_without_suggestion_lists_the_names(self, interp: Interpolator) -> None:
        with pytest.raises(SpecError, match="templates can use: config, .*input"):
            interp.compile("{{ zzz }}", "x")

    def test_unknown_filter_suggests(self, interp: Interpolator) -> None:
        with pytest.raises(SpecError, match=r"unknown filter 'sql_strin'; did you mean 'sql_string'\?"):
            interp.compile("SELECT * FROM t WHERE name = {{ input.name | sql_strin }}", "q")

    def test_unknown_filter_inside_a_block_is_found_at_compile_time(self, interp: Interpolator) -> None:
        with pytest.raises(SpecError, match="unknown filter 'format_datetim'"):
            interp.compile("{% if state.cursor %}{{ state.cursor | format_datetim }}{% endif %}", "q")

    def test_syntax_error_names_the_field(self, interp: Interpolator) -> None:
        with pytest.raises(SpecError, match=r"template syntax error at streams\.a\.request\.path: unexpected '}'"):
            interp.compile("/a/{{ input.id }", "streams.a.request.path")

    def test_plugin_filters_are_available(self) -> None:
        interp = Interpolator({"shout": lambda v: str(v).upper()})
        assert interp.render("{{ input.x | shout }}", {"input": {"x": "hi"}}) == "HI"


class TestNativeTypes:
    def test_single_expression_keeps_its_type(self, interp: Interpolator, context: dict[str, object]) -> None:
        payload = interp.render("{{ input.payload }}", context)
        assert payload == {"name": "Ada", "nested": {"n": 1}} and isinstance(payload, dict)
        assert interp.render("{{ input.count }}", context) == 3
        assert interp.render("{{ config.page_size * 2 }}", context) == 100
        assert interp.render("  {{ config.tags }}  ", context) == ["a", "b"]
        assert interp.render("{{ None }}", context) is None
        assert interp.render("{{ true }}", context) is True

    def test_text_templates_render_text(self, interp: Interpolator, context: dict[str, object]) -> None:
        assert interp.render("{{ input.count }} items", context) == "3 items"
        assert interp.render("{{ input.count }}{{ input.count }}", context) == "33"

    def test_nested_structures_render_each_leaf(self, interp: Interpolator, context: dict[str, object]) -> None:
        value = {"filter": {"limit": "{{ config.page_size }}", "ids": ["{{ input.count }}", "x"]}, "n": 5}
        assert interp.render(value, context) == {"filter": {"limit": 50, "ids": [3, "x"]}, "n": 5}

    def test_nested_errors_name_the_nested_path(self, interp: Interpolator, context: dict[str, object]) -> None:
        with pytest.raises(InterpolationError, match=r"at json\.filter\.ids\[1\]"):
            interp.render({"filter": {"ids": ["x", "{{ input.nope }}"]}}, context, "json")

    def test_plain_strings_are_untouched(self, interp: Interpolator, context: dict[str, object]) -> None:
        assert interp.render("{ not a template }", context) == "{ not a template }"


class TestPaths:
    def test_values_are_escaped_as_one_segment(self, interp: Interpolator, context: dict[str, object]) -> None:
        assert interp.render_path("/records/{{ input.id }}", context, "p") == "/records/a%2Fb%3Fc"

    def test_dot_dot_cannot_climb(self, interp: Interpolator) -> None:
        assert interp.render_path("/records/{{ input.id }}", {"input": {"id": "../admin"}}, "p") == "/records/..%2Fadmin"

    def test_path_filter_keeps_slashes(self, interp: Interpolator, context: dict[str, object]) -> None:
        assert interp.render_path("/files/{{ input.folder | path }}/list", context, "p") == "/files/x/y/list"

    def test_literal_text_of_the_template_is_kept(self, interp: Interpolator, context: dict[str, object]) -> None:
        assert interp.render_path("/a/b/{{ input.count }}?x=1", context, "p") == "/a/b/3?x=1"

    def test_undefined_in_a_path_is_located(self, interp: Interpolator, context: dict[str, object]) -> None:
        with pytest.raises(InterpolationError, match=r"streams\.orders\.request\.path: no key 'customer_id'"):
            interp.render_path("/c/{{ input.customer_id }}", context, "streams.orders.request.path")


class TestSqlFilters:
    def test_sql_string_doubles_quotes(self, interp: Interpolator) -> None:
        render = lambda v: interp.render("{{ input.v | sql_string }}", {"input": {"v": v}})  # noqa: E731
        assert render("O'Brien") == "'O''Brien'"
        assert render("O'Brien'); --") == "'O''Brien''); --'"
        assert render("x' OR '1'='1") == "'x'' OR ''1''=''1'"
        assert render(None) == "NULL"
        assert render(42) == "'42'"

    def test_injection_stays_inside_one_literal(self, interp: Interpolator) -> None:
        sql = interp.render("SELECT id FROM customer WHERE name = {{ input.v | sql_string }}", {"input": {"v": "a'; DROP TABLE customer; --"}})
        literal = sql.split("= ", 1)[1]
        assert literal.startswith("'") and literal.endswith("'")
        assert "''" in literal and literal[1:-1].replace("''", "").count("'") == 0

    def test_sql_number_accepts_numbers(self, interp: Interpolator) -> None:
        render = lambda v: interp.render("LIMIT {{ input.v | sql_number }}", {"input": {"v": v}})  # noqa: E731
        assert render(10) == "LIMIT 10"
        assert render("25") == "LIMIT 25"
        assert render(-1.5) == "LIMIT -1.5"

    @pytest.mark.parametrize("value", ["10; DROP TABLE x", "1 OR 1=1", "abc", "", True, float("nan"), float("inf"), None])
    def test_sql_number_refuses_anything_else(self, interp: Interpolator, value: object) -> None:
        with pytest.raises(InterpolationError, match="sql.limit failed"):
            interp.render("{{ input.v | sql_number }}", {"input": {"v": value}}, "sql.limit")


class TestDateFilters:
    def test_parse_datetime_reads_every_form_as_utc(self) -> None:
        expected = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
        assert parse_datetime("2024-05-01T12:00:00Z") == expected
        assert parse_datetime("2024-05-01T14:00:00+02:00") == expected
        assert parse_datetime("2024-05-01 12:00:00") == expected  # naive and space-separated: UTC
        assert parse_datetime("2024-05-01T12:00:00") == expected
        assert parse_datetime(1714564800) == expected  # epoch seconds
        assert parse_datetime(1714564800000) == expected  # epoch milliseconds
        assert parse_datetime("1714564800") == expected
        assert parse_datetime("1714564800000") == expected
        assert parse_datetime(dt.date(2024, 5, 1)) == dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
        assert parse_datetime(dt.datetime(2024, 5, 1, 12)).tzinfo is not None

    def test_format_datetime(self, interp: Interpolator) -> None:
        ctx = {"state": {"cursor": "2024-05-01T14:00:00+02:00"}, "input": {"ms": 1714564800000}}
        assert interp.render("{{ state.cursor | format_datetime }}", ctx) == "2024-05-01T12:00:00Z"
        assert interp.render("{{ state.cursor | format_datetime('%m/%d/%Y') }}", ctx) == "05/01/2024"
        assert interp.render("{{ input.ms | format_datetime('%Y-%m-%d %H:%M') }}", ctx) == "2024-05-01 12:00"
        assert interp.render("{{ state.cursor | format_datetime('%H:%M', tz='America/New_York') }}", ctx) == "08:00"

    def test_timestamps(self, interp: Interpolator) -> None:
        ctx = {"state": {"cursor": "2024-05-01T12:00:00Z", "naive": "2024-05-01T12:00:00"}}
        assert interp.render("{{ state.cursor | timestamp_ms }}", ctx) == 1714564800000
        assert interp.render("{{ state.naive | timestamp_ms }}", ctx) == 1714564800000
        assert interp.render("{{ state.cursor | timestamp }}", ctx) == 1714564800

    def test_unreadable_date_says_what_it_expected(self, interp: Interpolator) -> None:
        with pytest.raises(InterpolationError, match=r"cannot read 'yesterday' as a date-time; expected ISO 8601"):
            interp.render("{{ state.cursor | format_datetime }}", {"state": {"cursor": "yesterday"}}, "q")

    def test_now_utc_is_aware(self, interp: Interpolator) -> None:
        now = interp.render("{{ now_utc() }}", {})
        assert isinstance(now, dt.datetime) and now.tzinfo is not None
