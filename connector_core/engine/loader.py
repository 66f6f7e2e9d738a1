"""Loading connector specs: parse, validate against the models, then check what the models cannot
(``spec_checker``); a spec that passed every check before is restored from ``spec_cache`` instead.

Every problem is reported at once, each with ``file:line:col``, the path inside the document, the bad
value and, where possible, a did-you-mean hint. No traceback reaches the user.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from connector_core.engine.documents import Document, load_document, read_spec_name
from connector_core.engine.registry import Registry
from connector_core.engine.spec import ConnectorSpec
from connector_core.engine.spec_cache import keep_spec, recall_spec
from connector_core.engine.validation_cache import already_valid, remember_valid
from connector_core.errors import SpecError

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec and the document it came from (for located errors later on)."""

    spec: ConnectorSpec[Any, Any, Any, Any, Any]
    document: Document
    registry: Registry | None = None  # the registry with the spec's own `plugins`, when it names any

    @property
    def path(self) -> Path:
        return self.document.path


def resolve_spec_path(name_or_path: str, registry: Registry) -> Path:
    """An installed connector's spec path, or the given file path."""
    if name_or_path in registry.connectors:
        return registry.connectors[name_or_path]
    candidate = Path(name_or_path)
    if candidate.suffix.lower() in SPEC_SUFFIXES or candidate.exists():
        return candidate
    from connector_core.engine.validation import suggest

    known = sorted(registry.connectors)
    guess = suggest(name_or_path, known)
    hint = (
        f"did you mean '{guess}'?"
        if guess
        else (f"installed connectors: {', '.join(known)}" if known else None)
    )
    raise SpecError(
        f"no installed connector is called '{name_or_path}' and no such spec file exists", hint=hint
    )


def load_spec(name_or_path: str | Path, registry: Registry) -> LoadedSpec:
    """Load and fully check a spec; raise SpecError with every located problem."""
    path = resolve_spec_path(str(name_or_path), registry)
    try:
        fingerprint = _fingerprint(path.read_bytes(), registry)
    except OSError:
        fingerprint = None  # load_document says what is wrong with the file
    kept = recall_spec(path, *fingerprint) if fingerprint is not None else None
    if kept is not None:
        return LoadedSpec(kept[0], kept[1])
    from connector_core.engine.definitions import expand_stream_templates
    from connector_core.engine.spec_checker import check_spec
    from connector_core.engine.spec_plugins import with_spec_plugins

    doc = load_document(path)
    given, registry = registry, with_spec_plugins(doc, registry)
    own = registry if registry is not given else None
    made_problems = expand_stream_templates(
        doc
    )  # the streams made from stream templates join `streams` first
    checked = _fingerprint(path.read_bytes(), registry)
    known_valid = already_valid("spec", *checked)
    spec = check_spec(doc, registry, known_valid=known_valid, made_problems=made_problems)
    if not known_valid:
        remember_valid("spec", *checked)
    if own is None:  # a spec with its own plugins runs their code at every load, so it is not kept
        keep_spec(spec, doc, *checked)
    return LoadedSpec(spec, doc, own)


def _fingerprint(spec_bytes: bytes, registry: Registry) -> tuple[bytes, str, str, str]:
    """What a spec's check result depends on: its bytes, the installed components and the checking code."""
    return (
        spec_bytes,
        json.dumps(sorted(registry.owners.items())),
        _checks_revision(),
        _component_stamps(registry),
    )


#: The engine's code that decides what a loaded spec holds and whether it is valid (the spec models,
#: the built-in components, the checks): a digest of its source is part of every spec's fingerprint.
_CHECKING_CODE = ("*.py", "auth/*.py")


@lru_cache(maxsize=1)
def _checks_revision() -> str:
    """A digest of the engine's source. The validation cache is keyed by the version too, but between
    releases the checks and models change while the version does not: a spec checked or kept by other
    code is not trusted. Read from the files, without importing them (start-up stays fast)."""
    engine = Path(__file__).parent
    digest = hashlib.sha256()
    for pattern in _CHECKING_CODE:
        for source in sorted(engine.glob(pattern)):
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def _component_stamps(registry: Registry) -> str:
    """Which module defines each installed component model, and that module file's size and modification
    time: a plugin edited in place (an editable install) changes what a kept spec would restore."""
    models: list[Any] = [
        *registry.auth_types.values(),
        *registry.paginators.values(),
        *registry.extractors.values(),
    ]
    models += [*registry.partition_routers.values(), *registry.slicers.values()]
    stamps: dict[str, str] = {}
    for model in models:
        module = sys.modules.get(model.__module__)
        source = getattr(module, "__file__", None)
        if model.__module__ in stamps or not source:
            continue
        try:
            stat = Path(source).stat()
        except OSError:
            continue
        stamps[model.__module__] = f"{source}:{stat.st_size}:{stat.st_mtime_ns}"
    return json.dumps(sorted(stamps.items()))


__all__ = ["LoadedSpec", "load_spec", "read_spec_name", "resolve_spec_path"]
