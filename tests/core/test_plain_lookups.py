"""A template that is one plain lookup is answered without Jinja, and always exactly as Jinja's sandbox
answers it: the same value (the same object), the same located error, the same refusal."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest

from connector_core.engine.interpolation import Interpolator
from connector_core.errors import InterpolationError, SpecError

CONTEXT: dict[str, Any] = {
    "config": {
        "base_url": "https://api.example.com",
        "page_size": 50,
        "nested": {"deep": {"value": [1, 2]}},
        "items": "a key that is also a dict method",
        "_hidden": "underscore",
        "empty": None,
        "tags": ["a", "b"],
    },
    "record": {"id": 7, "props": {"name": "Ada"}},
    "state": {},
}

TEMPLATES = [
    "{{ config.base_url }}",
    "{{config.page_size}}",
    "  {{ config.nested.deep.value }}  ",
    "{{ config.nested }}",
    "{{ config.items }}",  # Jinja finds dict.items first
    "{{ config.empty }}",
    "{{ config . base_url }}",
    "{{ record.props.name }}",
    "{{ config.tags }}",
]


def jinja_answer(interp: Interpolator, template: str) -> Any:
    return interp.jinja.render(template, CONTEXT, "here")


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_same_value_as_jinja(template: str) -> None:
    interp = Interpolator()
    expected = jinja_answer(Interpolator(), template)
    answer = interp.render(template, CONTEXT, "here")
    if callable(expected):  # a bound method: compare what it is bound to
        assert answer.__self__ is expected.__self__ and answer.__name__ == expected.__name__
    else:
        assert answer == expected and type(answer) is type(expected)


def test_a_found_value_is_the_object_itself() -> None:
    assert Interpolator().render("{{ config.nested }}", CONTEXT) is CONTEXT["config"]["nested"]


@pytest.mark.parametrize(
    "template",
    ["{{ config.base_urll }}", "{{ config.base_url.missing }}", "{{ record.props.nmae }}", "{{ state.cursor }}"],
)
def test_the_same_located_error_as_jinja(template: str) -> None:
    with pytest.raises(InterpolationError) as plain:
        Interpolator().render(template, CONTEXT, "streams.items.request.path")
    with pytest.raises(InterpolationError) as jinja:
        jinja_answer(Interpolator(), template)
    assert "streams.items.request.path" in str(plain.value)
    assert plain.value.message.replace("streams.items.request.path", "here") == jinja.value.message


@pytest.mark.parametrize("template", ["{{ config.__class__ }}", "{{ config._hidden.__len__ }}", "{{ record.__init__ }}"])
def test_internals_are_still_refused_by_the_sandbox(template: str) -> None:
    with pytest.raises(InterpolationError) as caught:
        Interpolator().render(template, CONTEXT, "here")
    assert "refused by the sandbox" in str(caught.value)


def test_unknown_names_are_reported_when_compiled() -> None:
    with pytest.raises(SpecError) as caught:
        Interpolator().compile("{{ confg.base_url }}", "base_url")
    assert "unknown name 'confg'" in caught.value.message and "did you mean 'config'" in caught.value.message


def test_a_command_with_only_plain_lookups_never_imports_jinja() -> None:
    probe = textwrap.dedent(
        """
        import sys
        from connector_core.engine.interpolation import Interpolator
        interp = Interpolator()
        interp.compile("{{ config.base_url }}", "base_url")
        assert interp.render({"url": "{{ config.base_url }}", "size": "{{ config.n }}"}, {"config": {"base_url": "u", "n": 2}}) == {"url": "u", "size": 2}
        print("jinja2" in sys.modules)
        interp.render("{{ config.n + 1 }}", {"config": {"n": 2}})
        print("jinja2" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split() == ["False", "True"]
