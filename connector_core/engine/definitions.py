"""Stream templates: one parameterised stream definition, made into several streams when a spec loads.

```yaml
stream_templates:
  crm_object:
    parameters: {key: id, cursor: updatedAt}      # defaults
    required: [object]
    stream:
      request: {path: "/v3/objects/{{ params.object }}"}
      records: results
      primary_key: "{{ params.key }}"
      cursor: "{{ params.cursor }}"
    streams:                                      # the streams made from it, with their parameters
      companies: {object: companies}
      deals: {object: deals, cursor: hs_lastmodifieddate}
```

``{{ params.NAME }}`` is replaced before anything else reads the spec: a whole-string placeholder by
the parameter's value (any type: a list stays a list), one inside a longer string by its text. Every
other template is left for run time. The streams made join ``streams`` and are validated like
streams written out; a problem in one is reported at the template's line, naming the stream and
where its parameters are given.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from connector_core.engine.documents import Document, PathKey, Position, format_path
from connector_core.engine.validation import suggest

SECTION = "stream_templates"
_WHOLE = re.compile(r"^\s*\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$")
_INSIDE = re.compile(r"\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_OTHER_USE = re.compile(r"\{[{%][^}]*\bparams\b")


def expand_stream_templates(doc: Document) -> list[str]:
    """Make the streams each template lists into ``doc.data['streams']``, with positions pointing at
    the template and a note naming the use; returns the located problems (nothing is added then)."""
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get(SECTION), dict):
        return []
    problems: list[str] = []

    def problem(at: PathKey, message: str, *, key: bool = False) -> None:
        problems.append(f"{doc.where(at, key=key)}: {format_path(at)}: {message}")

    streams = data.get("streams")
    if streams is None:
        streams = data["streams"] = {}
    if not isinstance(streams, dict):
        return []  # the model reports that `streams` is not a mapping
    made: dict[str, tuple[dict[str, Any], PathKey, PathKey]] = {}
    for name, template in data[SECTION].items():
        at: PathKey = (SECTION, name)
        if not isinstance(template, dict) or not isinstance(template.get("stream"), dict):
            continue  # the model reports the template's shape
        defaults = template.get("parameters") or {}
        required = template.get("required") or []
        uses = template.get("streams") or {}
        if not isinstance(defaults, dict) or not isinstance(required, list) or not isinstance(uses, dict):
            continue
        declared = sorted({*defaults, *(r for r in required if isinstance(r, str))})
        inline = _inline_parameters(template["stream"])
        problems_before = len(problems)
        _check_placeholders(problem, (*at, "stream"), template["stream"], declared)
        if not uses:
            problem(at, f"template '{name}' makes no stream; list them under `streams`, e.g. `streams: {{deals: {{...parameters}}}}`")
        if len(problems) > problems_before:
            continue
        for stream_name, given in uses.items():
            use_at: PathKey = (*at, "streams", stream_name)
            if not isinstance(given, dict):
                problem(use_at, f"the parameters of stream '{stream_name}' must be a mapping (name → value), got {type(given).__name__}")
                continue
            unknown = [p for p in given if p not in declared]
            for parameter in unknown:
                guess = suggest(str(parameter), declared)
                hint = f"did you mean '{guess}'?" if guess else f"parameters: {', '.join(declared) or '(none)'}"
                problem((*use_at, parameter), f"template '{name}' has no parameter '{parameter}'; {hint}", key=True)
            missing = [r for r in required if r not in given]
            if missing:
                problem(use_at, f"stream '{stream_name}' does not give the required parameter(s) {', '.join(missing)} of template '{name}'")
            if unknown or missing:
                continue
            if stream_name in streams or stream_name in made:
                other = ("streams", stream_name) if stream_name in streams else made[stream_name][2]
                problem(use_at, f"a stream called '{stream_name}' already exists (at {doc.where(other, key=True)}); give this one another name", key=True)
                continue
            values = {**defaults, **given}
            structured = [p for p in sorted(inline) if isinstance(values.get(p), dict | list)]
            for parameter in structured:
                where = (*use_at, parameter) if parameter in given else (*at, "parameters", parameter)
                problem(
                    where,
                    f"parameter '{parameter}' is a {type(values[parameter]).__name__}, but the template uses it inside a longer string, "
                    "where only text or a number fits; use it alone in a value (\"{{ params.NAME }}\") or give text",
                )
            if structured:
                continue
            made[stream_name] = (_substitute(template["stream"], values), (*at, "stream"), use_at)
    if problems:
        return problems
    for stream_name, (stream, template_at, use_at) in made.items():
        streams[stream_name] = stream
        _copy_positions(doc, template_at, ("streams", stream_name))
        origin = doc.where(use_at, key=True)
        doc.origins[("streams", stream_name)] = f"stream '{stream_name}' made from {format_path(template_at[:2])}, with the parameters at {origin}"
        doc.positions.setdefault(("streams", stream_name), doc.positions.get(use_at, Position(1, 1)))
        doc.key_positions[("streams", stream_name)] = doc.key_positions.get(use_at, Position(1, 1))
    return []


def _check_placeholders(problem: Any, at: PathKey, value: Any, declared: list[str]) -> None:
    """Every ``params.NAME`` is declared, and is used in the one form that is replaced."""
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, str):
                _check_text(problem, (*at, key), key, declared, key=True)
            _check_placeholders(problem, (*at, key), child, declared)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _check_placeholders(problem, (*at, index), child, declared)
    elif isinstance(value, str):
        _check_text(problem, at, value, declared)


def _check_text(problem: Any, at: PathKey, text: str, declared: list[str], *, key: bool = False) -> None:
    for parameter in _INSIDE.findall(text):
        if parameter not in declared:
            guess = suggest(parameter, declared)
            hint = f"did you mean 'params.{guess}'?" if guess else f"it declares: {', '.join(declared) or '(none)'}"
            problem(at, f"uses params.{parameter}, which the template does not declare in `parameters` or `required`; {hint}", key=key)
    if _OTHER_USE.search(_INSIDE.sub("", text)):
        problem(
            at,
            "only a plain {{ params.NAME }} is replaced when the spec loads; filters or expressions on a parameter are not "
            "(give the parameter the final value instead)",
            key=key,
        )


def _inline_parameters(value: Any) -> set[str]:
    """The parameters used inside longer strings (or keys), where only their text can go."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, str):
                found.update(_INSIDE.findall(key))
            found |= _inline_parameters(child)
    elif isinstance(value, list):
        for child in value:
            found |= _inline_parameters(child)
    elif isinstance(value, str) and not _WHOLE.match(value):
        found.update(_INSIDE.findall(value))
    return found


def _substitute(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {_INSIDE.sub(lambda m: _text(params[m.group(1)]), key) if isinstance(key, str) else key: _substitute(child, params) for key, child in value.items()}
    if isinstance(value, list):
        return [_substitute(child, params) for child in value]
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return copy.deepcopy(params[whole.group(1)])
        return _INSIDE.sub(lambda m: _text(params[m.group(1)]), value)
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _copy_positions(doc: Document, source: PathKey, target: PathKey) -> None:
    size = len(source)
    for table in (doc.positions, doc.key_positions):
        for path, position in list(table.items()):
            if path[:size] == source and len(path) > size:
                table[(*target, *path[size:])] = position


__all__ = ["SECTION", "expand_stream_templates"]
