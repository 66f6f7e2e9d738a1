"""Checking a parsed spec in full: the models with the component types it names, every template, and
what the models cannot check (references between streams, embedded schemas, paths, template names).

:func:`~connector_core.engine.loader.load_spec` calls :func:`check_spec` unless the spec is one it has
already checked and kept (``spec_cache``). Every problem is reported at once, each with ``file:line:col``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import nodes
from pydantic import ValidationError

from connector_core.engine.definitions import SECTION as TEMPLATES_SECTION
from connector_core.engine.documents import Document, PathKey, format_path
from connector_core.engine.export_checks import check_export
from connector_core.engine.interpolation import Interpolator
from connector_core.engine.paths import split_path
from connector_core.engine.reach_checks import check_reach
from connector_core.engine.registry import Registry
from connector_core.engine.spec import ConnectorSpec, spec_model
from connector_core.engine.spec_checks import StreamChecker, check_dotted_path, regex_problem, schema_patterns
from connector_core.engine.validation import suggest, validate_document
from connector_core.engine.windows import check_window
from connector_core.errors import SpecError

if TYPE_CHECKING:
    import jsonschema


def check_spec(
    doc: Document, registry: Registry, *, known_valid: bool, made_problems: list[str]
) -> ConnectorSpec[Any, Any, Any, Any, Any]:
    """The validated spec of ``doc``; raise SpecError with every located problem.

    ``known_valid``: these exact inputs passed every check before, so only the models run (to build the
    spec); ``made_problems``: problems found while making streams from stream templates.
    """
    template_problems = made_problems + ([] if known_valid else TemplateChecker(doc, registry).run())
    spec = _validate_with_used_types(doc, registry) if not template_problems else None
    if spec is None:  # the full model reports problems with every known type in view
        spec = validate_document(registry.spec_model, doc, "connector spec", template_problems)
    checked: ConnectorSpec[Any, Any, Any, Any, Any] = spec
    if known_valid:
        return checked
    problems = SpecChecker(doc, checked, registry).run()
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        raise SpecError(
            f"{doc.path}: invalid connector spec ({len(problems)} {noun})",
            problems=problems,
            spec_path=str(doc.path),
        )
    return checked


def _component_types(data: Any) -> tuple[set[str], set[str]]:
    """The auth and paginator ``type`` values a raw spec names."""
    auths: set[str] = set()
    paginators: set[str] = set()
    if not isinstance(data, dict):
        return auths, paginators
    auth = data.get("auth")
    for item in auth if isinstance(auth, list) else [auth]:
        chosen = item.get("use") if isinstance(item, dict) and "use" in item else item
        if isinstance(chosen, dict):
            auths.add(str(chosen.get("type")))
    streams = data.get("streams")
    for holder in [data, *(streams.values() if isinstance(streams, dict) else [])]:
        paginate = holder.get("paginate") if isinstance(holder, dict) else None
        if isinstance(paginate, dict):
            paginators.add(str(paginate.get("type")))
    return auths, paginators


def _validate_with_used_types(doc: Document, registry: Registry) -> Any:
    """Validate against a spec model holding only the auth types and paginators the spec names.

    Models are built on first use, so this skips building validators for every other installed
    component, most of a short command's start-up. None when that is not possible or not valid:
    the caller then validates with the full model, whose messages list every known type.
    """
    auths, paginators = _component_types(doc.data)
    if not auths <= set(registry.auth_types) or not paginators <= set(registry.paginators):
        return None
    first_auth, first_paginator = (
        next(iter(registry.auth_types.values())),
        next(iter(registry.paginators.values())),
    )
    model = spec_model(
        tuple(registry.auth_types[name] for name in sorted(auths)) or (first_auth,),
        tuple(registry.paginators[name] for name in sorted(paginators)) or (first_paginator,),
        *registry.stream_components,
    )
    try:
        return model.model_validate(doc.data)
    except ValidationError:
        return None


class _Checker:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[str] = []

    def problem(self, at: PathKey, message: str, *, key: bool = False) -> None:
        self.problems.append(f"{self.doc.where(at, key=key)}: {format_path(at)}: {message}")


class TemplateChecker(_Checker):
    """Compiles every template in the raw document and checks the config names it uses."""

    def __init__(self, doc: Document, registry: Registry) -> None:
        super().__init__(doc)
        self.interpolator = Interpolator(registry.filters)
        config = doc.data.get("config") if isinstance(doc.data, dict) else None
        properties = config.get("properties", {}) if isinstance(config, dict) else {}
        self.config_keys = set(properties) if isinstance(properties, dict) else set()

    def run(self) -> list[str]:
        if isinstance(self.doc.data, dict):
            self.check_templates((), self.doc.data)
        return self.problems

    def check_templates(self, at: PathKey, value: Any) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                if not at and key == TEMPLATES_SECTION:
                    continue  # checked in the streams made from them, located at the template's lines
                self.check_templates((*at, key), child)
        elif isinstance(value, list):
            for index, child in enumerate(value):
                self.check_templates((*at, index), child)
        elif isinstance(value, str) and ("{{" in value or "{%" in value):
            where = format_path(at)
            try:
                self.interpolator.compile(value, where)
                ast = self.interpolator.env.parse(value)
            except SpecError as exc:
                self.problem(at, f"{exc.message.replace(f' at {where}', '')} (in {_short_template(value)})")
                return
            for name in sorted(_config_attributes(ast)):
                if self.config_keys and name not in self.config_keys:
                    guess = suggest(name, sorted(self.config_keys))
                    extra = (
                        f"; did you mean 'config.{guess}'?"
                        if guess
                        else f"; config defines: {', '.join(sorted(self.config_keys))}"
                    )
                    self.problem(
                        at,
                        f"template refers to config.{name}, which the config schema does not define{extra}",
                    )


class SpecChecker(_Checker):
    """Checks that need more than one field: references between streams, embedded schemas, paths and
    the names templates use where they run."""

    def __init__(
        self, doc: Document, spec: ConnectorSpec[Any, Any, Any, Any, Any], registry: Registry
    ) -> None:
        super().__init__(doc)
        self.spec = spec
        self.registry = registry
        self._interpolator: Interpolator | None = None

    def interpolator(self) -> Interpolator:
        if self._interpolator is None:
            self._interpolator = Interpolator(self.registry.filters)
        return self._interpolator

    def run(self) -> list[str]:
        self.check_schema(("config",), self.spec.config, "config schema")
        streams = self.spec.streams
        for name, stream in streams.items():
            at: PathKey = ("streams", name)
            if isinstance(stream.record_schema, dict):
                self.check_schema((*at, "schema"), stream.record_schema, "record schema")
            elif stream.record_schema is not None:
                from connector_core.engine.dynamic_schema_checks import check_dynamic_schema

                check_dynamic_schema(self.problem, self.interpolator(), self.registry, at, stream)
            if stream.partitions is not None:
                self.check_partitions((*at, "partitions"), name, stream.partitions)
            for index, transform in enumerate(stream.transforms):
                self.check_transform((*at, "transforms", index), transform)
            StreamChecker(self.problem, self.interpolator(), at, stream).run()
            check_export(self.problem, self.interpolator(), at, stream)
            if not isinstance(stream.cursor, str | None):
                check_window(self.problem, (*at, "cursor"), stream.cursor)
            if stream.hidden:
                self.check_hidden(at, name)
        check_reach(self.problem, self.spec)
        for name, operation in self.spec.operations.items():
            at = ("operations", name)
            self.check_schema((*at, "input"), operation.input, "input schema")
            if operation.kind == "batch" and operation.batch is None:
                self.problem(
                    at, "an operation of kind 'batch' needs a 'batch' section (size, results, errors)"
                )
            if operation.id is not None and operation.id.path:
                self.check_dotted_path((*at, "id", "path"), operation.id.path)
            if operation.batch is not None:
                for key in ("results", "errors"):
                    value = getattr(operation.batch, key)
                    if value:
                        self.check_dotted_path((*at, "batch", key), value)
        check = self.spec.check
        if check and check.stream and check.stream not in streams:
            self.unknown_stream(("check", "stream"), check.stream)
        if check is not None:
            self.check_check(check)
        return sorted(set(self.problems), key=_position_key)

    def check_dotted_path(self, at: PathKey, path: str) -> None:
        check_dotted_path(self.problem, at, path)

    def check_check(self, check: Any) -> None:
        given = [key for key in ("request", "stream", "streams") if getattr(check, key)]
        if not given:
            self.problem(("check",), "set 'request', 'stream' or 'streams'")
        elif len(given) > 1:
            both = "both " if len(given) == 2 else "all of "
            self.problem(
                ("check",),
                f"set one of 'request', 'stream' or 'streams', not {both}{' and '.join(repr(k) for k in given)} (only one would be tried)",
            )
        seen: set[str] = set()
        for index, item in enumerate(check.streams):
            name, at = (
                (item, ("check", "streams", index))
                if isinstance(item, str)
                else (item.stream, ("check", "streams", index, "stream"))
            )
            if name not in self.spec.streams:
                self.unknown_stream(at, name)
            elif name in seen:
                self.problem(at, f"stream '{name}' is listed twice; list it once")
            seen.add(name)

    def unknown_stream(self, at: PathKey, name: str) -> None:
        guess = suggest(name, list(self.spec.streams))
        hint = (
            f"; did you mean '{guess}'?"
            if guess
            else f"; streams: {', '.join(self.spec.streams) or '(none)'}"
        )
        self.problem(at, f"no stream is called '{name}'{hint}")

    def check_partitions(self, at: PathKey, stream: str, partitions: Any) -> None:
        if partitions.router is not None and (partitions.values is not None or partitions.parent is not None):
            self.problem(
                at,
                "set 'router' alone: the plugin's router lists the partitions, so 'values' and 'parent' would be ignored",
            )
            return
        if partitions.router is None and partitions.values is None and partitions.parent is None:
            self.problem(
                at,
                "set 'values', 'parent' (or both: the config's list when it gives one, else the parent's records) or 'router'",
            )
            return
        if partitions.parent is None:
            return
        if partitions.parent not in self.spec.streams:
            self.unknown_stream((*at, "parent"), partitions.parent)
            return
        chain, current = [stream], partitions.parent
        while current is not None:
            if current in chain:
                cycle = chain[chain.index(current) :]
                if stream == min(cycle):  # report each cycle once, on its first stream by name
                    self.problem(
                        (*at, "parent"), f"parent streams form a cycle: {' -> '.join([*cycle, current])}"
                    )
                return
            chain.append(current)
            parent = self.spec.streams.get(current)
            current = parent.partitions.parent if parent and parent.partitions else None

    def check_hidden(self, at: PathKey, name: str) -> None:
        """A hidden stream is read only as another stream's parent (or by `check`): unused, it is dead."""
        feeds = any(
            s.partitions is not None and s.partitions.parent == name for s in self.spec.streams.values()
        )
        checked = self.spec.check is not None and self.spec.check.stream == name
        routed = any(
            s.partitions is not None and s.partitions.router is not None for s in self.spec.streams.values()
        )
        if not feeds and not checked and not routed:  # a plugin's router may read it by name
            self.problem(
                (*at, "hidden"),
                f"stream '{name}' is hidden but no stream names it in `partitions.parent`, so nothing would ever read it; "
                "name it as a parent, or drop `hidden`",
            )

    def check_transform(self, at: PathKey, transform: Any) -> None:
        kinds = ("set", "drop", "rename", "remove", "keys", "flatten", "unflatten", "cast", "plugin")
        chosen = [k for k in kinds if getattr(transform, k) is not None]
        if len(chosen) != 1:
            self.problem(
                at,
                f"a transform sets exactly one of {', '.join(kinds)} (found {', '.join(chosen) or 'none'})",
            )
        from connector_core.engine.spec_checks import check_new_transform

        check_new_transform(self.problem, at, transform)
        for path in transform.set or {}:
            if not split_path(path):  # located at the key, named by the mapping that holds it
                where = self.doc.where((*at, "set", path), key=True)
                self.problems.append(
                    f"{where}: {format_path((*at, 'set'))}: {path!r} is not a field path; name the field to set, e.g. 'full_name' or 'address.city'"
                )
        for index, path in enumerate(transform.drop or []):
            if not split_path(path):
                self.problem((*at, "drop", index), f"{path!r} is not a field path; name the field to drop")
        for old, new in (transform.rename or {}).items():
            if not old.strip():
                where = self.doc.where((*at, "rename", old), key=True)
                self.problems.append(
                    f"{where}: {format_path((*at, 'rename'))}: {old!r} is not a field name; name the field to rename"
                )
            elif not new.strip():
                self.problem((*at, "rename", old), f"{new!r} is not a field name; give the field's new name")
        if transform.plugin is not None and transform.plugin not in self.registry.transforms:
            guess = suggest(transform.plugin, list(self.registry.transforms))
            known = ", ".join(sorted(self.registry.transforms)) or "(none installed)"
            self.problem(
                (*at, "plugin"),
                f"no plugin transform '{transform.plugin}'"
                + (f"; did you mean '{guess}'?" if guess else f"; known: {known}"),
            )

    def check_schema(self, at: PathKey, schema: Any, what: str) -> None:
        """Check an embedded JSON Schema against its metaschema, reporting every problem, and compile its
        regular expressions (the metaschema does not; a bad one would fail the first value checked)."""
        if not isinstance(schema, dict):
            self.problem(
                at, f"invalid {what}: expected a mapping (a JSON Schema), got {type(schema).__name__}"
            )
            return
        import jsonschema

        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        meta = cls(cls.META_SCHEMA)
        for error in sorted(meta.iter_errors(schema), key=lambda e: [str(p) for p in e.absolute_path]):
            self.problem((*at, *error.absolute_path), f"invalid {what}: {_schema_message(error)}")
        for where, pattern, key in schema_patterns(schema, at):
            problem = regex_problem(pattern)
            if problem:
                self.problem(where, f"invalid {what}: {problem}", key=key)


