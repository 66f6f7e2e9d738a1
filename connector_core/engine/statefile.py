"""The JSON state file of `connector-core read --state FILE`: per-stream state, replaced atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from connector_core.errors import ConfigError


class StateFile:
    """``{"streams": {NAME: STATE}}``, rewritten atomically so a crash never leaves half a file.

    An empty state never overwrites a saved one: a stream that read nothing keeps its cursor.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"streams": {}}
        if path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8") or "{}")
            except (OSError, json.JSONDecodeError) as exc:
                raise ConfigError(f"{path}: cannot read the state file: {exc}", hint="fix or delete the file to start over") from None
            if not isinstance(loaded, dict) or not isinstance(loaded.get("streams", {}), dict):
                raise ConfigError(f"{path}: not a connector-core state file (expected {{\"streams\": {{...}}}})")
            self.data = {"streams": {}, **loaded}

    def stream(self, name: str) -> dict[str, Any]:
        return dict(self.data["streams"].get(name) or {})

    def save(self, name: str, state: dict[str, Any]) -> None:
        if not state:
            return
        self.data["streams"][name] = state
        self.path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # on first save: a read without --state never needs it

        fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.data, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


__all__ = ["StateFile"]
