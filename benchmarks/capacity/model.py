"""(c) The load model: what 1k, 10k and 100k requests a second ask of each part, and 1M / 100M users.

Arithmetic, not a measurement: a traffic mix (below, an assumption stated as one) times what each
route does on its request path (read from the code: DynamoDB calls, storage calls, events), with
durations built from this repo's measured figures (README, Performance) and two network times that
AWS does not publish (marked ``ASSUMED``). Item sizes come from the real adapters
(``record_item``, ``share_item``), sized by DynamoDB's rules. Limits come from ``limits.py``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from benchmarks.capacity.limits import value
from presign.adapters.dynamodb_shares import share_item
from presign.adapters.dynamodb_upload_items import PENDING_SHARDS, record_item
from presign.shares.records import Share
from presign.uploads.records import UploadRecord

# Measured here (README, Performance): client CPU of one DynamoDB call through AwsJsonClient;
# boto3's HEAD against local SeaweedFS (`complete` in process: 2.0 ms, nearly all of it the HEAD).
DDB_CALL_CPU_MS = 0.478
S3_CALL_CPU_MS = 1.5
HANDLER_MS = 1.0  # ASSUMED: routing, pydantic, logging, token check (HS256 verify measured at 0.057 ms)
DDB_RTT_MS = 5.0  # ASSUMED: in-Region round trip ("single-digit milliseconds"; no p50 is published)
S3_RTT_MS = 15.0  # ASSUMED: a HEAD/DELETE round trip to S3 in-Region
WEBHOOK_MS = 250.0  # ASSUMED: an owner's endpoint, TLS included
WEBHOOK_ENDPOINTS = 2  # ASSUMED: endpoints, each subscribed to every event
LIMITER_WRITES = 1.1  # simulated (limiter_item.py): 1 for occasional users, 1.6-1.9 for busy ones
IDEMPOTENT = 0.3  # ASSUMED: share of uploads and completions sent with an Idempotency-Key
DEPLOY_SECONDS = 1.0  # a deploy replaces every warm container within about one request's time


def _size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (names are counted by the caller)."""
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = v.lstrip("-").replace(".", "").strip("0") or "0"
        return 1 + math.ceil(len(digits) / 2)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _size(x) + 1 for k, x in v.items())
    if kind == "L":
        return 3 + sum(_size(x) + 1 for x in v)
    raise ValueError(kind)


def item_bytes(item: dict[str, dict[str, Any]]) -> int:
    return sum(len(name.encode()) + _size(v) for name, v in item.items())


def units(nbytes: int, per: int) -> int:
    return max(1, math.ceil(nbytes / per))


def typical_items() -> dict[str, int]:
    """Bytes of the items the hot paths write, built by the adapters themselves."""
    record = UploadRecord(
        owner="9f" * 16, upload_id="01m96wsp004a8xhke3210hwzp2", target="main",
        key="users/0f8e2c1a-4b5d-4e6f-8a9b-0c1d2e3f4a5b/2026/12/07/01m96wsp004a8xhke3210hwzp2/IMG_2041.jpeg",
        method="PUT", size=3_481_112, content_type="image/jpeg", status="pending",
        created_at=1_796_000_000, expires_at=1_796_000_900, updated_at=1_796_000_000,
        filename="IMG_2041.jpeg", checksum_sha256="n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
        metadata={"album": "holidays"}, idempotency_key="ab" * 32,
    )  # fmt: skip
    share = Share(
        handle="3a604cfc826deda67c39484f47931cd44736bbed", owner="9f" * 16, target="main",
        key=record.key, size=3_481_112, content_type="image/jpeg", created_ms=1_796_000_000_000,
        expires_at=1_796_604_800, filename="IMG_2041.jpeg", max_downloads=100_000,
    )  # fmt: skip
    limiter = {"pk": {"S": "rl#download#" + "ab" * 16}, "t:main": {"N": str(1_796_000_000 * 10**12)},
               "rid": {"S": "0123456789abcdef"}, "ttl": {"N": "1796000060"}}  # fmt: skip
    return {
        "upload record": item_bytes(record_item(record, ttl=1_796_604_800)),
        "share": item_bytes(share_item(share, ttl=1_799_196_800)),
        "limiter item": item_bytes(limiter),
    }


