"""Parsing YAML and JSON into a :class:`~connector_core.engine.document_model.Document` with the position of
every key and value, and saying precisely where and why a file cannot be read."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from connector_core.engine.document_model import Document, PathKey, Position, format_path
from connector_core.errors import SpecError

if TYPE_CHECKING:
    # The stubs declare CSafeLoader unconditionally; both loaders have the same interface.
    _Base = yaml.SafeLoader
else:
    # libyaml's loader when PyYAML was built with it, the pure-Python one otherwise.
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):
    """Safe loading with YAML 1.2's plain scalars: dates stay text, only true/false are booleans.

    YAML 1.1 would turn ``start_date: 2024-01-01T00:00:00Z`` into a datetime (which fails a config's
    ``type: string``) and ``country: NO`` into false.
    """


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag != "tag:yaml.org,2002:timestamp"
        and not (tag == "tag:yaml.org,2002:bool" and first in "yYnNoO")
    ]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


#: More positions than any hand-written file has; reached only through YAML aliases repeated in
#: aliases (an "alias bomb"), whose expansion would take exponential time and memory.
MAX_NODES = 200_000


def _walk(
    node: yaml.Node, at: PathKey, doc: Document, problems: list[str], typos: list[str] | None = None
) -> None:
    if len(doc.positions) >= MAX_NODES:
        raise SpecError(
            f"{doc.path}: the document expands to more than {MAX_NODES:,} values (YAML aliases nested in aliases?)",
            spec_path=str(doc.path),
        )
    doc.positions[at] = Position(node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        if node.flow_style and typos is not None:
            typos.extend(_cut_at_comma(node, at, doc))
        for key_node, value_node in node.value:
            key = key_node.value
            child = (*at, key)
            if key in seen:
                problems.append(
                    f"{doc.path}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}: "
                    f"{format_path(child)}: key '{key}' appears twice (first on line {seen[key]})"
                )
            seen[key] = key_node.start_mark.line + 1
            doc.key_positions[child] = Position(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, doc, problems, typos)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*at, index), doc, problems, typos)


_NULL_TAG = "tag:yaml.org,2002:null"


def _is_cut_piece(key_node: yaml.Node, value_node: yaml.Node) -> bool:
    """A plain key with a space in it and no value at all: text a comma split off the value before it."""
    return (
        isinstance(key_node, yaml.ScalarNode)
        and not key_node.style  # plain: None from PyYAML's parser, '' from libyaml's
        and " " in key_node.value.strip()
        and isinstance(value_node, yaml.ScalarNode)
        and value_node.tag == _NULL_TAG
        and value_node.value == ""
    )


def _cut_at_comma(node: yaml.MappingNode, at: PathKey, doc: Document) -> list[str]:
    """Problems for ``{description: Expand sublists, sublist lines and subrecords.}``: inside ``{...}`` a
    comma ends a plain value, so the rest of the sentence becomes a key with no value, which no schema
    notices (the description is just shorter). A key with spaces and no value is that typo, not data.
    One problem per cut value, at its first stray piece, with the whole text quoted as the fix."""
    found = []
    pairs = node.value
    index = 0
    while index < len(pairs):
        if not _is_cut_piece(*pairs[index]):
            index += 1
            continue
        end = index
        while end + 1 < len(pairs) and _is_cut_piece(*pairs[end + 1]):
            end += 1
        owner_key, owner_value = pairs[index - 1] if index > 0 else (None, None)
        pieces = [piece.value for piece, _ in pairs[index : end + 1]]
        if (
            isinstance(owner_key, yaml.ScalarNode)
            and isinstance(owner_value, yaml.ScalarNode)
            and owner_value.value
        ):
            fix = f"{owner_key.value}: {json.dumps(', '.join([owner_value.value, *pieces]), ensure_ascii=False)}"
        else:
            fix = json.dumps(", ".join(pieces), ensure_ascii=False)
        mark = pairs[index][0].start_mark
        stray = " and ".join(repr(piece) for piece in pieces)
        found.append(
            f"{doc.path}:{mark.line + 1}:{mark.column + 1}: {format_path(at)}: "
            f"{stray} {'is a key' if len(pieces) == 1 else 'are keys'} with no value inside {{...}}: a comma there ends the value "
            f"before it; put the whole text in quotes: {fix}"
        )
        index = end + 1
    return found


def _path_at(text: str, index: int) -> PathKey:
    """The document path being parsed at character ``index`` (used to place syntax errors).

    Replays the YAML parser's events (JSON is YAML too) up to ``index``, tracking which key or item
    each open mapping or sequence is in. Stops quietly at the syntax error itself.
    """
    frames: list[list[Any]] = []  # [kind, current key or item index, inside that key's value?]

    def consumed() -> None:
        if frames:
            top = frames[-1]
            if top[0] == "seq":
                top[1] += 1
            top[2] = False

    try:
        for event in yaml.parse(text, Loader=_Loader):
            assert event.start_mark is not None  # the parser marks every event it emits
            if event.start_mark.index >= index:
                break
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if frames and frames[-1][0] == "seq":
                    frames[-1][2] = True
                frames.append(
                    ["map", None, False] if isinstance(event, yaml.MappingStartEvent) else ["seq", 0, False]
                )
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                frames.pop()
                consumed()
            elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
                top = frames[-1] if frames else None
                if top is not None and top[0] == "map" and not top[2]:
                    top[1], top[2] = getattr(event, "value", None) or "*alias", True
                else:
                    consumed()
    except yaml.YAMLError:
        pass
    path: list[str | int] = []
    for _kind, key, inside in frames:
        if not inside:
            break
        path.append(key)
    return tuple(path)


def _yaml_hint(problem: str, text: str, index: int) -> str | None:
    if index < len(text) and text[index] == "\t":
        return "YAML does not allow tabs for indentation; indent with spaces"
    if "mapping values are not allowed" in problem:
        return "a plain value cannot contain ': '; put the value in quotes"
    if "could not find expected ':'" in problem:
        return "each line of a mapping is 'key: value'; check the indentation and quotes of the lines above"
    return None


def _json_hint(message: str, text: str, index: int) -> str | None:
    before = text[:index].rstrip()
    if before.endswith(",") and text[index : index + 1] in ("}", "]"):
        return "JSON does not allow a comma after the last item; remove it"
    if text[index : index + 1] == "'":
        return "JSON strings and keys use double quotes"
    if message.startswith("Expecting ',' delimiter"):
        return "a comma is missing between two items"
    return None


#: Python refuses to turn more digits than this into an integer (``sys.get_int_max_str_digits``).
_INT_DIGITS_LIMIT = 4300
_LONG_NUMBER = re.compile(rf"[-+]?\d{{{_INT_DIGITS_LIMIT + 1},}}")


def _too_long_number(file: Path, text: str) -> SpecError | None:
    """A located error for an integer with more digits than Python converts (json and YAML raise a bare ValueError)."""
    found = _LONG_NUMBER.search(text)
    if found is None:
        return None
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    digits = len(found.group().lstrip("+-"))
    at = format_path(_path_at(text, found.start()))
    return SpecError(
        f"{file}:{line}:{column}: {at}: a number with {digits:,} digits; numbers are limited to {_INT_DIGITS_LIMIT:,} digits",
        spec_path=str(file),
        hint="if it is an identifier or a code rather than a quantity, put it in quotes to make it text",
    )


def parse_document(file: Path, text: str) -> Document:
    """Parse the text of a YAML or JSON file; syntax errors, duplicate keys and text cut at a comma
    inside ``{...}`` raise SpecError with their position."""
    is_json = file.suffix.lower() == ".json"
    try:
        if is_json:
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=_Loader)
    except json.JSONDecodeError as exc:
        at = format_path(_path_at(text, exc.pos))
        hint = _json_hint(exc.msg, text, exc.pos)
        raise SpecError(
            f"{file}:{exc.lineno}:{exc.colno}: {at}: invalid JSON: {exc.msg}", spec_path=str(file), hint=hint
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        problem = exc.problem or str(exc)
        if mark is None:
            raise SpecError(f"{file}: invalid YAML: {problem}", spec_path=str(file)) from None
        at = format_path(_path_at(text, mark.index))
        message = f"{file}:{mark.line + 1}:{mark.column + 1}: {at}: invalid YAML: {problem}"
        context = exc.context_mark
        if exc.context and context is not None and (context.line, context.column) != (mark.line, mark.column):
            message += f" ({exc.context} that starts at line {context.line + 1}, column {context.column + 1})"
        raise SpecError(message, spec_path=str(file), hint=_yaml_hint(problem, text, mark.index)) from None
    except yaml.YAMLError as exc:  # pragma: no cover - errors without a position are rare
        raise SpecError(f"{file}: invalid YAML: {exc}", spec_path=str(file)) from None
    except RecursionError:
        raise SpecError(
            f"{file}: nested too deeply to read (thousands of levels of lists or mappings)",
            spec_path=str(file),
        ) from None
    except ValueError as exc:  # an integer longer than Python converts; json and PyYAML raise it unlocated
        located = _too_long_number(file, text)
        if located is None:
            raise SpecError(f"{file}: cannot read the file: {exc}", spec_path=str(file)) from None
        raise located from None
    doc = Document(file, data)
    problems: list[str] = []
    typos: list[str] = []
    try:
        root = yaml.compose(text, Loader=_Loader)
    except (yaml.YAMLError, RecursionError):
        root = None  # valid JSON that YAML cannot compose (rare): positions fall back to line 1
    if root is not None:
        _walk(root, (), doc, problems, None if is_json else typos)
    if problems:
        noun = "key" if len(problems) == 1 else "keys"
        raise SpecError(
            f"{file}: duplicate {noun} (the later value would silently replace the earlier one)",
            problems=problems + typos,
            spec_path=str(file),
        )
    if typos:
        noun = "value" if len(typos) == 1 else "values"
        raise SpecError(
            f"{file}: text cut at a comma ({len(typos)} {noun})", problems=typos, spec_path=str(file)
        )
    return doc


def locate(doc: Document, text: str) -> None:
    """Fill in the positions of a document read without them (``load_document(locate_later=True)``)."""
    try:
        root = yaml.compose(text, Loader=_Loader)
        if root is not None:
            _walk(root, (), doc, [], None)
    except (yaml.YAMLError, RecursionError, SpecError):
        pass  # the data was read already: positions stay what was found, the rest fall back to line 1


__all__ = ["MAX_NODES", "locate", "parse_document"]
