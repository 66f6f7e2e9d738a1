"""A manifest with its references resolved, remembering where each component was written.

Airbyte manifests share components through ``$ref: "#/definitions/x"`` (the keys beside a ``$ref``
override the referenced component's, one level deep), through bare strings such as
``"#/definitions/x"`` and the older ``"*ref(definitions.x)"``, and through ``$parameters``, which flow
from a component into every component inside it. The converter reads the resolved tree; the report names
each component by the manifest path where it is written (``definitions.retriever.paginator``), which is
where a person would go to look at it.
"""

from __future__ import annotations

import re
from typing import Any

from connector_core.errors import SpecError

_REF_STRING = re.compile(r"^#/(?:[\w\-]+/)*[\w\-]+$")
_OLD_REF = re.compile(r"^\*ref\(([\w.\-]+)\)$")
_MAX_DEPTH = 60


class Resolved:
    """The resolved manifest (``data``), the manifest path of each resolved mapping, and the
    ``$parameters`` in force at each mapping."""

    def __init__(self, manifest: dict[str, Any], source: str) -> None:
        self.source = source
        self._manifest = manifest
        self._origins: dict[int, str] = {}
        self._params: dict[int, dict[str, Any]] = {}
        self._key_paths: dict[str, dict[str, str]] = {}  # a mapping's path -> where each of its keys is written
        self._param_paths: dict[str, dict[str, str]] = {}  # a mapping's path -> where each parameter in force is set
        self._keep: list[Any] = []  # resolved mappings stay alive, so their ids stay theirs
        data = self._resolve(manifest, "", 0, ())
        if not isinstance(data, dict):
            raise SpecError(f"{source}: an Airbyte manifest is a mapping at the top level")
        self.data: dict[str, Any] = data
        self._propagate(self.data, {})

    def origin(self, node: Any, default: str = "") -> str:
        """The manifest path where ``node`` (a resolved mapping) is written."""
        return self._origins.get(id(node), default)

    def params(self, node: Any) -> dict[str, Any]:
        """The ``$parameters`` in force at ``node``: its own over those of the components around it."""
        return self._params.get(id(node), {})

    def field(self, node: dict[str, Any], key: str) -> Any:
        """``node[key]``, or the parameter of that name when the component leaves it out (as Airbyte
        applies ``$parameters`` to the fields of the components inside)."""
        value = node.get(key)
        if value in (None, "", [], {}):
            return self.params(node).get(key, value)
        return value

    # -- references ------------------------------------------------------------------------------------

    def _lookup(self, ref: str, at: str) -> tuple[Any, str]:
        steps = ref[2:].split("/") if ref.startswith("#/") else ref.split(".")
        node: Any = self._manifest
        for step in steps:
            if not isinstance(node, dict) or step not in node:
                raise SpecError(f"{self.source}: {at or 'the manifest'}: the reference {ref!r} points at nothing")
            node = node[step]
        return node, ".".join(steps)

    def _ref_of(self, value: str) -> str | None:
        if _REF_STRING.match(value):
            return value
        old = _OLD_REF.match(value)
        return old.group(1) if old else None

    def _resolve(self, node: Any, at: str, depth: int, chain: tuple[str, ...]) -> Any:
        if depth > _MAX_DEPTH:
            raise SpecError(f"{self.source}: {at}: references nest too deeply (a reference cycle?): {' -> '.join(chain)}")
        if isinstance(node, str):
            ref = self._ref_of(node)
            if ref is None:
                return node
            if ref in chain:
                raise SpecError(f"{self.source}: {at}: reference cycle: {' -> '.join((*chain, ref))}")
            target, target_at = self._lookup(ref, at)
            return self._resolve(target, target_at, depth + 1, (*chain, ref))
        if isinstance(node, list):
            return [self._resolve(item, f"{at}[{i}]", depth + 1, chain) for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        result: dict[str, Any] = {}
        key_paths: dict[str, str] = {}
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in chain:
                raise SpecError(f"{self.source}: {at}: reference cycle: {' -> '.join((*chain, ref))}")
            target, target_at = self._lookup(ref, at)
            base = self._resolve(target, target_at, depth + 1, (*chain, ref))
            if isinstance(base, dict):
                result.update(base)
                base_at = self.origin(base, target_at)
                key_paths.update({key: self._key_paths.get(base_at, {}).get(key, _join(base_at, key)) for key in base})
        for key, value in node.items():
            if key != "$ref":
                result[key] = self._resolve(value, _join(at, key), depth + 1, chain)
                key_paths[key] = _join(at, key)
        self._key_paths[at] = key_paths
        self._origins[id(result)] = at
        self._keep.append(result)
        return result

    # -- parameters ------------------------------------------------------------------------------------

    def _propagate(self, node: Any, inherited: dict[str, Any], inherited_paths: dict[str, str] | None = None) -> None:
        paths = inherited_paths or {}
        if isinstance(node, list):
            for item in node:
                self._propagate(item, inherited, paths)
            return
        if not isinstance(node, dict):
            return
        if node.get("type") == "DeclarativeStream" or "retriever" in node:
            inherited, paths = {}, {}  # a stream (a parent stream written inside a child too) starts afresh
        own = node.get("$parameters")
        params = {**inherited, **own} if isinstance(own, dict) else inherited
        if isinstance(own, dict):
            at = self.origin(node)
            own_at = self._key_paths.get(at, {}).get("$parameters", _join(at, "$parameters"))
            paths = {**paths, **{key: self._key_paths.get(own_at, {}).get(key, _join(own_at, key)) for key in own}}
        self._params[id(node)] = params
        self._param_paths.setdefault(self.origin(node), paths)
        for key, value in node.items():
            if key == "$parameters" and isinstance(value, dict):
                for inner in value.values():  # a component given as a parameter becomes a field of this one
                    self._propagate(inner, params, paths)
            elif key not in ("schema", "schemas", "connection_specification"):
                self._propagate(value, params, paths)

    def locate(self, path: str) -> str:
        """Where the piece at ``path`` (a path through resolved mappings) is written in the manifest: a
        key a ``$ref`` brought in lives at the referenced component, a field that a parameter fills in
        lives in the ``$parameters`` that set it."""
        steps = re.findall(r"[^.\[\]]+|\[\d+\]", path)
        for _ in range(_MAX_DEPTH):
            for i in range(len(steps) - 1, 0, -1):
                prefix = _steps_path(steps[:i])
                key = steps[i]
                written = self._key_paths.get(prefix, {}).get(key)
                if written is None and key not in self._key_paths.get(prefix, {key: ""}):
                    written = self._param_paths.get(prefix, {}).get(key)
                if written is not None and written != _steps_path(steps[: i + 1]):
                    steps = re.findall(r"[^.\[\]]+|\[\d+\]", written) + steps[i + 1 :]
                    break
            else:
                break
        return _steps_path(steps)


def _join(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _steps_path(steps: list[str]) -> str:
    return "".join(step if step.startswith("[") else f".{step}" for step in steps).lstrip(".")


__all__ = ["Resolved"]
