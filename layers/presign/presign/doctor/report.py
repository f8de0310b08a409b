"""What a check found, and how a run prints: one line per check, PASS / WARN / FAIL / SKIP.

A failure always carries its fix, on the lines below it; a warning may. SKIP is a check that does
not apply to this target (POST uploads turned off) or cannot run because an earlier one failed;
only FAIL makes the exit status 1. A run whose time budget ran out (``presign.doctor.budget``)
marks the checks it did not finish ``stopped`` (SKIP lines saying so) and exits 3, never 0: the
checks it did not run passed nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Status(enum.Enum):
    PASS = "PASS"  # noqa: S105 - a status, not a password
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Finding:
    target: str
    check: str
    status: Status
    message: str
    fix: str = ""
    # The time budget ran out before (or during) this check: it is SKIP and the run stopped early.
    stopped: bool = False

    def __post_init__(self) -> None:
        if self.status is Status.FAIL and not self.fix:
            raise ValueError(f"a failing check must say how to fix it: {self.check}")


def render(finding: Finding) -> str:
    """``PASS  local  credentials  ...``, the fix indented below it."""
    line = f"{finding.status.value}  {finding.target}  {finding.check:<11} {finding.message}"
    if finding.fix:
        fix = "\n".join(f"      {row}" for row in finding.fix.splitlines())
        line += f"\n      fix: {fix.lstrip()}"
    return line


STOPPED_EARLY_EXIT = 3


def stopped_early(findings: Iterable[Finding]) -> bool:
    return any(f.stopped for f in findings)


def exit_status(findings: Iterable[Finding]) -> int:
    """1 when a check failed, else 3 when the time budget cut the run short, else 0."""
    found = list(findings)
    if any(f.status is Status.FAIL for f in found):
        return 1
    return STOPPED_EARLY_EXIT if stopped_early(found) else 0
