"""(d) S3's per-prefix rates and the key layout ``users/{sub}/yyyy/mm/dd/{upload_id}/{name}``.

S3 serves at least 3,500 PUT and 5,500 GET/HEAD a second per *partitioned* prefix and adds
partitions by splitting a busy key range, gradually, answering 503 SlowDown meanwhile
(limits.py). A partition is a contiguous range of keys, so what matters is where in the key the
load varies. The model:

1. One second of uploads at a load level, each by a user drawn at random from ``users``, plus
   one heavy user at the most their default rate limits allow, each a key of the service's shape.
2. Day 1: the fewest contiguous key ranges that keep every range under 80 % of 3,500 PUT/s (a
   greedy cut of the sorted keys, optimal for contiguous ranges): the partitions S3 would have
   split into by the end of a day of that traffic.
3. Day 2: fresh traffic of the same kind with the next date, counted against day 1's ranges.

With ``{sub}`` before the date (this service), day 2's keys fall into the same ranges as day 1's:
the splits S3 made keep working. With the date first (``yyyy/mm/dd/{sub}/...``), every key of
day 2 sorts after every key of day 1, so the whole day lands in the last range and S3 starts
splitting from scratch each midnight. One user's own day prefix is bounded by their rate limits
(60 uploads and 6,000 part URLs a minute by default: at most ~101 PUT/s), far below 3,500.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from dataclasses import dataclass

PUT_PER_PREFIX = 3_500
SPLIT_AT = 0.8  # a range is split while it heats up, before it is full
USER_PUT_CEILING = 60 // 60 + 6_000 // 60  # default upload + upload_parts limits, per second


def _sub(user: int) -> str:
    return hashlib.sha256(f"user-{user}".encode()).hexdigest()[:32]  # Cognito-like opaque ids


def _key(sub: str, day: str, upload: int, date_first: bool) -> str:
    tail = f"{upload:026d}/photo.jpg"
    return f"users/{day}/{sub}/{tail}" if date_first else f"users/{sub}/{day}/{tail}"


def _traffic(rate: int, users: int, rng: random.Random) -> list[int]:
    """Who uploads in one second: user 0 at their rate-limit ceiling, the rest at random."""
    heavy = [0] * USER_PUT_CEILING
    return heavy + [rng.randrange(1, users) for _ in range(rate - len(heavy))]


def _cuts(keys: list[str], cap: int) -> list[str]:
    """Greedy contiguous ranges of at most ``cap`` keys; each boundary is the first key of a range."""
    ordered = sorted(keys)
    return [ordered[i] for i in range(cap, len(ordered), cap)]


@dataclass(frozen=True)
class PrefixRun:
    layout: str
    put_rate: int
    users: int
    partitions_day1: int
    busiest_partition_day2: int
    hottest_user_s: int

    def row(self) -> dict[str, object]:
        return {
            "name": f"{self.layout}, {self.put_rate:,} PUT/s, {self.users:,} users",
            "partitions_needed": self.partitions_day1,
            "busiest_partition_next_day": self.busiest_partition_day2,
            "over_3500_next_day": self.busiest_partition_day2 > PUT_PER_PREFIX,
            "hottest_user_put_s": self.hottest_user_s,
        }


def simulate(*, put_rate: int, users: int, date_first: bool, seed: int = 26) -> PrefixRun:
    rng = random.Random(seed)
    today = _traffic(put_rate, users, rng)
    day1 = [_key(_sub(u), "2026/12/07", i, date_first) for i, u in enumerate(today)]
    cuts = _cuts(day1, int(PUT_PER_PREFIX * SPLIT_AT))
    tomorrow = _traffic(put_rate, users, rng)
    day2 = [_key(_sub(u), "2026/12/08", i, date_first) for i, u in enumerate(tomorrow)]
    load = [0] * (len(cuts) + 1)
    for key in day2:
        load[bisect.bisect_right(cuts, key)] += 1
    return PrefixRun(
        layout="date first" if date_first else "this layout (sub first)",
        put_rate=put_rate,
        users=users,
        partitions_day1=len(cuts) + 1,
        busiest_partition_day2=max(load),
        hottest_user_s=tomorrow.count(0),
    )


def run(seed: int = 26) -> list[PrefixRun]:
    return [
        simulate(put_rate=rate, users=users, date_first=date_first, seed=seed)
        for rate, users in ((15_000, 100_000_000),)
        for date_first in (False, True)
    ]