@dataclass(frozen=True)
class Route:
    """One route's request path. ``share`` is its part of all requests (ASSUMED mix)."""

    name: str
    function: str
    share: float
    ddb: float  # DynamoDB calls on the request path (the limiter's included)
    s3: float = 0.0  # storage control calls (HEAD, DELETE, multipart)
    cpu_ms: float = 0.0  # extra CPU (signing many URLs)
    uploads_w: float = 0.0  # writes to the uploads table (records, claims), in items
    pending_w: float = 0.0  # writes to the `pending` index (a record filed or unfiled)
    uploads_r: float = 0.0  # RRU on the uploads table
    shares_w: float = 0.0
    owner_index_w: float = 0.0  # writes to the shares table's by_owner index
    shares_r: float = 0.0
    events: float = 0.0  # state changes: outgoing events (issue 22)
    puts: float = 0.0  # storage PUTs clients then make with the URLs
    gets: float = 0.0  # storage GET/HEAD: the HEADs here plus the URLs' GETs

    def duration_ms(self) -> float:
        return (
            HANDLER_MS
            + self.cpu_ms
            + self.ddb * (DDB_CALL_CPU_MS + DDB_RTT_MS)
            + self.s3 * (S3_CALL_CPU_MS + S3_RTT_MS)
        )


K = IDEMPOTENT  # short, for the table below
ROUTES: tuple[Route, ...] = (
    Route("POST /downloads (3 keys)", "downloads", 0.32, ddb=1, cpu_ms=0.06, gets=3),
    Route("GET /s/{id}, unlimited", "links", 0.15, ddb=2, s3=1, shares_r=1, gets=2),
    Route("GET /s/{id}, count-limited", "links", 0.05, ddb=3, s3=1, shares_r=1, shares_w=1,
          owner_index_w=1, events=1, gets=2),
    Route("POST /uploads", "uploads", 0.12, ddb=2 + K, s3=0.02, uploads_w=1 + K, pending_w=1, events=1,
          puts=0.98 + 0.02 * 20),
    Route("POST /uploads/{id}/parts", "uploads", 0.01, ddb=2, cpu_ms=0.52, uploads_r=1, puts=20),
    Route("POST /uploads/{id}/complete", "lifecycle", 0.12, ddb=3 + K, s3=1.04, uploads_w=1 + K,
          pending_w=1, uploads_r=1, events=1, gets=1),
    Route("GET /uploads/{id}", "lifecycle", 0.08, ddb=2, uploads_r=1),
    Route("GET /uploads", "lifecycle", 0.06, ddb=2, uploads_r=3),
    Route("DELETE /uploads/{id}", "lifecycle", 0.02, ddb=3, s3=1, uploads_w=1, pending_w=1, uploads_r=1,
          events=1),
    Route("POST /shares", "shares", 0.03, ddb=3, s3=1, uploads_r=1, shares_w=1, owner_index_w=1,
          events=1, gets=1),
    Route("GET /shares", "shares", 0.03, ddb=2, shares_r=3),
    Route("DELETE /shares/{id}", "shares", 0.01, ddb=4, shares_r=1, shares_w=2, owner_index_w=1, events=1),
)  # fmt: skip
assert abs(sum(r.share for r in ROUTES) - 1) < 1e-9


