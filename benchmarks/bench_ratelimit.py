"""The rate limiter: its own overhead per request, and the DynamoDB calls a request costs.

Overhead: ``RateLimiter`` + the DynamoDB adapter against a stub client that answers instantly
(so the figure is everything but the network: key hashing, the GCRA arithmetic, building the
request, parsing the answer, the decision and its headers), against a baseline measured in the
same run: a bare in-memory GCRA step on a dict, the least any limiter has to do. The real cost of
a request is dominated by the one UpdateItem round trip (single-digit milliseconds in-region),
which this benchmark deliberately leaves out.

Calls: UpdateItem calls per request, counted against moto in-process, on each path.

Run as `python benchmarks/bench_ratelimit.py`, or import run() from a bench runner.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "layers" / "presign", _ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from presign.adapters.dynamodb_ratelimit import DynamoDbRateLimitStore, rate_limit_client  # noqa: E402
from presign.errors import RateLimited  # noqa: E402
from presign.ratelimit.limiter import RateLimiter  # noqa: E402
from presign.ratelimit.settings import RateLimitSettings  # noqa: E402

REPEATS = 9
ITERATIONS = 2_000
TABLE = "bench-rate-limits"
SUBJECTS = [f"user-{i}" for i in range(512)]


class _StubClient:
    """Answers UpdateItem instantly, as DynamoDB would when every write is admitted."""

    def update_item(self, **request: Any) -> dict[str, Any]:
        names, values = request["ExpressionAttributeNames"], request["ExpressionAttributeValues"]
        attributes = {"rid": values[":rid"], "ttl": values[":ttl"]}
        for i in range(len(names) - 2):
            attributes[names[f"#a{i}"]] = values.get(f":v{i}") or values[f":c{i}"]
        return {"Attributes": attributes, "ResponseMetadata": {"RetryAttempts": 0}}


class _Clock:
    """An hour passes between calls, so every lane is idle again: the common, one-write path."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now


def _paired_median_us(
    ours: Callable[[], object], baseline: Callable[[], object], iterations: int = ITERATIONS
) -> tuple[float, float]:
    """Median over REPEATS of the mean cost of one call, in µs; runs alternate, so noise from
    other processes falls on both sides of the ratio alike."""
    runs: dict[Callable[[], object], list[float]] = {ours: [], baseline: []}
    for _ in range(REPEATS):
        for fn, samples in runs.items():
            start = time.perf_counter()
            for _ in range(iterations):
                fn()
            samples.append((time.perf_counter() - start) / iterations * 1e6)
    return statistics.median(runs[ours]), statistics.median(runs[baseline])


def _baseline() -> Callable[[], object]:
    """A bare GCRA step: one dict read, max, add, compare, one dict write."""
    tats: dict[str, int] = {}
    interval, tau = 10**12, 10 * 10**12
    counter = [0]

    def step() -> object:
        counter[0] += 1
        key = SUBJECTS[counter[0] % len(SUBJECTS)]
        now = time.time_ns() * 1000
        tat = max(tats.get(key, now), now) + interval
        if tat - now > tau:
            return False
        tats[key] = tat
        return True

    return step


def _ours(settings: RateLimitSettings, call: Callable[[RateLimiter, str], object]) -> Callable[[], object]:
    store = DynamoDbRateLimitStore(_StubClient(), TABLE)  # type: ignore[arg-type]
    limiter = RateLimiter(settings, store, clock=_Clock())
    counter = [0]

    def request() -> object:
        counter[0] += 1
        return call(limiter, SUBJECTS[counter[0] % len(SUBJECTS)])

    return request


def _refusing() -> Callable[[], object]:
    """A client over its budget whose tat this container knows: refused without a write."""
    settings = RateLimitSettings.model_validate(
        {"actions": {"upload": {"rate": 1, "period": 3600, "burst": 1}}}
    )
    frozen = datetime(2025, 1, 1, tzinfo=UTC)
    limiter = RateLimiter(settings, DynamoDbRateLimitStore(_StubClient(), TABLE), clock=lambda: frozen)  # type: ignore[arg-type]
    limiter.acquire(subject="hammer", action="upload", target="main")

    def request() -> object:
        try:
            return limiter.acquire(subject="hammer", action="upload", target="main")
        except RateLimited as refused:
            return refused.headers

    return request


