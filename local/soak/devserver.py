"""``python -m local.dev`` with a clock the soak can skew: the functions' clock against the storage's.

The skew in seconds is read from the file ``PRESIGN_SOAK_SKEW_FILE`` names (absent or empty: none),
on every reading of the clock, so the soak opens and closes a skew window while the stack runs.
The clock is installed where the functions' runtime takes it (``presign.bootstrap.runtime``, as
``tests/support/clock.py`` does), before ``local.dev`` imports any handler: signing, record times and
token checks all see it. ``--concurrency N`` runs invocations in N worker processes, each a
container with its own clock read from the same file. Nothing else of ``make dev`` changes.
"""

from __future__ import annotations

import argparse
import functools
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


def install_clock() -> None:
    """Where the functions' runtime takes its clock: here, and in each emulator worker process."""
    import presign.bootstrap.runtime

    path = os.environ.get(SKEW_FILE_VAR, "")
    if path:
        # The runtime reads this module global when it is built (Runtime(clock=None)).
        setattr(presign.bootstrap.runtime, "system_clock", SkewedClock(Path(path)))  # noqa: B010


def main(argv: list[str] | None = None) -> int:
    """``local.dev``'s arguments, and ``--concurrency N``: invocations run in N worker processes
    (``local/gateway/containers.py``) rather than one at a time in this one."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--concurrency", type=int, default=1)
    ours, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    install_clock()
    import local.dev
    from local.gateway.server import Emulator

    if ours.concurrency > 1:
        emulator = functools.partial(Emulator, concurrency=ours.concurrency, worker_init=install_clock)
        setattr(local.dev, "Emulator", emulator)  # noqa: B010 - make dev builds it by this name
    return local.dev.main(rest)


if __name__ == "__main__":
    sys.exit(main())
