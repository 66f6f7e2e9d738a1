"""Plugins beside the spec: ``plugins: [./hooks.py]`` in a spec file loads those Python modules as
plugins of that spec, so a connector author tries a hook without packaging it first.

It is opt-in by that key alone: nothing next to a spec runs unless the spec names it. The modules are
imported when the spec loads (``validate`` too: their auth types, paginators and slicers decide what
the spec may say), from paths relative to the spec's folder, never outside it. The registry the spec
is validated and run with is the given one plus these modules; other specs never see them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pluggy

from connector_core import hookspecs
from connector_core.engine.documents import Document, PathKey, format_path
from connector_core.engine.registry import Registry, build_registry
from connector_core.errors import SpecError

#: The spec key listing the modules.
SECTION = "plugins"

# modules already imported, by content digest: loading a spec twice does not run its module twice
_imported: dict[str, ModuleType] = {}


def with_spec_plugins(doc: Document, registry: Registry) -> Registry:
    """``registry`` plus the modules the spec's ``plugins`` names (itself when it names none)."""
    entries = doc.data.get(SECTION) if isinstance(doc.data, dict) else None
    if not isinstance(entries, list) or not entries:
        return registry  # absent, or not a list: the model reports a wrong type with its location
    problems: list[str] = []
    pm = _copy_manager(registry.pm)
    for index, entry in enumerate(entries):
        at: PathKey = (SECTION, index)
        if not isinstance(entry, str):
            continue
        try:
            name, module = _import(_resolve(doc.path, entry), entry)
            _register(pm, name, module)
        except _Refused as exc:
            problems.append(f"{doc.where(at)}: {format_path(at)}: {exc}")
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        raise SpecError(f"{doc.path}: invalid connector spec ({len(problems)} {noun})", problems=problems, spec_path=str(doc.path))
    return build_registry(pm)


class _Refused(Exception):
    """A module the spec names that cannot be used; the message says why and what to do."""


def _resolve(spec_path: Path, entry: str) -> Path:
    folder = spec_path.resolve().parent
    relative = Path(entry)
    if relative.is_absolute():
        raise _Refused(f"{entry!r} is an absolute path; name the module relative to the spec's folder, e.g. './hooks.py'")
    if relative.suffix != ".py":
        raise _Refused(f"{entry!r} is not a Python file (.py); a spec plugin is a module next to the spec, e.g. './hooks.py'")
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder):
        raise _Refused(f"{entry!r} is outside the spec's folder ({folder}); a spec plugin lives beside the spec or below it")
    if not path.is_file():
        near = sorted(p.name for p in folder.glob("*.py"))
        hint = f"; Python files beside the spec: {', '.join(near)}" if near else "; there is no .py file beside the spec"
        raise _Refused(f"no file {entry!r} beside the spec{hint}")
    return path


def _import(path: Path, entry: str) -> tuple[str, ModuleType]:
    source = path.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    name = f"spec plugin {entry}@{digest}"  # the content is in the name: a changed module is a new plugin
    module = _imported.get(digest)
    if module is None:
        module_name = f"connector_core_spec_plugin_{digest}"
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        if loader_spec is None or loader_spec.loader is None:  # pragma: no cover - a .py file always has a loader
            raise _Refused(f"{entry!r} cannot be imported")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module  # models defined in it resolve their annotations through sys.modules
        try:
            loader_spec.loader.exec_module(module)
        except SyntaxError as exc:
            sys.modules.pop(module_name, None)
            raise _Refused(f"{entry!r} does not compile: {exc.msg} at {path}:{exc.lineno}:{exc.offset or 0}") from None
        except Exception as exc:
            sys.modules.pop(module_name, None)
            raise _Refused(f"{entry!r} failed while importing: {type(exc).__name__}: {exc} ({_where_raised(exc, path)})") from None
        _imported[digest] = module
    if not _has_hooks(module):
        raise _Refused(f"{entry!r} defines no hook: mark functions named after the hooks with @hookimpl (from connector_core.hookspecs)")
    return name, module


def _where_raised(exc: BaseException, path: Path) -> str:
    line = None
    trace = exc.__traceback__
    while trace is not None:
        if Path(trace.tb_frame.f_code.co_filename) == path:
            line = trace.tb_lineno
        trace = trace.tb_next
    return f"{path}:{line}" if line is not None else str(path)


def _has_hooks(module: ModuleType) -> bool:
    return any(getattr(getattr(module, name), f"{hookspecs.PROJECT}_impl", None) is not None for name in dir(module))


def _copy_manager(base: pluggy.PluginManager) -> pluggy.PluginManager:
    """A new manager holding the plugins of ``base``, which is left as it was."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name, plugin in base.list_name_plugin():
        if plugin is not None:  # None marks a blocked name
            pm.register(plugin, name=name)
    return pm


def _register(pm: pluggy.PluginManager, name: str, module: ModuleType) -> None:
    entry = name.split("@")[0].removeprefix("spec plugin ")
    try:
        pm.register(module, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise _Refused(f"{entry!r} does not match the hook specifications: {exc}") from None
    unknown = sorted(
        hook for hook in dir(module) if getattr(getattr(module, hook), f"{hookspecs.PROJECT}_impl", None) is not None and not hasattr(hookspecs, hook)
    )
    if unknown:
        pm.unregister(module)
        raise _Refused(f"{entry!r} implements {', '.join(unknown)}, which {'is not a hook' if len(unknown) == 1 else 'are not hooks'} (misspelt?); hooks are listed in docs/plugins.md")


__all__ = ["SECTION", "with_spec_plugins"]
