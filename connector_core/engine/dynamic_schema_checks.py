"""What ``validate`` checks in a stream's ``schema: {from: ...}`` (the schema fetched from the API when
``discover`` runs, :mod:`~connector_core.engine.dynamic_schema`): the transform exists, the path is a path,
and the request's templates use only the names they will see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import meta

from connector_core.engine.spec_checks import StreamChecker, check_dotted_path, template_places
from connector_core.engine.validation import suggest

if TYPE_CHECKING:
    from connector_core.engine.documents import PathKey
    from connector_core.engine.interpolation import Interpolator
    from connector_core.engine.registry import Registry
    from connector_core.engine.spec_checks import Problem

#: What the schema request's templates see besides ``config``: no state, partition or page exists yet.
SCHEMA_REQUEST_NAMES = frozenset({"stream"})


def check_dynamic_schema(
    problem: Problem, interpolator: Interpolator, registry: Registry, at: PathKey, stream: Any
) -> None:
    """What ``validate`` checks in ``schema: {from: ...}``: the transform exists, the path is a path,
    and the request's templates use only the names they will see."""
    source = stream.record_schema.source
    where: PathKey = (*at, "schema", "from")
    if source.transform is not None and source.transform not in registry.transforms:
        guess = suggest(source.transform, list(registry.transforms))
        known = ", ".join(sorted(registry.transforms)) or "(none installed)"
        problem(
            (*where, "transform"),
            f"no plugin transform '{source.transform}'"
            + (f"; did you mean '{guess}'?" if guess else f"; known: {known}"),
        )
    if source.path:
        check_dotted_path(problem, (*where, "path"), source.path)
    checker = StreamChecker(problem, interpolator, at, stream)
    templates = template_places(
        source.request.model_dump(by_alias=True, exclude_defaults=True), (*where, "request")
    )
    if isinstance(source.fields, str):
        templates.append(((*where, "fields"), source.fields))
    for place, text in templates:
        ast = checker.parse(text)
        if ast is None:
            continue
        visible = {"config", *SCHEMA_REQUEST_NAMES}
        for name in sorted(meta.find_undeclared_variables(ast) - visible - set(interpolator.env.globals)):
            problem(
                place,
                f"template uses '{name}', which does not exist when a schema is fetched (before any read: no state, partition, page or record); it sees {', '.join(sorted(visible))}",
            )


__all__ = ["SCHEMA_REQUEST_NAMES", "check_dynamic_schema"]
