"""Checks made before a state database is opened, so that nothing is lost by opening it.

SQLite itself is forgiving in ways that lose a sync's state without a word: it takes an empty file for a
new database (every cursor, ID map row and dead letter gone: the next run re-creates what exists), it
ignores a write-ahead log whose header is damaged and then deletes it (the commits in it are rolled
back), and it creates a file wherever it is pointed. :func:`check_state_file` looks at the files first
and raises :class:`~connector_core.errors.StateError` naming the file and what to do:

- the path is a directory, or not a regular file;
- its directory is missing (only the default ``.state`` directory is created);
- the file is empty (0 bytes), or not a SQLite database, or its ``-wal`` file is not a write-ahead log.

With ``reset`` (``connector-core run --reset-state``) an empty or damaged state is moved aside
(``NAME.damaged-TIME``, with its ``-wal`` and ``-shm``) and a new one begins; a healthy state is never
reset this way. A file that cannot be written is opened read-only (``status`` works; ``run`` says why
it cannot write).
"""

from __future__ import annotations

import os
import stat
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from connector_core.errors import StateError

_SQLITE_MAGIC = b"SQLite format 3\x00"
_WAL_MAGICS = (0x377F0682, 0x377F0683)
_WAL_VERSION = 3007000
_WAL_HEADER = 32

RESET_HINT = (
    "to start a new state instead (every flow reads from the start; records are matched again by external id), "
    "run `connector-core run CONNECTION --reset-state` (the damaged files are kept as {aside}-TIME)"
)


@dataclass(frozen=True)
class StateFile:
    """What the checks found: whether the database exists and whether this process may write it."""

    path: Path
    exists: bool
    writable: bool
    reason: str = ""  # why it is not writable
    reset_to: Path | None = None  # where a damaged state was moved by reset


def sidecars(path: Path) -> list[Path]:
    """The write-ahead log and shared-memory files SQLite keeps beside a WAL database."""
    return [path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def check_state_file(path: Path, *, create_parent: bool = True, reset: bool = False) -> StateFile:
    """Check the state file at ``path`` before SQLite opens it; see the module docstring."""
    path = Path(path)
    parent = path.parent
    if path.is_dir():
        raise StateError(
            f"{path}: the state path is a directory, not a file",
            hint=f"give the SQLite file's path, e.g. {path / 'NAME.sqlite'} (--state, or `state:` in the connection file)",
        )
    if not parent.exists():
        if not create_parent:
            raise StateError(
                f"{path}: the state file's directory {parent} does not exist",
                hint=f"create it (mkdir -p {parent}) or correct the path (--state, or `state:` in the connection file)",
            )
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"{path}: cannot create the state file's directory {parent}: {exc.strerror or exc}", hint="create it, or choose another --state") from None
    elif not parent.is_dir():
        raise StateError(f"{path}: {parent} is not a directory", hint="correct the state path (--state, or `state:` in the connection file)")
    if not path.exists():
        writable = os.access(parent, os.W_OK | os.X_OK)
        if not writable:
            raise StateError(f"{path}: cannot create the state file: its directory {parent} is not writable", hint="fix the directory's permissions, or choose another --state")
        return StateFile(path, exists=False, writable=True)
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        raise StateError(f"{path}: not a regular file (a device, FIFO or socket), so not a state database", hint="correct the state path")
    damage = _damage(path)
    if damage:
        if not reset:
            raise StateError(f"{path}: {damage}", hint=_what_to_do(damage, f"{path.name}.damaged"))
        return StateFile(path, exists=False, writable=True, reset_to=move_aside(path))
    reason = _not_writable(path)  # with reset, SQLite's own check decides whether it is damaged (the store)
    return StateFile(path, exists=True, writable=not reason, reason=reason)


def healthy_state_error(path: Path) -> StateError:
    """``--reset-state`` given for a state that is neither empty nor damaged: nothing is reset."""
    return StateError(
        f"{path}: --reset-state: the state database is healthy; it is reset only when it is empty or damaged",
        hint="to start over anyway, move the file (and its -wal and -shm files) away yourself",
    )


