"""A clock a test moves by hand, injected where a function's runtime takes its clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def inject_clock(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> None:
    """Functions loaded after this read ``clock`` wherever the runtime reads the system clock
    (signing, expiry checks); undone at the test's end."""
    import presign.bootstrap.runtime

    monkeypatch.setattr(presign.bootstrap.runtime, "system_clock", clock)
