"""What a check found, and how a run prints: one line per check, PASS / WARN / FAIL / SKIP.

A failure always carries its fix, on the lines below it; a warning may. SKIP is a check that does
not apply to this target (POST uploads turned off) or cannot run because an earlier one failed;
only FAIL makes the exit status non-zero.
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


def exit_status(findings: Iterable[Finding]) -> int:
    return 1 if any(f.status is Status.FAIL for f in findings) else 0
