"""Salesforce record ids: 15-character case-sensitive ids and their 18-character case-safe form.

The 18-character form appends three checksum characters, one per five-character chunk, each encoding
which of the chunk's letters are upper case. So an 18-character id read back in any letter case still
names one record: :func:`canonical_id` restores the case from the suffix.
"""

from __future__ import annotations

import itertools
import re
import threading

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_SHAPE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


def checksum(id15: str) -> str:
    """The three case-safe suffix characters of a 15-character id."""
    out = []
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        out.append(_SUFFIX_ALPHABET[bits])
    return "".join(out)


def to18(id15: str) -> str:
    """The 18-character form of a 15-character id."""
    return id15 + checksum(id15)


def canonical_id(text: str) -> str | None:
    """The 18-character id ``text`` names (15 or 18 characters, any case for 18), or None if malformed."""
    if not _ID_SHAPE.match(text):
        return None
    if len(text) == 15:
        return to18(text)
    suffix = text[15:].upper()
    if any(ch not in _SUFFIX_ALPHABET for ch in suffix):
        return None
    chars = list(text[:15])
    for chunk, code in enumerate(suffix):
        bits = _SUFFIX_ALPHABET.index(code)
        for i in range(5):
            pos = chunk * 5 + i
            chars[pos] = chars[pos].upper() if bits & (1 << i) else chars[pos].lower()
    id15 = "".join(chars)
    if checksum(id15) != suffix:  # a letter flagged upper case that is a digit: not an id we issued
        return None
    return to18(id15)


def _base62(n: int, width: int) -> str:
    digits = []
    while n:
        n, rem = divmod(n, 62)
        digits.append(_BASE62[rem])
    return "".join(reversed(digits)).rjust(width, "0")


class IdFactory:
    """Issues ids per key prefix (``001`` Account, ...): prefix, pod ``5g``, a reserved ``0``, a counter.

    The counter is scrambled so consecutive ids differ in letter case as real ones do (which is what
    makes the checksum matter).
    """

    def __init__(self, pod: str = "5g") -> None:
        self._pod = pod
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def new(self, key_prefix: str) -> str:
        with self._lock:
            n = next(self._counter)
        scrambled = (n * 2_654_435_761 + 0x5A17) % (62**9)
        return to18(f"{key_prefix}{self._pod}0{_base62(scrambled, 9)}")

    def reset(self) -> None:
        with self._lock:
            self._counter = itertools.count(1)
