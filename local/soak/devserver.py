"""``python -m local.dev`` with a clock the soak can skew: the functions' clock against the storage's.

The skew in seconds is read from the file ``PRESIGN_SOAK_SKEW_FILE`` names (absent or empty: none),
on every reading of the clock, so the soak opens and closes a skew window while the stack runs.
The clock is installed where the functions' runtime takes it (``presign.bootstrap.runtime``, as
``tests/support/clock.py`` does), before ``local.dev`` imports any handler: signing, record times and
token checks all see it. Nothing else of ``make dev`` changes.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

SKEW_FILE_VAR = "PRESIGN_SOAK_SKEW_FILE"


class SkewedClock:
    """``datetime.now(UTC)`` plus the seconds the file holds."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def skew(self) -> float:
        try:
            text = self._path.read_text("utf-8").strip()
        except OSError:
            return 0.0
        try:
            return float(text) if text else 0.0
        except ValueError:
            return 0.0

    def __call__(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.skew())


def main(argv: list[str] | None = None) -> int:
    import presign.bootstrap.runtime

    path = os.environ.get(SKEW_FILE_VAR, "")
    if path:
        # The runtime reads this module global when it is built (Runtime(clock=None)).
        setattr(presign.bootstrap.runtime, "system_clock", SkewedClock(Path(path)))  # noqa: B010
    from local.dev import main as dev_main

    return dev_main(argv)


if __name__ == "__main__":
    sys.exit(main())
