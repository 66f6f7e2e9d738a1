"""The emulators plugins register: start them on loopback and write how to connect (`sandbox`, `demo`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
def running_emulators(registry: Registry, names: list[str] | None = None, ports: dict[str, int | None] | None = None) -> Iterator[list[RunningEmulator]]:
    """Start the named emulators (all when None) on their usual ports unless ``ports`` says otherwise
    (0: any free port); stop them on exit."""
    chosen = names or sorted(registry.emulators)
    unknown = [n for n in chosen if n not in registry.emulators]
    if unknown:
        raise ConfigError(f"no emulator called {', '.join(unknown)}; installed: {', '.join(sorted(registry.emulators)) or '(none)'}")
    with ExitStack() as stack:
        started = []
        for name in chosen:
            emulator = registry.emulators[name]((ports or {}).get(name))
            stack.callback(emulator.stop)
            started.append(emulator)
        yield started


def write_configs(emulators: list[RunningEmulator], directory: Path) -> list[Path]:
    """One ``<name>.json`` config per emulator, ready for ``--config``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for emulator in emulators:
        path = directory / f"{emulator.name}.json"
        path.write_text(json.dumps(emulator.config, indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def serve(registry: Registry, names: list[str], ports: dict[str, int | None], config_dir: Path, echo: Callable[[str], None]) -> None:
    """Run until interrupted, printing each emulator's URL and the config that connects to it."""
    with running_emulators(registry, names or None, ports) as emulators:
        paths = write_configs(emulators, config_dir)
        for emulator, path in zip(emulators, paths, strict=True):
            echo(f"{emulator.name}: {emulator.url}  (connector '{emulator.connector}', config {path})")
            echo(f"  connector-core check {emulator.connector} --config {path}")
        echo("the emulators hold test data only; press Ctrl-C to stop")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            echo("stopped")


__all__ = ["RunningEmulator", "running_emulators", "serve", "write_configs"]
