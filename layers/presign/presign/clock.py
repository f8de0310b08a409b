"""An injectable clock, so tests can freeze time and domain code never calls datetime.now() itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def isoformat_z(moment: datetime) -> str:
    """ISO 8601 UTC with a 'Z', to the second: what clients parse most reliably."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
