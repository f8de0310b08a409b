"""Progress from the bytes really sent, that never goes back and never passes the total.

Each part (or the one PUT) is a slot. A slot counts the bytes of its current attempt as they
are handed to the socket; a retried attempt starts again from zero, but the slot reports the
most it ever reached, so a retry neither jumps the bar back nor counts a byte twice. Parts the
storage already has (on resume) start full.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

ProgressCallback = Callable[[int, int], None]  # (bytes sent, total bytes)


class Progress:
    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self._callback = callback
        self._lock = threading.Lock()
        self._best: dict[int, int] = {}  # slot -> the most bytes any attempt of it reached
        self._sent = 0

    @property
    def sent(self) -> int:
        return self._sent

    def attempt(self, slot: int) -> Attempt:
        """A counter for one attempt at sending ``slot``."""
        return Attempt(self, slot)

    def done(self, slot: int, size: int) -> None:
        """The slot is stored (sent now, or found stored on resume)."""
        self._reach(slot, size)

    def _reach(self, slot: int, reached: int) -> None:
        with self._lock:
            best = self._best.get(slot, 0)
            if reached <= best:
                return
            self._best[slot] = reached
            self._sent += reached - best
            sent = self._sent
            # Called under the lock: reports arrive in order, each larger than the last.
            if self._callback is not None:
                self._callback(min(sent, self.total), self.total)


class Attempt:
    def __init__(self, progress: Progress, slot: int) -> None:
        self._progress = progress
        self._slot = slot
        self._sent = 0

    def add(self, count: int) -> None:
        self._sent += count
        self._progress._reach(self._slot, self._sent)
