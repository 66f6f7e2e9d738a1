"""Remembers which specs and configs already passed validation, so a repeated run skips the work.

Validating a spec's embedded JSON Schemas and a config needs jsonschema, whose import alone costs more
than the rest of a short read's start-up. Both checks are pure functions of their inputs, so a success
is remembered under a keyed hash (HMAC-SHA256 with a random per-user key): the cache holds no
values, and its file names reveal nothing about secrets in a config. Failures are never cached. Any
problem with the cache directory simply means validating again. ``CONNECTOR_CORE_CACHE`` moves the
cache; ``CONNECTOR_CORE_NO_CACHE=1`` turns it off.

:func:`keep` and :func:`recall` hold data derived from such inputs (a validated spec, see
``spec_cache``), each file signed with the same key: data that does not verify is never used.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from connector_core._version import __version__

CACHE_ENV = "CONNECTOR_CORE_CACHE"
DISABLE_ENV = "CONNECTOR_CORE_NO_CACHE"


def _directory() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "connector-core" / "validated"


def _key(directory: Path) -> bytes | None:
    key_file = directory / "key"
    try:
        return key_file.read_bytes()
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        return key_file.read_bytes()
    except FileExistsError:
        return key_file.read_bytes()
    except OSError:
        return None


def _entry(kind: str, parts: tuple[bytes | str, ...]) -> tuple[Path, bytes] | None:
    """The cache file for these inputs and the key it is signed with; None when the cache is off or unusable."""
    if os.environ.get(DISABLE_ENV):
        return None
    directory = _directory()
    key = _key(directory)
    if not key:
        return None
    digest = hmac.new(key, digestmod=hashlib.sha256)
    for part in (kind, __version__, *parts):
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return directory / f"{kind}-{digest.hexdigest()}", key


def _marker(kind: str, parts: tuple[bytes | str, ...]) -> Path | None:
    entry = _entry(kind, parts)
    return None if entry is None else entry[0]


def already_valid(kind: str, *parts: bytes | str) -> bool:
    """True when these exact inputs passed this kind of validation before."""
    marker = _marker(kind, parts)
    return marker is not None and marker.exists()


def remember_valid(kind: str, *parts: bytes | str) -> None:
    """Record that these inputs passed validation (silently does nothing if the cache is unusable)."""
    marker = _marker(kind, parts)
    if marker is None:
        return
    try:
        marker.touch()
    except OSError:
        pass


#: The most files of one kind :func:`keep` leaves: the oldest go first (every edit of a spec keeps a new one).
KEEP_AT_MOST = 200


def keep(kind: str, data: bytes, *parts: bytes | str) -> None:
    """Keep ``data`` for these exact inputs, signed (silently does nothing if the cache is unusable)."""
    entry = _entry(kind, parts)
    if entry is None:
        return
    marker, key = entry
    _prune(marker.parent, kind)
    temporary = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(hmac.digest(key, data, "sha256") + data)
        os.replace(temporary, marker)  # readers see the whole file or none
    except OSError:
        try:
            temporary.unlink()
        except OSError:
            pass


def _prune(directory: Path, kind: str) -> None:
    try:
        kept = [(path.stat().st_mtime, path) for path in directory.glob(f"{kind}-*")]
        for _, path in sorted(kept)[: max(0, len(kept) - KEEP_AT_MOST + 1)]:
            path.unlink()
    except OSError:
        pass  # another process pruned it first, or the cache is read-only: nothing is lost


def recall(kind: str, *parts: bytes | str) -> bytes | None:
    """The data :func:`keep` kept for these exact inputs, or None (none kept, unreadable, or its
    signature does not verify)."""
    entry = _entry(kind, parts)
    if entry is None:
        return None
    marker, key = entry
    try:
        content = marker.read_bytes()
    except OSError:
        return None
    tag, data = content[:32], content[32:]
    if len(tag) < 32 or not hmac.compare_digest(tag, hmac.digest(key, data, "sha256")):
        return None
    return data


__all__ = ["CACHE_ENV", "DISABLE_ENV", "already_valid", "keep", "recall", "remember_valid"]
