"""A picosecond clock and an event recorder for the rate-limiter tests (GCRA works in picoseconds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from presign.ratelimit.gcra import PICOS_PER_SECOND

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
START = 1_750_000_000 * PICOS_PER_SECOND  # a realistic epoch, so integer sizes are realistic too
US = 10**6  # picoseconds in a microsecond, the resolution of a datetime clock


@dataclass
class FakeClock:
    ps: int = START

    def __call__(self) -> datetime:
        return EPOCH + timedelta(microseconds=self.ps // US)

    def advance(self, seconds: float) -> None:
        self.ps += int(seconds * 1_000_000) * US


@dataclass
class Events:
    """Records the limiter's operational events (what production turns into metrics)."""

    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __call__(self, name: str, /, **dims: str) -> None:
        self.seen.append((name, dims))

    def names(self) -> list[str]:
        return [name for name, _ in self.seen]