def move_aside(path: Path) -> Path:
    """Move a damaged state (with its -wal and -shm) to ``NAME.damaged-TIME``; return that path."""
    return _move_aside(path, path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}"))


def _damage(path: Path) -> str | None:
    """Why the database (or its write-ahead log) would lose state if SQLite opened it, or None."""
    size = path.stat().st_size
    if size == 0:
        return (
            "the state database is empty (0 bytes): a truncated state file. Opened as it is, it would be taken for a new "
            "state, and every cursor, the ID map, dead letters and the run history would be lost"
        )
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise StateError(f"{path}: cannot read the state database: {exc.strerror or exc}", hint="check the file's permissions") from None
    if not header.startswith(_SQLITE_MAGIC):
        return "not a SQLite database (damaged, or another kind of file): its first bytes are not SQLite's"
    wal = sidecars(path)[0]
    if wal.exists() and wal.stat().st_size > 0:
        problem = _wal_problem(wal)
        if problem:
            return (
                f"its write-ahead log {wal.name} is damaged ({problem}). SQLite would ignore it and silently roll the "
                "state back to the last checkpoint, losing the commits the log holds"
            )
    return None


def _wal_problem(wal: Path) -> str | None:
    """Why ``wal`` is not a SQLite write-ahead log (magic, format version, page size, header checksum), or None."""
    try:
        with wal.open("rb") as handle:
            header = handle.read(_WAL_HEADER)
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"
    if len(header) < _WAL_HEADER:
        return f"{len(header)} bytes, shorter than a log's header"
    magic, version, page_size = struct.unpack(">III", header[:12])
    if magic not in _WAL_MAGICS:
        return "its first bytes are not a write-ahead log's"
    if version != _WAL_VERSION or page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        return "its header is not valid"
    if _wal_checksum(header[:24], big_endian=bool(magic & 1)) != struct.unpack(">II", header[24:32]):
        return "its header checksum does not match"
    return None


def _wal_checksum(data: bytes, *, big_endian: bool) -> tuple[int, int]:
    """SQLite's WAL checksum over ``data`` (a multiple of 8 bytes), in the byte order the magic names."""
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    s0 = s1 = 0
    for index in range(0, len(words), 2):
        s0 = (s0 + words[index] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[index + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def _what_to_do(damage: str, aside: str) -> str:
    restore = "restore the state file (and its -wal file) from a backup"
    if "write-ahead log" in damage:
        restore = "restore the -wal file from a backup; or move the -wal file away to go on from the last checkpoint (what was committed since then is lost from the state)"
    return f"{restore}; {RESET_HINT.format(aside=aside)}"


def _move_aside(path: Path, aside: Path) -> Path:
    """Move the damaged database and its -wal/-shm files to ``aside`` (and ``aside``-wal, -shm)."""
    try:
        for source, target in zip([path, *sidecars(path)], [aside, *sidecars(aside)], strict=True):
            if source.exists():
                source.rename(target)
    except OSError as exc:
        raise StateError(f"{path}: cannot move the damaged state aside to {aside.name}: {exc.strerror or exc}", hint="move it away yourself") from None
    return aside


def _not_writable(path: Path) -> str:
    """Why this process cannot write the database (SQLite also needs its directory, for the -wal and -shm), or ''."""
    if not os.access(path, os.W_OK):
        return "the file is read-only for this user"
    wal, shm = sidecars(path)
    if not os.access(path.parent, os.W_OK | os.X_OK) and not (wal.exists() and shm.exists() and os.access(wal, os.W_OK) and os.access(shm, os.W_OK)):
        return f"its directory {path.parent} is read-only for this user (SQLite writes its -wal and -shm files there)"
    return ""


__all__ = ["StateFile", "check_state_file", "healthy_state_error", "move_aside", "sidecars"]
