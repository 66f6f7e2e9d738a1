"""The emulators plugins register: start them on loopback and write how to connect (`sandbox`, `demo`)."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector_core.engine.config import is_reference
from connector_core.engine.registry import Registry
from connector_core.errors import ConfigError


@dataclass
class RunningEmulator:
    """An emulator started by a plugin's ``connector_register_emulators`` start function."""

    name: str
    connector: str
    url: str
    config: dict[str, Any]
    stop: Callable[[], None] = field(repr=False)
    details: dict[str, Any] = field(default_factory=dict)


@contextmanager
def running_emulators(
    registry: Registry, names: list[str] | None = None, ports: dict[str, int | None] | None = None, *, port_hint: Callable[[str], str] | None = None,
) -> Iterator[list[RunningEmulator]]:
    """Start the named emulators (all when None) on their usual ports unless ``ports`` says otherwise
    (0: any free port); stop them on exit. A port in use is a ConfigError naming the emulator and the
    port, with ``port_hint(name)`` (how the caller's user picks another) as its hint."""
    chosen = names or sorted(registry.emulators)
    unknown = [n for n in chosen if n not in registry.emulators]
    if unknown:
        raise ConfigError(f"no emulator called {', '.join(unknown)}; installed: {', '.join(sorted(registry.emulators)) or '(none)'}")
    with ExitStack() as stack:
        started = []
        for name in chosen:
            emulator = _start(registry, name, (ports or {}).get(name), port_hint)
            stack.callback(emulator.stop)
            started.append(emulator)
        yield started


def _start(registry: Registry, name: str, port: int | None, port_hint: Callable[[str], str] | None) -> RunningEmulator:
    """One emulator, or a ConfigError when its port is taken. werkzeug reports a busy port by printing two
    lines and calling sys.exit(1); those lines are caught here and the port read from them."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            emulator: RunningEmulator = registry.emulators[name](port)
    except (OSError, SystemExit) as exc:
        text = said.getvalue()
        if not (isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE) and "in use" not in text:
            sys.stderr.write(text)
            raise
        found = re.search(r"[Pp]ort (\d+) is in use", text)
        where = f"port {found.group(1) if found else port}" if found or port else "its usual port"
        raise ConfigError(
            f"the {name} emulator cannot listen on {where}: the port is in use (another sandbox still running, or another program)",
            hint=port_hint(name) if port_hint else f"start the {name} emulator on another port (0: any free port)",
        ) from None
    sys.stderr.write(said.getvalue())
    return emulator


def pointed_config(template: Any, emulator: Mapping[str, Any]) -> dict[str, Any]:
    """A config that connects to an emulator: the template's plain settings (``subsidiary_id``,
    ``deal_properties``…) with the emulator's connection settings (URL, credentials) on top; the
    template's ``{env: …}`` / ``{file: …}`` references are dropped, the emulator needs none."""
    kept = {k: v for k, v in template.items() if not is_reference(v)} if isinstance(template, dict) else {}
    return {**kept, **emulator}


def write_configs(emulators: list[RunningEmulator], directory: Path) -> list[Path]:
    """One ``<name>.json`` config per emulator, ready for ``--config``. A JSON config already there (an
    example's ``config/`` folder) keeps its plain settings (:func:`pointed_config`)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for emulator in emulators:
        path = directory / f"{emulator.name}.json"
        try:
            existing = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            existing = None  # none yet, or not JSON: written anew
        path.write_text(json.dumps(pointed_config(existing, emulator.config), indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def serve(
    registry: Registry, names: list[str], ports: dict[str, int | None], config_dir: Path, echo: Callable[[str], None], *,
    stop_hint: str = "press Ctrl-C to stop", port_hint: Callable[[str], str] | None = None,
) -> None:
    """Run until interrupted (KeyboardInterrupt), printing each emulator's URL and the config that connects
    to it. On the way out, however it ends, the config files it wrote go: a file it created is removed,
    one that was there before (an example's ``config/`` folder) gets its old content back, and the
    directory goes too if it made it and left it empty. Nothing points at emulators that are gone."""
    with running_emulators(registry, names or None, ports, port_hint=port_hint) as emulators:
        made_dir = not config_dir.exists()
        before = {path: path.read_bytes() if path.is_file() else None for path in (config_dir / f"{e.name}.json" for e in emulators)}
        paths: list[Path] = []
        try:
            try:
                paths = write_configs(emulators, config_dir)
                for emulator, path in zip(emulators, paths, strict=True):
                    echo(f"{emulator.name}: {emulator.url}  (connector '{emulator.connector}', config {path})")
                    echo(f"  connector-core check {emulator.connector} --config {path}")
                echo(f"the emulators hold test data only; {stop_hint}")
                threading.Event().wait()
            except KeyboardInterrupt:  # (also while the lines above are written: a stop right after the hint)
                echo("stopped")
        finally:
            _put_back(paths or list(before), before, config_dir if made_dir else None)


def _put_back(paths: list[Path], before: Mapping[Path, bytes | None], made_dir: Path | None) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            original = before.get(path)
            if original is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(original)
    if made_dir is not None:
        with contextlib.suppress(OSError):
            made_dir.rmdir()  # only when empty


__all__ = ["RunningEmulator", "pointed_config", "running_emulators", "serve", "write_configs"]
