"""Upload ids that sort by creation time: 48 bits of milliseconds, then 80 random bits.

Encoded in lower-case Crockford base32 (26 characters, no ``i l o u``), so the lexical order of two
ids is the order of their millisecond timestamps. The records table uses the id as its sort key:
a Query in reverse key order lists a caller's uploads newest first, with no index and no Scan.
80 random bits make a collision within one millisecond astronomically unlikely, and an id is
unguessable (an id of another caller answers 404 anyway).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
LENGTH = 26
RANDOM_BITS = 80
_MAX_MS = 2**48 - 1
_PATTERN = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")


def new_upload_id(now: datetime, random_bytes: Callable[[int], bytes]) -> str:
    """The id of an upload created at ``now``; ``random_bytes`` is ``os.urandom`` outside tests."""
    ms = int(now.timestamp() * 1000)
    if not 0 <= ms <= _MAX_MS:
        raise ValueError("the clock is outside the 48-bit millisecond range")
    return _encode((ms << RANDOM_BITS) | int.from_bytes(random_bytes(RANDOM_BITS // 8), "big"))


class MonotonicIds:
    """``new_upload_id``, but strictly increasing within one container, even within a millisecond.

    Two uploads of one caller made in the same millisecond would otherwise list in the order of
    their random bits; here the later one is the earlier plus one (as monotonic ULIDs do), so a
    container's uploads list exactly newest first. Across containers the millisecond decides.
    """

    def __init__(self, random_bytes: Callable[[int], bytes]) -> None:
        self._random = random_bytes
        self._last = 0
        self._lock = threading.Lock()

    def __call__(self, now: datetime) -> str:
        fresh = _decode(new_upload_id(now, self._random))
        with self._lock:
            if fresh >> RANDOM_BITS == self._last >> RANDOM_BITS and fresh <= self._last:
                fresh = self._last + 1
            self._last = fresh
        return _encode(fresh)


def _encode(value: int) -> str:
    chars = []
    for _ in range(LENGTH):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def is_upload_id(text: str) -> bool:
    return bool(_PATTERN.match(text))


def _decode(upload_id: str) -> int:
    value = 0
    for ch in upload_id:
        value = value * 32 + ALPHABET.index(ch)
    return value


def created_ms(upload_id: str) -> int:
    """The millisecond timestamp an id carries (for tests and the cleanup job)."""
    return _decode(upload_id) >> RANDOM_BITS


def created_at(upload_id: str) -> datetime:
    return datetime.fromtimestamp(created_ms(upload_id) / 1000, UTC)