def at_load(rps: float) -> dict[str, Any]:
    """Everything one load level asks of each part, with the limit it meets."""
    sizes = typical_items()
    record_wcu, share_wcu = units(sizes["upload record"], 1024), units(sizes["share"], 1024)
    per_fn: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    tot: dict[str, float] = defaultdict(float)
    for r in ROUTES:
        n = rps * r.share
        per_fn[r.function][0] += n
        per_fn[r.function][1] += n * r.duration_ms() / 1000
        tot["limiter_wru"] += n * LIMITER_WRITES
        tot["uploads_wru"] += n * r.uploads_w * record_wcu + n * r.pending_w
        tot["uploads_rru"] += n * r.uploads_r
        tot["shares_wru"] += n * (r.shares_w * share_wcu + r.owner_index_w)
        tot["shares_rru"] += n * r.shares_r
        tot["pending_w"] += n * r.pending_w
        tot["events"] += n * r.events
        tot["puts"] += n * r.puts
        tot["gets"] += n * r.gets
        tot["s3_control"] += n * r.s3
    concurrency = sum(c for _, c in per_fn.values())
    busiest_fn_rps = max(n for n, _ in per_fn.values())
    busiest_route = max(rps * r.share for r in ROUTES)
    uploads_created = rps * next(r.share for r in ROUTES if r.name == "POST /uploads")
    return {
        "rps": rps,
        "busiest_route_rps": busiest_route,
        "functions": {f: (n, c) for f, (n, c) in sorted(per_fn.items())},
        "lambda_concurrency": concurrency,
        "busiest_function_rps": busiest_fn_rps,
        "quota_for_rps_rule": busiest_fn_rps / value("lambda_rps_per_env"),
        "cold_starts_on_deploy_s": concurrency / DEPLOY_SECONDS,
        "limiter_wru": tot["limiter_wru"],
        "uploads_wru": tot["uploads_wru"],
        "uploads_rru": tot["uploads_rru"],
        "shares_wru": tot["shares_wru"],
        "shares_rru": tot["shares_rru"],
        "pending_key_wru": tot["pending_w"] / PENDING_SHARDS,
        "pending_shards_needed": math.ceil(tot["pending_w"] / (0.5 * value("ddb_partition_wru"))),
        "events": tot["events"],
        "putevents_calls": tot["events"] / value("eb_entries_per_call"),
        "s3_object_created": uploads_created,
        "webhook_deliveries": tot["events"] * WEBHOOK_ENDPOINTS,
        "webhook_concurrency": tot["events"] * WEBHOOK_ENDPOINTS * WEBHOOK_MS / 1000,
        "s3_put": tot["puts"],
        "s3_get_head": tot["gets"],
        "s3_put_partitions": math.ceil(tot["puts"] / value("s3_prefix_put")),
        "s3_get_partitions": math.ceil(tot["gets"] / value("s3_prefix_get")),
        "record_wcu": record_wcu,
        "share_wcu": share_wcu,
    }


# -- users --------------------------------------------------------------------------------------

REQUESTS_PER_USER_DAY = 30  # ASSUMED: so 1 M users peak near 1 k rps and 100 M near 100 k
PEAK_TO_MEAN = 3.0  # ASSUMED
CLEANUP_SHARE = 0.12  # ASSUMED: uploads the cleanup touches (5 % abandoned, 7 % removed records)
COMPLETED_RECORD_KEPT = 0.85  # completed records have no retention by default (lifecycle.md)
# Measured per stale upload (README, cleanup row): 2.24 DynamoDB calls, 1.5 storage calls.
CLEANUP_DDB, CLEANUP_S3 = 2.24, 1.5
CLEANUP_CONCURRENCY, CLEANUP_SECONDS, RUNS_PER_DAY = 8, 300 - 10, 24  # template + cleanup defaults
VCPU_AT_1024_MB = 1024 / 1769  # one full vCPU at 1,769 MB (template.yaml's comment)


def cleanup_capacity_per_day(
    concurrency: int = CLEANUP_CONCURRENCY, runs: int = RUNS_PER_DAY, vcpu: float = VCPU_AT_1024_MB
) -> float:
    wait_ms = CLEANUP_DDB * (DDB_CALL_CPU_MS + DDB_RTT_MS) + CLEANUP_S3 * (S3_CALL_CPU_MS + S3_RTT_MS)
    cpu_ms = CLEANUP_DDB * DDB_CALL_CPU_MS + CLEANUP_S3 * S3_CALL_CPU_MS
    per_second = min(concurrency * 1000 / wait_ms, vcpu * 1000 / cpu_ms)
    return per_second * CLEANUP_SECONDS * runs


def for_users(users: int) -> dict[str, Any]:
    per_day = users * REQUESTS_PER_USER_DAY
    uploads = per_day * next(r.share for r in ROUTES if r.name == "POST /uploads")
    record_bytes = typical_items()["upload record"]
    cleanup = uploads * CLEANUP_SHARE
    return {
        "users": users,
        "mean_rps": per_day / 86_400,
        "peak_rps": per_day / 86_400 * PEAK_TO_MEAN,
        "uploads_day": uploads,
        "records_gb_year": uploads * 365 * COMPLETED_RECORD_KEPT * record_bytes / 1e9,
        "cleanup_items_day": cleanup,
        "cleanup_capacity_day": cleanup_capacity_per_day(),
        "cleanup_capacity_tuned": cleanup_capacity_per_day(concurrency=32, runs=288, vcpu=1.0),
        "limiter_items": users * 3,  # at most one per action a user touched within its TTL
    }
