"""In-memory object storage for one object type: records, id order and unique-value indexes."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterator

from .values import iso_from_ms


class CrmObject:
    """One CRM record. ``props`` holds only non-null values, already in wire (string) form."""

    __slots__ = ("id", "props", "created_ms", "updated_ms", "archived", "archived_ms", "created_iso")

    def __init__(self, obj_id: int, props: dict[str, str], created_ms: int, updated_ms: int,
                 created_iso: str | None = None) -> None:
        self.id = obj_id
        self.props = props
        self.created_ms = created_ms
        self.updated_ms = updated_ms
        self.archived = False
        self.archived_ms: int | None = None
        self.created_iso = created_iso or iso_from_ms(created_ms)

    def copy(self) -> CrmObject:
        c = CrmObject(self.id, dict(self.props), self.created_ms, self.updated_ms)
        c.archived, c.archived_ms, c.created_iso = self.archived, self.archived_ms, self.created_iso
        return c


WriteListener = Callable[[CrmObject], None]


class ObjectStore:
    """Records of one type keyed by numeric id, kept in id order, with unique-value indexes."""

    def __init__(self, object_type: str, modified_prop: str, first_id: int, case_insensitive: set[str]) -> None:
        self.object_type = object_type
        self.modified_prop = modified_prop
        self.objects: dict[int, CrmObject] = {}
        self.sorted_ids: list[int] = []
        self.unique: dict[str, dict[str, int]] = {}
        self.case_insensitive = case_insensitive
        self.next_id = first_id
        self.version = 0
        self.listeners: list[WriteListener] = []

    # -- ids -------------------------------------------------------------------------------
    def allocate_id(self, step: int = 1) -> int:
        obj_id = self.next_id
        self.next_id += step
        return obj_id

    # -- unique indexes --------------------------------------------------------------------
    def ensure_index(self, prop: str) -> None:
        if prop in self.unique:
            return
        index: dict[str, int] = {}
        for obj in self.objects.values():
            value = obj.props.get(prop)
            if value is not None and not obj.archived:
                index[self._key(prop, value)] = obj.id
        self.unique[prop] = index

    def drop_index(self, prop: str) -> None:
        self.unique.pop(prop, None)

    def _key(self, prop: str, value: str) -> str:
        return value.lower() if prop in self.case_insensitive else value

    def find_unique(self, prop: str, value: str) -> CrmObject | None:
        index = self.unique.get(prop)
        if index is None:
            return None
        obj_id = index.get(self._key(prop, value))
        return self.objects.get(obj_id) if obj_id is not None else None

    # -- reads -----------------------------------------------------------------------------
    def get(self, obj_id: int) -> CrmObject | None:
        return self.objects.get(obj_id)

    def iter_from(self, start_id: int, archived: bool) -> Iterator[CrmObject]:
        """Records in id order from ``start_id`` on, only archived or only live ones."""
        ids = self.sorted_ids
        objects = self.objects
        for i in range(bisect_left(ids, start_id), len(ids)):
            obj = objects[ids[i]]
            if obj.archived == archived:
                yield obj

    def live(self) -> Iterator[CrmObject]:
        return (o for o in self.objects.values() if not o.archived)

    def count(self, archived: bool = False) -> int:
        return sum(1 for o in self.objects.values() if o.archived == archived)

    # -- writes ----------------------------------------------------------------------------
    def insert(self, obj: CrmObject, notify: bool = True) -> CrmObject:
        if obj.id in self.objects:
            raise KeyError(obj.id)
        self.objects[obj.id] = obj
        ids = self.sorted_ids
        if not ids or obj.id > ids[-1]:
            ids.append(obj.id)
        else:
            insort(ids, obj.id)
        if obj.id >= self.next_id:
            self.next_id = obj.id + 1
        for prop, index in self.unique.items():
            value = obj.props.get(prop)
            if value is not None:
                index[self._key(prop, value)] = obj.id
        self.version += 1
        if notify:
            self._notify(obj)
        return obj

    def set_props(self, obj: CrmObject, changes: dict[str, str | None], now_ms: int) -> None:
        """Apply value changes (``None`` clears) and stamp the modified date."""
        props = obj.props
        for name, value in changes.items():
            old = props.get(name)
            index = self.unique.get(name)
            if index is not None and old is not None and index.get(self._key(name, old)) == obj.id:
                del index[self._key(name, old)]
            if value is None:
                props.pop(name, None)
            else:
                props[name] = value
                if index is not None:
                    index[self._key(name, value)] = obj.id
        self.touch(obj, now_ms)

    def touch(self, obj: CrmObject, now_ms: int) -> None:
        obj.updated_ms = max(now_ms, obj.created_ms)
        obj.props[self.modified_prop] = iso_from_ms(obj.updated_ms)
        self.version += 1
        self._notify(obj)

    def archive(self, obj: CrmObject, now_ms: int) -> None:
        obj.archived = True
        obj.archived_ms = now_ms
        for prop, index in self.unique.items():
            value = obj.props.get(prop)
            if value is not None and index.get(self._key(prop, value)) == obj.id:
                del index[self._key(prop, value)]
        self.version += 1
        self._notify(obj)

    def remove_property(self, prop: str) -> None:
        for obj in self.objects.values():
            obj.props.pop(prop, None)
        self.drop_index(prop)
        self.version += 1

    def _notify(self, obj: CrmObject) -> None:
        for listener in self.listeners:
            listener(obj)
