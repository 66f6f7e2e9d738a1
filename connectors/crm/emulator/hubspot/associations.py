"""Association edges between records, stored in both directions."""

from __future__ import annotations

from .association_types import TYPES

Key = tuple[str, int]


class AssociationStore:
    """``(from_type, from_id) -> to_type -> to_id -> {type ids}``; every edge has its inverse."""

    def __init__(self) -> None:
        self.edges: dict[Key, dict[str, dict[int, set[int]]]] = {}

    def add(self, from_type: str, from_id: int, to_type: str, to_id: int, type_id: int) -> None:
        inverse = TYPES[type_id].inverse
        self._add(from_type, from_id, to_type, to_id, type_id)
        self._add(to_type, to_id, from_type, from_id, inverse)

    def _add(self, ft: str, fid: int, tt: str, tid: int, type_id: int) -> None:
        self.edges.setdefault((ft, fid), {}).setdefault(tt, {}).setdefault(tid, set()).add(type_id)

    def remove(self, from_type: str, from_id: int, to_type: str, to_id: int, type_ids: set[int] | None = None) -> bool:
        """Remove the given types (all when ``None``) in both directions; True if anything went."""
        targets = self.edges.get((from_type, from_id), {}).get(to_type, {})
        current = targets.get(to_id)
        if not current:
            return False
        doomed = set(current) if type_ids is None else current & type_ids
        if not doomed:
            return False
        for t in doomed:
            self._discard(from_type, from_id, to_type, to_id, t)
            self._discard(to_type, to_id, from_type, from_id, TYPES[t].inverse)
        return True

    def _discard(self, ft: str, fid: int, tt: str, tid: int, type_id: int) -> None:
        by_type = self.edges.get((ft, fid))
        if not by_type:
            return
        targets = by_type.get(tt)
        if not targets or tid not in targets:
            return
        targets[tid].discard(type_id)
        if not targets[tid]:
            del targets[tid]

    def targets(self, from_type: str, from_id: int, to_type: str) -> dict[int, set[int]]:
        return self.edges.get((from_type, from_id), {}).get(to_type, {})

    def clear(self) -> None:
        self.edges.clear()
