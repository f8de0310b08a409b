"""The doctor's time budget: a deadline for the whole run, with time kept back for clean-up.

Each probe request may wait its own timeout, and a target has many of them, so a slow storage
could outlast a Lambda function's timeout and kill it before the probes are deleted. The budget
stops that: a check starts only while more than ``MIN_CHECK_SECONDS`` are left beyond the clean-up
reserve, no request of a check waits longer than that time left, and clean-up runs whatever
happened, each of its requests capped by the whole time left (at least ``CLEANUP_FLOOR_SECONDS``,
since a probe left behind is worse than a late answer). The clock is injectable (``monotonic``)
so tests drive it without real waiting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Monotonic = Callable[[], float]

DEFAULT_BUDGET_SECONDS = 120.0
# Kept back for aborting the probe multipart upload and deleting the probe objects.
CLEANUP_RESERVE_SECONDS = 15.0
# Inside Lambda: kept after the budget for answering, logging and the metric.
LAMBDA_MARGIN_SECONDS = 10.0
# A check started with less than this left would only time out, reported as the storage's fault.
MIN_CHECK_SECONDS = 1.0
CLEANUP_FLOOR_SECONDS = 1.0


@dataclass
class TimeBudget:
    seconds: float
    monotonic: Monotonic = time.monotonic
    reserve: float = CLEANUP_RESERVE_SECONDS
    # True once a request was refused or its timeout cut short for lack of time.
    cut: bool = False
    cleaning: bool = False
    _start: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._start = self.monotonic()

    @classmethod
    def unlimited(cls) -> TimeBudget:
        return cls(math.inf, reserve=0.0)

    @classmethod
    def from_remaining_ms(cls, remaining_ms: int, *, monotonic: Monotonic = time.monotonic) -> TimeBudget:
        """Inside Lambda: what the invocation has left, less the margin for answering."""
        return cls(max(remaining_ms / 1000 - LAMBDA_MARGIN_SECONDS, 0.0), monotonic=monotonic)

    def left(self) -> float:
        """Seconds left of the whole budget, clean-up reserve included."""
        return self.seconds - (self.monotonic() - self._start)

    def for_checks(self) -> float:
        return self.left() - self.reserve

    def can_start_check(self) -> bool:
        return self.for_checks() > MIN_CHECK_SECONDS

    def timeout(self, default: float) -> float | None:
        """One request's timeout: ``default``, capped by the time left; None: do not send it."""
        left = max(self.left(), CLEANUP_FLOOR_SECONDS) if self.cleaning else self.for_checks()
        if left <= 0:
            self.cut = True
            return None
        if left < default:
            self.cut = True
            return left
        return default

    def describe(self) -> str:
        return f"{self.seconds:g} s" if math.isfinite(self.seconds) else "unlimited"
