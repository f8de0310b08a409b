"""What a run answers: counts per target and per kind of work, and whether it stopped early."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "completed_by_cleanup",  # stale pending uploads whose object arrived and matched: complete
    "rejected_by_cleanup",  # ... whose object did not match (or a re-checked overwrite): deleted, rejected
    "multipart_expired",  # stale pending multipart uploads: aborted at the storage, record expired
    "single_expired",  # stale pending single uploads: record expired
    "objects_deleted",  # of the expired uploads, those with an object at their key (deleted)
    "orphans_aborted",  # storage uploads under the service's prefixes that no record claims
    "shares_removed",  # shares expired, revoked or used up for longer than the grace
    "records_removed",  # upload records past their retention
    "errors",  # items that failed (logged; the next run tries again)
]
KINDS: tuple[Kind, ...] = (
    "completed_by_cleanup",
    "rejected_by_cleanup",
    "multipart_expired",
    "single_expired",
    "objects_deleted",
    "orphans_aborted",
    "shares_removed",
    "records_removed",
    "errors",
)
# The metric of each count (one per run): multipart_expired -> CleanupMultipartExpired. The
# template's alarm names CleanupOrphansAborted (tests/infra/test_template.py checks it).
METRICS: dict[Kind, str] = {
    kind: "Cleanup" + "".join(part.title() for part in kind.split("_")) for kind in KINDS
}
STOPPED_EARLY_METRIC = "CleanupStoppedEarly"
DRY_RUN_METRIC = "CleanupDryRuns"  # a dry run emits only this
UNATTRIBUTED = "*"  # errors of a whole index read, before any item names its target


@dataclass
class Report:
    dry_run: bool
    stopped_early: bool = False
    counts: dict[str, dict[Kind, int]] = field(default_factory=lambda: defaultdict(_zeros))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, target: str, kind: Kind, n: int = 1) -> None:
        with self._lock:  # items are worked on several threads
            self.counts[target][kind] += n

    def include(self, target: str) -> None:
        with self._lock:
            _ = self.counts[target]

    def totals(self) -> dict[Kind, int]:
        totals = _zeros()
        with self._lock:
            for counts in self.counts.values():
                for kind, n in counts.items():
                    totals[kind] += n
        return totals

    def metrics(self) -> dict[str, int]:
        """The run's metrics, by name: a dry run only counts itself (it must not move the alarms);
        a real run emits every count and whether it stopped early."""
        if self.dry_run:
            return {DRY_RUN_METRIC: 1}
        totals = self.totals()
        return {
            **{name: totals[kind] for kind, name in METRICS.items()},
            STOPPED_EARLY_METRIC: int(self.stopped_early),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "stopped_early": self.stopped_early,
            "totals": self.totals(),
            "targets": {name: dict(counts) for name, counts in sorted(dict(self.counts).items())},
        }


def _zeros() -> dict[Kind, int]:
    return dict.fromkeys(KINDS, 0)
