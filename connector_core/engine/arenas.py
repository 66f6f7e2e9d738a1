"""Keeping the memory of threads that read response bodies small (glibc's malloc arenas)."""

from __future__ import annotations

import os

_M_ARENA_MAX = -8  # glibc mallopt parameter


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas before page-fetching threads start.

    Each thread that reads response bodies otherwise gets an arena of its own that is rarely given
    back, which grows a concurrent read's memory by several MB per thread for nothing. A no-op where
    the C library is not glibc, or when MALLOC_ARENA_MAX is already set.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, arenas)
    except (OSError, AttributeError):
        pass


__all__ = ["limit_malloc_arenas"]
