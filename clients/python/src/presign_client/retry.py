"""When to try again: the contract's retry rules (docs/clients.md, "Retries"), shared by the API
and the storage calls.

* ``429`` and ``409 idempotency_in_progress``: wait what ``Retry-After`` says (the same request
  is admitted then), plus up to 1 s of jitter so that many clients do not come back at once;
* ``503``, or an answer without ``Retry-After``: ``Retry-After`` (if any) plus full jitter that
  grows with each attempt, capped at 30 s;
* no answer at all (refused, reset, timed out): full jitter, growing, capped;
* all of it bounded by **time** (``patience`` seconds from the first failure), never by a count:
  the service keeps a failed ``Idempotency-Key`` claim for 30 s, so a few quick attempts would
  give up inside the very window that a later retry gets through.

Waiting happens on ``stop`` (a ``threading.Event``), so an interrupt ends a wait at once.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from presign_client.errors import Interrupted

CAP = 30.0  # seconds: the longest random backoff between two attempts
DEFAULT_PATIENCE = 120.0  # seconds a request keeps being retried before the error is raised

_random = random.SystemRandom()


def backoff(attempt: int, retry_after: float | None, *, growing: bool, rand: Callable[[], float]) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

    Never less than ``retry_after``: a retry made sooner than the server said is refused again.
    """
    base = max(0.0, retry_after or 0.0)
    spread = min(CAP, 2.0**attempt) if growing else 1.0
    return base + rand() * spread


@dataclass
class Retry:
    """One operation's retries: after each failure, ``next(...)`` says how long to wait (None:
    past the deadline, raise the error instead); ``sleep`` waits it (interrupted by ``stop``)."""

    patience: float = DEFAULT_PATIENCE
    stop: threading.Event | None = None
    upload_id: str | None = None
    clock: Callable[[], float] = time.monotonic
    rand: Callable[[], float] = _random.random
    attempt: int = 0
    _deadline: float | None = field(default=None, init=False)

    def next(self, retry_after: float | None, *, growing: bool) -> float | None:
        now = self.clock()
        if self._deadline is None:
            self._deadline = now + self.patience
        self.attempt += 1
        seconds = backoff(self.attempt, retry_after, growing=growing, rand=self.rand)
        return None if now + seconds > self._deadline else seconds

    def sleep(self, seconds: float) -> None:
        if self.stop is None:
            time.sleep(seconds)
        elif self.stop.wait(seconds):
            raise Interrupted(self.upload_id)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the API sends whole seconds; an HTTP date is read too)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
