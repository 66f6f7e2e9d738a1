"""Checks of settings a spec gives that the engine would never use, and of names and paths that could
never match anything: empty names, a path step with spaces around it, an option of another decoder
format, a partition field without a parent stream. Each passes the models and would read nothing, or
be ignored, at run time. :class:`~connector_core.engine.loader.SpecChecker` calls :func:`check_reach`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector_core.engine.documents import PathKey

#: Reports one problem at a path of the document (``key=True``: at the key rather than its value).
Problem = Callable[..., None]

#: Decoder options and the formats that read them (``auto`` may pick any of them).
_DECODER_OPTIONS = {"delimiter": ("csv",), "encoding": ("csv",), "nulls": ("csv",), "members": ("zip",)}


def check_reach(problem: Problem, spec: Any) -> None:
    """Report every unused setting and never-matching name or path of ``spec``."""
    for section in ("streams", "operations"):
        for name in getattr(spec, section):
            if not str(name).strip():
                noun = "stream" if section == "streams" else "write operation"
                # located at the section: a path through an empty key cannot be written
                problem((section,), f"a {noun} has an empty name ({name!r}); give it a name: an empty one cannot be read, called or listed", key=True)
    for name, stream in spec.streams.items():
        _check_stream(problem, ("streams", name), stream)


def _check_stream(problem: Problem, at: PathKey, stream: Any) -> None:
    records = stream.records
    records_at = (*at, "records") if isinstance(records, str) else (*at, "records", "path")
    _check_path(problem, records_at, records if isinstance(records, str) else records.path, "records path")
    keys = stream.primary_key
    for index, key in enumerate([keys] if isinstance(keys, str) else list(keys or [])):
        where = (*at, "primary_key") if isinstance(keys, str) else (*at, "primary_key", index)
        _check_field(problem, where, key, "primary key")
    cursor = stream.cursor
    if cursor is not None:
        field = cursor if isinstance(cursor, str) else cursor.field
        _check_field(problem, (*at, "cursor") if isinstance(cursor, str) else (*at, "cursor", "field"), field, "cursor field")
    partitions = stream.partitions
    if partitions is not None and partitions.parent is None and "field" in partitions.model_fields_set:
        problem(
            (*at, "partitions", "field"),
            "'field' picks the parent record's field each partition gets, but this stream has no 'parent', so it is never read; "
            "remove it, or name the parent stream with 'parent'",
        )
    decoder = stream.decoder
    if decoder is not None and not isinstance(decoder, str):
        for option, formats in _DECODER_OPTIONS.items():
            if option in decoder.model_fields_set and decoder.format not in (*formats, "auto"):
                problem(
                    (*at, "decoder", option),
                    f"'{option}' is read only for {' and '.join(formats)} bodies, and this decoder's format is {decoder.format}, so it is ignored; "
                    f"remove it or set format: {formats[0]}",
                )


def _check_field(problem: Problem, at: PathKey, path: str, what: str) -> None:
    if not path.strip():
        problem(at, f"the {what} is empty; name the field of each record, e.g. id")
        return
    _check_path(problem, at, path, what)


def _check_path(problem: Problem, at: PathKey, path: str, what: str) -> None:
    spaced = [step for step in path.split(".") if step != step.strip()]
    if spaced:
        step = spaced[0]
        problem(
            at,
            f"the {what} {path!r} has the step {step!r}, with spaces around it, which no field of the API's answer is named; "
            f"write {'.'.join(s.strip() for s in path.split('.'))!r}",
        )
