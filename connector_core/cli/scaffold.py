"""``connector-core init-plugin NAME``: a plugin package that passes its own tests as generated.

The package holds a spec for a tiny notes API, a ``plugin.py`` that registers it and one named
transform, a local werkzeug look-alike of the API and a cassette test. Its pytest settings record the
cassette on the first run and replay it afterwards, so ``pytest`` passes twice in a row with no
network beyond 127.0.0.1. Templates live in ``connector_core/cli/templates/plugin/``.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from connector_core.errors import ConfigError

_NAME = re.compile(r"^[a-z][a-z0-9_\-]*$")

#: template file → where it goes in the package (formatted with the names below).
FILES: tuple[tuple[str, str], ...] = (
    ("pyproject.toml.tmpl", "pyproject.toml"),
    ("README.md.tmpl", "README.md"),
    ("__init__.py.tmpl", "src/{package}/__init__.py"),
    ("plugin.py.tmpl", "src/{package}/plugin.py"),
    ("spec.yaml.tmpl", "src/{package}/{name}.yaml"),
    ("api_server.py.tmpl", "tests/api_server.py"),
    ("conftest.py.tmpl", "tests/conftest.py"),
    ("test_plugin.py.tmpl", "tests/test_{module}.py"),
)


def plugin_names(name: str) -> dict[str, str]:
    """The names used throughout the package, e.g. for ``acme-crm``: module ``acme_crm``,
    package ``connector_acme_crm``, distribution ``connector-acme-crm``."""
    if not _NAME.match(name):
        raise ConfigError(
            f"plugin name {name!r} is not a valid connector name",
            hint="use lower-case letters, digits, '_' and '-', starting with a letter, e.g. 'acme'",
        )
    module = name.replace("-", "_")
    return {
        "name": name,
        "module": module,
        "package": f"connector_{module}",
        "dist": f"connector-{name}",
        "transform": f"{module}_word_count",
    }


def scaffold_plugin(name: str, target: Path) -> Path:
    """Create the plugin package ``name`` in ``target`` (which must be missing or empty); return it."""
    names = plugin_names(name)
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(
            f"{target} already exists and is not an empty directory",
            hint="choose another place with --directory",
        )
    templates = resources.files("connector_core.cli") / "templates" / "plugin"
    for template_name, destination in FILES:
        text = Template((templates / template_name).read_text(encoding="utf-8")).substitute(names)
        path = target / destination.format(**names)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (target / "tests" / "cassettes").mkdir(exist_ok=True)
    return target


def next_steps(target: Path) -> list[str]:
    """The shell commands that install the new package with its test extra and run its tests, as
    ``init-plugin`` prints them: ``'.[test]'`` quoted (zsh would glob a bare one), and first the
    activation of the venv connector-core runs from, when it runs from one (the plugin must be
    installed beside it)."""
    import shlex
    import sys

    steps = []
    activate = Path(sys.executable).parent / "activate"
    if sys.prefix != sys.base_prefix and activate.is_file():
        steps.append(f". {shlex.quote(str(activate))}")
    return [*steps, f"cd {shlex.quote(str(target))}", "pip install -e '.[test]'", "pytest"]


__all__ = ["FILES", "next_steps", "plugin_names", "scaffold_plugin"]