def _overhead_rows() -> list[dict[str, Any]]:
    quota = RateLimitSettings(upload_bytes_per_day=10**10)
    scenarios: list[tuple[str, Callable[[], object]]] = [
        (
            "overhead: admit, idle lane (1 write)",
            _ours(
                RateLimitSettings(), lambda lim, s: lim.acquire(subject=s, action="download", target="main")
            ),
        ),
        (
            "overhead: upload + byte quota (1 write, 2 lanes)",
            _ours(quota, lambda lim, s: lim.acquire_upload(subject=s, target="main", nbytes=5_000_000)),
        ),
        ("overhead: refuse from the cached tat (0 writes)", _refusing()),
    ]
    rows = []
    for name, ours in scenarios:
        baseline = _baseline()
        ours()
        ours_us, baseline_us = _paired_median_us(ours, baseline)
        rows.append(
            {
                "name": name,
                "ours_us": round(ours_us, 1),
                "baseline_us": round(baseline_us, 2),
                "ratio": round(ours_us / baseline_us, 1),
            }
        )
    return rows


def _calls_rows() -> list[dict[str, Any]]:
    from moto import mock_aws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from local.cfn import load_template

    properties = load_template()["Resources"]["RateLimitTable"]["Properties"]
    rows: list[dict[str, Any]] = []
    with mock_aws():
        client = rate_limit_client.__wrapped__(region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=properties["KeySchema"],
            AttributeDefinitions=properties["AttributeDefinitions"],
            BillingMode=properties["BillingMode"],
        )
        calls: list[int] = []
        client.meta.events.register("before-call.dynamodb.UpdateItem", lambda **_: calls.append(1))
        limits = RateLimitSettings.model_validate(
            {
                "actions": {"upload": {"rate": 1, "period": 3600, "burst": 3}},
                "per_target": {"files": {"upload": {"rate": 1, "period": 3600, "burst": 10}}},
                "upload_bytes_per_day": 10**9,
            }
        )

        def cold() -> RateLimiter:
            return RateLimiter(limits, DynamoDbRateLimitStore(client, TABLE))

        warm = cold()

        def count(name: str, request: Callable[[], object]) -> None:
            before = len(calls)
            try:
                request()
                outcome = "admitted"
            except RateLimited:
                outcome = "refused"
            rows.append({"name": f"calls: {name}", "calls": len(calls) - before, "outcome": outcome})

        def upload(limiter: RateLimiter) -> Callable[[], object]:
            return lambda: limiter.acquire(subject="a", action="upload", target="main")

        def upload_with_quota(limiter: RateLimiter, nbytes: int = 10**6) -> Callable[[], object]:
            return lambda: limiter.acquire_upload(subject="b", target="files", nbytes=nbytes)

        count("idle lane", upload(warm))
        count("busy lane, tat cached", upload(warm))
        count("busy lane, cold container", upload(cold()))
        count("over the limit, cold container", upload(cold()))
        count("over the limit, cached tat out of date", upload(warm))
        count("over the limit, tat cached", upload(warm))
        count("upload + byte quota, idle", upload_with_quota(warm))
        count("upload + byte quota, busy, tat cached", upload_with_quota(warm))
        count("upload + byte quota, busy, cold container", upload_with_quota(cold()))
        count("upload + byte quota, over the quota, cold container", upload_with_quota(cold(), 10**9))
    return rows


def run() -> list[dict[str, Any]]:
    """Overhead rows (µs per request, ours vs a bare GCRA dict step, ratio) and call-count rows."""
    return _overhead_rows() + _calls_rows()


def main() -> None:
    for row in run():
        details = ", ".join(f"{k}={v}" for k, v in row.items() if k != "name")
        print(f"  {row['name']}: {details}")


if __name__ == "__main__":
    main()
