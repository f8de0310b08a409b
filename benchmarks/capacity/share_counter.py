"""(a) A popular count-limited share: how many counter items keep each under 1,000 writes a second.

Today a count-limited link spends a download with one conditional ``UpdateItem`` on the share's
own item (``downloads < max_downloads``), so one link takes at most ~1,000 spends a second
(DynamoDB's per-partition write limit; a single item cannot be split). The design simulated here
is the phase-2 proposal of docs/capacity.md:

* at creation, ``max_downloads`` is split into N *counter items* (``pk = s#<handle>#c<i>``), each
  holding an allotment ``left_i``; the allotments add up to exactly ``max_downloads``;
* a visit still reads the share's own item (revoked? expired? exhausted?), then spends on a
  counter item chosen at random among those its container has not yet seen empty:
  ``left = left - 1`` if ``left > 0``; a failed condition marks that counter empty *in this
  container* and the visit falls through to another one;
* a visit that finds every counter empty marks the share exhausted (one conditional write on the
  share's item), so later visits are refused by their read and write nothing, as today.

Exactness needs no simulation (each grant takes one unit from a counter that had one; ``left``
never grows, so a visit that saw every counter at zero saw the share used up), but the simulation
checks it anyway on every visit, and measures what the proof does not say: the writes per grant
(fall-throughs), and the busiest counter's writes in any one second, the tail included, when the
counters run dry one after another.

Arrivals are Poisson (seeded); each lands in one of ``containers`` Lambda containers at random.
Writes are applied one at a time, as DynamoDB applies writes to one item.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

PARTITION_WRITES = 1_000  # per second, per item (limits.py: ddb_partition_wru)


@dataclass
class ShareRun:
    counters: int
    rate: float
    max_downloads: int
    visits: int = 0
    granted: int = 0
    refused: int = 0
    counter_writes: int = 0
    failed_counter_writes: int = 0
    exhausted_writes: int = 0
    share_reads: int = 0
    false_refusals: int = 0  # refused while some counter still held a download (must stay 0)
    exhausted_at: float | None = None
    per_second: Counter[tuple[int, int]] = field(default_factory=Counter)  # (counter, second) -> writes
    reads_per_second: Counter[int] = field(default_factory=Counter)

    @property
    def peak_counter_writes(self) -> int:
        return max(self.per_second.values(), default=0)

    @property
    def writes_per_grant(self) -> float:
        return (self.counter_writes + self.exhausted_writes) / max(1, self.granted)

    @property
    def seconds_over_limit(self) -> int:
        """Counter-seconds in which one counter item took more writes than a partition serves."""
        return sum(1 for writes in self.per_second.values() if writes > PARTITION_WRITES)

    @property
    def exact(self) -> bool:
        return self.granted == self.max_downloads and self.false_refusals == 0


def allotments(max_downloads: int, counters: int) -> list[int]:
    """``max_downloads`` split into ``counters`` allotments that add up to it exactly."""
    base, extra = divmod(max_downloads, counters)
    return [base + (1 if i < extra else 0) for i in range(counters)]


def simulate(
    *,
    counters: int,
    rate: float = 2_000.0,
    max_downloads: int = 60_000,
    containers: int = 200,
    after_exhaustion: float = 10.0,
    seed: int = 26,
) -> ShareRun:
    rng = random.Random(seed)
    left = allotments(max_downloads, counters)
    seen_empty: list[set[int]] = [set() for _ in range(containers)]
    share_exhausted = False
    run = ShareRun(counters=counters, rate=rate, max_downloads=max_downloads)
    now = 0.0
    horizon = max_downloads / rate + after_exhaustion
    while now < horizon:
        now += rng.expovariate(rate)
        second = int(now)
        run.visits += 1
        run.share_reads += 1
        run.reads_per_second[second] += 1
        if share_exhausted:
            run.refused += 1  # the read says exhausted: no write at all
            continue
        empty = seen_empty[rng.randrange(containers)]
        candidates = [i for i in range(counters) if i not in empty]
        granted = False
        while candidates:
            pick = candidates.pop(rng.randrange(len(candidates)))
            run.counter_writes += 1
            run.per_second[(pick, second)] += 1
            if left[pick] > 0:
                left[pick] -= 1
                granted = True
                break
            run.failed_counter_writes += 1
            empty.add(pick)
        if granted:
            run.granted += 1
            continue
        # Every counter this container tried (or knew) is empty: mark the share exhausted.
        if sum(left) > 0:
            run.false_refusals += 1
        run.exhausted_writes += 1
        if not share_exhausted:
            share_exhausted = True
            run.exhausted_at = now
        run.refused += 1
    return run


def run(seed: int = 26) -> list[ShareRun]:
    return [simulate(counters=n, seed=seed) for n in (1, 2, 4, 8)]


def rows(runs: list[ShareRun]) -> list[dict[str, object]]:
    return [
        {
            "name": f"counter items N={r.counters}",
            "exact": r.exact,
            "granted": r.granted,
            "writes_per_grant": round(r.writes_per_grant, 4),
            "fall_throughs": r.failed_counter_writes,
            "peak_writes_per_item_s": r.peak_counter_writes,
            "item_seconds_over_1000": r.seconds_over_limit,
            "peak_share_reads_s": max(r.reads_per_second.values()),
        }
        for r in runs
    ]
