"""Validated specs kept between runs, so that a command on an unchanged spec skips parsing and checking.

Loading a spec parses its YAML, builds validators for the models of the components it names, validates
it and runs every cross-field check: most of a short ``read``'s start-up. The result depends only on the
spec file's bytes, the installed components and the checking code, so after a spec passes every check
its validated model and document are kept (``validation_cache.keep``: signed with the per-user key, under
a name derived from those inputs) and the next load of the same inputs restores them instead.

Spec models are frozen pydantic models; they are restored field by field, as ``model_construct`` does,
without running validators, which were run when the spec was kept. Parametrised generic models (the spec
model built for the component types a spec names) are restored as their generic origin: the same fields
and methods, and ``isinstance`` holds.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from connector_core.engine.documents import Document
from connector_core.engine.validation_cache import keep, recall

KIND = "spec-model"


def _restore_model(model: type[BaseModel], state: dict[str, Any]) -> BaseModel:
    restored = model.__new__(model)
    restored.__setstate__(state)
    return restored


class _SpecPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, BaseModel):
            model = type(obj)
            origin = model.__pydantic_generic_metadata__.get("origin") or model
            return _restore_model, (origin, obj.__getstate__())
        return NotImplemented


def keep_spec(spec: BaseModel, document: Document, *fingerprint: bytes | str) -> None:
    """Keep a spec that passed every check, under the inputs it was checked with."""
    buffer = io.BytesIO()
    try:
        _SpecPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump((spec, document))
    except (pickle.PicklingError, TypeError, AttributeError):
        return  # a value that cannot be kept (a plugin's model holding a function): load it in full next time
    keep(KIND, buffer.getvalue(), *fingerprint)


def recall_spec(path: Path, *fingerprint: bytes | str) -> tuple[Any, Document] | None:
    """The spec and document kept for these inputs (the document located at ``path``), or None."""
    data = recall(KIND, *fingerprint)
    if data is None:
        return None
    try:
        spec, document = pickle.loads(data)  # signed by this user's key (validation_cache.recall)
    except Exception:  # kept by code that has since changed in a way the fingerprint missed: load in full
        return None
    if not isinstance(spec, BaseModel) or not isinstance(document, Document):
        return None
    document.path = path
    return spec, document


__all__ = ["keep_spec", "recall_spec"]
