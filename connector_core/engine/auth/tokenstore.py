"""A TokenStore kept in a JSON file, for tokens that must outlive a process.

Authorization-code tokens come from a person's consent (``connector-core authorize``) and rotating
refresh tokens can be used only once, so both must survive between runs. The file holds secrets: it is
created with mode 0600 (its directory 0700) and replaced atomically, so a crash mid-write never leaves
half a file and a reader never sees one.

Where it lives: ``$CONNECTOR_CORE_TOKENS`` when set, else ``.connector-core/tokens.json`` beside the
config file (beside the current directory when there is no config file).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from connector_core.errors import ConfigError

TOKENS_ENV = "CONNECTOR_CORE_TOKENS"
_FORMAT = 1


def default_token_path(config: str | Path | None = None) -> Path:
    """``$CONNECTOR_CORE_TOKENS``, else ``.connector-core/tokens.json`` beside ``config`` (or in the cwd)."""
    override = os.environ.get(TOKENS_ENV)
    if override:
        return Path(override).expanduser()
    base = Path(config).resolve().parent if config is not None else Path.cwd()
    return base / ".connector-core" / "tokens.json"


def _plain(value: Any) -> Any:
    """JSON has no infinity: a token that never expires is stored with ``expires_at: null``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class JsonFileTokenStore:
    """Tokens by key in one JSON file: ``{"format": 1, "tokens": {key: token}}``.

    Every save re-reads the file and replaces only its own key, so two connectors sharing the file do
    not undo each other's tokens.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"cannot read the token file {self.path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigError(
                f"the token file {self.path} is not valid JSON",
                hint="delete it and run `connector-core authorize` again",
            ) from None
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, dict):
            raise ConfigError(f"the token file {self.path} has no 'tokens' mapping", hint="delete it and authorize again")
        return tokens

    def load_token(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            token = self._read().get(key)
        return dict(token) if isinstance(token, dict) else None

    def save_token(self, key: str, token: dict[str, Any]) -> None:
        with self._lock:
            tokens = self._read()
            tokens[key] = _plain(dict(token))
            self._write({"format": _FORMAT, "tokens": tokens})

    def delete_token(self, key: str) -> None:
        with self._lock:
            tokens = self._read()
            if tokens.pop(key, None) is not None:
                self._write({"format": _FORMAT, "tokens": tokens})

    def _write(self, data: dict[str, Any]) -> None:
        directory = self.path.parent
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkstemp creates the file with mode 0600; os.replace is atomic within a directory.
            fd, temp = tempfile.mkstemp(prefix=".tokens-", suffix=".tmp", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle, indent=2, sort_keys=True)
                    handle.write("\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(temp, 0o600)
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ConfigError(f"cannot write the token file {self.path}: {exc.strerror}") from None


__all__ = ["TOKENS_ENV", "JsonFileTokenStore", "default_token_path"]