_JSON_TYPES = ["array", "boolean", "integer", "null", "number", "object", "string"]
_TYPE_WORDS = {
    "array": "a list",
    "object": "a mapping",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
}


def _schema_message(error: jsonschema.ValidationError) -> str:
    """A metaschema error in words: what was found and what a JSON Schema expects there."""
    value = error.instance
    keyword = error.absolute_path[-1] if error.absolute_path else None
    if keyword == "type" and error.validator in ("anyOf", "oneOf", "enum"):
        names = value if isinstance(value, list) else [value]
        bad = [n for n in names if not (isinstance(n, str) and n in _JSON_TYPES)]
        if bad and isinstance(bad[0], str):
            guess = suggest(bad[0], _JSON_TYPES)
            return (
                f"'{bad[0]}' is not a JSON Schema type"
                + (f" (did you mean '{guess}'?)" if guess else "")
                + f"; types: {', '.join(_JSON_TYPES)}"
            )
        return f"'type' must be a type name or a list of them, got {value!r}; types: {', '.join(_JSON_TYPES)}"
    if error.validator == "type":
        expected = (
            error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        )
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in expected)
        where = f"'{keyword}' " if isinstance(keyword, str) else ""
        return f"{where}must be {words}, got {_short(value)}"
    if error.context:
        import jsonschema

        best = jsonschema.exceptions.best_match(error.context)
        if best is not None and best is not error:
            return _schema_message(best)
    return error.message


def _position_key(problem: str) -> tuple[int, int, str]:
    where = problem.split(": ", 1)[0].rsplit(":", 2)
    try:
        return int(where[-2]), int(where[-1]), problem
    except (ValueError, IndexError):
        return 0, 0, problem


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short_template(value: str) -> str:
    return _short(" ".join(value.split()), 70)


def _config_attributes(ast: nodes.Template) -> set[str]:
    names: set[str] = set()
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        # find_all is typed with the two classes' common base; narrow to them again.
        if not isinstance(node, nodes.Getattr | nodes.Getitem):
            continue
        target = node.node
        if isinstance(target, nodes.Name) and target.name == "config":
            if isinstance(node, nodes.Getattr):
                names.add(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                names.add(node.arg.value)
    return names


__all__ = ["SpecChecker", "TemplateChecker", "check_spec"]
