"""(b) One user's rate-limit item under load: writes per request as the containers multiply.

The real ``presign.ratelimit.limiter.RateLimiter`` runs here, one instance per simulated Lambda
container (each with its own cache of tats, as in production), over an in-memory store that
evaluates exactly the conditions of ``presign.adapters.dynamodb_ratelimit`` and applies writes to
the item one at a time, as DynamoDB does. Time is virtual (a seeded Poisson stream of one user's
requests, each landing in a random container a few milliseconds after it was stamped), so the
figures are deterministic and independent of this machine.

What it measures, per scenario:

* ``writes_per_request`` / ``writes_per_admitted``: conditional ``UpdateItem`` calls (applied or
  not: a failed condition is still a write DynamoDB charges for);
* ``peak_item_writes_s``: the most writes the one item took in any second, against the 1,000 a
  partition serves (DynamoDB cannot split one item);
* ``admitted`` against the GCRA bound ``burst + rate * seconds``: stale caches in many containers
  must never admit more than the limit (checked, not assumed).

The answer the model uses: a container refuses from its cache only until it believes a unit has
refilled, so a user hammering from many containers costs about one write per request, however
few are admitted, and the item saturates at ~1,000 requests a second from that one user.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from presign.config.ratelimit import RateLimitSettings
from presign.errors import RateLimited
from presign.ratelimit.gcra import PICOS_PER_SECOND
from presign.ratelimit.limiter import RateLimiter
from presign.ratelimit.store import LaneWrite, WriteOutcome

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
START = 1_750_000_000 * PICOS_PER_SECOND
DOWNLOAD = RateLimitSettings().actions.download.model_dump()  # the default: 20/s, 1,000 at once


@dataclass
class CountingStore:
    """The DynamoDB conditions of ``presign.ratelimit.store``, in memory, every write timestamped."""

    items: dict[str, dict[str, int | str]] = field(default_factory=dict)
    writes_per_second: Counter[int] = field(default_factory=Counter)
    writes: int = 0
    failed: int = 0

    def write(
        self, key: str, lanes: Sequence[LaneWrite], *, now: int, request_id: str, expires_at: int
    ) -> WriteOutcome:
        self.writes += 1
        self.writes_per_second[(now - START) // PICOS_PER_SECOND] += 1
        item = self.items.get(key, {})
        ok = item.get("rid") != request_id
        for lane in lanes:
            tat = item.get(lane.attribute)
            if lane.mode == "start":
                ok = ok and (tat is None or (isinstance(tat, int) and tat <= now))
            else:
                ok = ok and isinstance(tat, int) and now < tat <= lane.ceiling
        if not ok:
            self.failed += 1
            rid = item.get("rid")
            return WriteOutcome(False, _tats(item, lanes), rid if isinstance(rid, str) else None)
        new = dict(item)
        for lane in lanes:
            tat = item.get(lane.attribute)
            base = now if lane.mode == "start" or not isinstance(tat, int) else tat
            new[lane.attribute] = base + lane.increment
        new["rid"], new["ttl"] = request_id, expires_at
        self.items[key] = new
        return WriteOutcome(True, _tats(new, lanes), request_id)


def _tats(item: Mapping[str, int | str], lanes: Sequence[LaneWrite]) -> dict[str, int]:
    return {lane.attribute: v for lane in lanes if isinstance(v := item.get(lane.attribute), int)}


@dataclass(frozen=True)
class LimiterRun:
    name: str
    rate: float
    containers: int
    seconds: float
    requests: int
    admitted: int
    bound: int
    writes: int
    failed_writes: int
    peak_item_writes_s: int

    def row(self) -> dict[str, object]:
        return {
            "name": self.name,
            "requests_s": self.rate,
            "containers": self.containers,
            "requests": self.requests,
            "admitted": self.admitted,
            "bound": self.bound,
            "within_bound": self.admitted <= self.bound,
            "writes_per_request": round(self.writes / max(1, self.requests), 3),
            "writes_per_admitted": round(self.writes / max(1, self.admitted), 2),
            "peak_item_writes_s": self.peak_item_writes_s,
        }


def simulate(
    name: str,
    *,
    rate: float,
    containers: int,
    seconds: float = 6.0,
    limit: Mapping[str, int] = DOWNLOAD,
    latency_ms: tuple[float, float] = (2.0, 8.0),
    seed: int = 26,
) -> LimiterRun:
    rng = random.Random(seed)
    settings = RateLimitSettings.model_validate({"actions": {"download": dict(limit)}})
    store = CountingStore()
    stamp = [START]  # the stamp of the request being handled: every container's clock reads it

    def clock() -> datetime:
        return EPOCH + timedelta(microseconds=stamp[0] // 10**6)

    fleet = [RateLimiter(settings, store, clock=clock) for _ in range(containers)]
    # (landing time, stamp, container): a request is stamped on arrival and writes on landing.
    landings: list[tuple[int, int, int]] = []
    t = 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= seconds:
            break
        stamped = START + int(t * PICOS_PER_SECOND)
        lands = stamped + int(rng.uniform(*latency_ms) * PICOS_PER_SECOND / 1000)
        heapq.heappush(landings, (lands, stamped, rng.randrange(containers)))
    requests = admitted = 0
    while landings:
        _, stamp[0], container = heapq.heappop(landings)
        requests += 1
        try:
            fleet[container].acquire(subject="hot-user", action="download", target="main")
        except RateLimited:
            continue
        admitted += 1
    bound = limit["burst"] + int(limit["rate"] * seconds / limit["period"]) + 1
    return LimiterRun(
        name=name,
        rate=rate,
        containers=containers,
        seconds=seconds,
        requests=requests,
        admitted=admitted,
        bound=bound,
        writes=store.writes,
        failed_writes=store.failed,
        peak_item_writes_s=max(store.writes_per_second.values(), default=0),
    )


SCENARIOS: tuple[tuple[str, float, int], ...] = (
    ("a busy gallery, just over the limit", 24.0, 10),
    ("the same, from 100 containers", 24.0, 100),
    ("a script at 200/s", 200.0, 10),
    ("a script at 200/s, 100 containers", 200.0, 100),
    ("a flood at 2,000/s, 10 containers", 2_000.0, 10),
    ("a flood at 2,000/s, 100 containers", 2_000.0, 100),
    ("a flood at 2,000/s, 1,000 containers", 2_000.0, 1_000),
)


def run(seed: int = 26) -> list[LimiterRun]:
    return [simulate(name, rate=rate, containers=c, seed=seed) for name, rate, c in SCENARIOS]
