"""The rate limiter: its own overhead per request, and the DynamoDB calls a request costs.

Overhead: ``RateLimiter`` + the DynamoDB adapter against a stub client that answers instantly
(so the figure is everything but the network: key hashing, the GCRA arithmetic, building the
request, parsing the answer, the decision and its headers), against a baseline measured in the
same run: a bare in-memory GCRA step on a dict, the least any limiter has to do. The real cost of
a request is dominated by the one UpdateItem round trip (single-digit milliseconds in-region),
which this benchmark deliberately leaves out.

Calls: UpdateItem calls per request, counted against a local moto server, on each path.

Client: the CPU time our process spends per UpdateItem with the adapter's lean ``AwsJsonClient``
against boto3's ``update_item``, both against the same local moto server (``time.process_time``:
the server's work is in its own process, so what is left is building, signing, sending and parsing).

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

from benchmarks.timing import paired_median_us  # noqa: E402
from presign.adapters.dynamodb import table_client  # noqa: E402
from presign.adapters.dynamodb_ratelimit import DynamoDbRateLimitStore  # noqa: E402
from presign.config.ratelimit import RateLimitSettings  # noqa: E402
from presign.errors import RateLimited  # noqa: E402
from presign.ratelimit.limiter import RateLimiter  # noqa: E402

REPEATS = 9
ITERATIONS = 2_000
TABLE = "bench-rate-limits"
SUBJECTS = [f"user-{i}" for i in range(512)]


class _StubClient:
    """Answers UpdateItem instantly, as DynamoDB would when every write is admitted."""

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
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
        ours_us, baseline_us = paired_median_us(ours, baseline, iterations=ITERATIONS, repeats=REPEATS)
        rows.append(
            {
                "name": name,
                "ours_us": round(ours_us, 1),
                "baseline_us": round(baseline_us, 2),
                "ratio": round(ours_us / baseline_us, 1),
            }
        )
    return rows


def _table(endpoint_url: str) -> None:
    from local.cfn import load_template

    properties = load_template()["Resources"]["RateLimitTable"]["Properties"]
    table_client.__wrapped__(region_name="us-east-1", endpoint_url=endpoint_url).call(
        "CreateTable",
        {
            "TableName": TABLE,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": properties["BillingMode"],
        },
    )


def _calls_rows(endpoint_url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    client = table_client.__wrapped__(region_name="us-east-1", endpoint_url=endpoint_url)
    calls: list[int] = []
    real = client.call

    def counting(operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        return real(operation, payload)

    client.call = counting  # type: ignore[method-assign]
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


CLIENT_CALLS = 300


def _client_row(endpoint_url: str) -> dict[str, Any]:
    """CPU µs per UpdateItem in this process: the lean client vs boto3, same server, same request."""
    import boto3
    from botocore.config import Config

    lean = table_client.__wrapped__(region_name="us-east-1", endpoint_url=endpoint_url)
    sdk = boto3.session.Session().client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 2}, parameter_validation=False),
    )
    counter = [0]

    def request() -> dict[str, Any]:
        counter[0] += 1
        return {
            "TableName": TABLE,
            "Key": {"pk": {"S": SUBJECTS[counter[0] % len(SUBJECTS)]}},
            "UpdateExpression": "SET #a = :v, #rid = :rid",
            "ConditionExpression": "attribute_not_exists(#rid) OR #rid <> :rid",
            "ExpressionAttributeNames": {"#a": "t:main", "#rid": "rid"},
            "ExpressionAttributeValues": {":v": {"N": str(counter[0])}, ":rid": {"S": os.urandom(8).hex()}},
            "ReturnValues": "UPDATED_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def ours() -> object:
        return lean.call("UpdateItem", request())

    def boto() -> object:
        return sdk.update_item(**request())  # type: ignore[arg-type]

    samples: dict[str, list[float]] = {"ours": [], "boto3": []}
    ours(), boto()  # warm both (connections, boto3's lazy loaders)
    for _ in range(5):
        for name, fn in (("ours", ours), ("boto3", boto)):
            start = time.process_time()
            for _ in range(CLIENT_CALLS):
                fn()
            samples[name].append((time.process_time() - start) / CLIENT_CALLS * 1e6)
    ours_us, boto_us = statistics.median(samples["ours"]), statistics.median(samples["boto3"])
    return {
        "name": "client: UpdateItem CPU per call, lean AwsJsonClient vs boto3 (local moto server)",
        "ours_us": round(ours_us, 1),
        "boto3_us": round(boto_us, 1),
        "ratio": round(ours_us / boto_us, 2),
    }


def _server_rows() -> list[dict[str, Any]]:
    from local.servers import MotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with MotoServer() as server:
        _table(server.endpoint_url)
        return [_client_row(server.endpoint_url), *_calls_rows(server.endpoint_url)]


def run() -> list[dict[str, Any]]:
    """Overhead rows (µs per request, ours vs a bare GCRA dict step, ratio), the client's CPU per
    call against boto3's, and call-count rows."""
    return _overhead_rows() + _server_rows()


def main() -> None:
    for row in run():
        details = ", ".join(f"{k}={v}" for k, v in row.items() if k != "name")
        print(f"  {row['name']}: {details}")


if __name__ == "__main__":
    main()
