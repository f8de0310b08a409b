"""Where each part saturates: the request rate at which the model's demand meets each limit.

Demand grows linearly with the request rate in the model (``model.at_load``), so each limit has
one threshold: ``limit / (demand at 1 rps)``. Sorted, they are the order in which a growing
deployment meets them. Item-level limits that do not depend on the total rate (one popular link,
one user) are listed apart, in ``HOT_ITEMS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.capacity.limits import value
from benchmarks.capacity.model import DEPLOY_SECONDS, at_load


@dataclass(frozen=True)
class Threshold:
    part: str
    rps: float
    limit: str
    action: str


def thresholds() -> list[Threshold]:
    one = at_load(1.0)
    api_concurrency = one["lambda_concurrency"]
    found = [
        Threshold("route throttle (template default)", value("route_rps") / one["busiest_route_rps"],
                  "50 rps per route", "setting: ApiThrottlingRateLimit"),
        Threshold("SSM config read at a deploy", value("ssm_standard_tps") * DEPLOY_SECONDS / api_concurrency,
                  "40 GetParameter/s", "setting: inline config, or SSM higher throughput"),
        Threshold("rate-limit table, new on-demand", value("ddb_new_table_wru") / one["limiter_wru"],
                  "4,000 WRU/s until warmed", "setting: warm throughput"),
        Threshold("S3 GET/HEAD, one unsplit prefix", value("s3_prefix_get") / one["s3_get_head"],
                  "5,500/s per prefix", "S3 splits by itself (503 SlowDown meanwhile)"),
        Threshold("webhook deliveries share the account's concurrency",
                  value("lambda_concurrency") / (api_concurrency + one["webhook_concurrency"]),
                  "1,000 concurrent", "issue 23: MaximumConcurrency + batches sent concurrently"),
        Threshold("S3 'Object Created' rule, most Regions", value("eb_invocations_other") / one["s3_object_created"],
                  "1,100 invocations/s", "quota increase (throttled = delayed)"),
        Threshold("S3 PUT, one unsplit prefix", value("s3_prefix_put") / one["s3_put"],
                  "3,500/s per prefix", "S3 splits by itself"),
        Threshold("API Gateway account throttle", value("apigw_rps"), "10,000 rps, burst 5,000", "quota increase"),
        Threshold("EventBridge PutEvents, us-east-1 (if entries count)", value("eb_putevents_big") / one["events"],
                  "10,000/s", "quota increase"),
        Threshold("pending index, one key (day+shard)", value("ddb_partition_wru") / one["pending_key_wru"],
                  "1,000 WRU/s per partition", "design: more shards (phase 2)"),
        Threshold("Lambda RPS rule, busiest function",
                  value("lambda_rps_per_env") * value("lambda_concurrency") / one["busiest_function_rps"],
                  "10 x concurrency quota", "quota increase"),
        Threshold("rate-limit table", value("ddb_table_wru") / one["limiter_wru"], "40,000 WRU/s per table",
                  "quota increase"),
        Threshold("Lambda concurrency, API functions", value("lambda_concurrency") / api_concurrency,
                  "1,000 concurrent", "quota increase"),
        Threshold("uploads table", value("ddb_table_wru") / one["uploads_wru"], "40,000 WRU/s per table",
                  "quota increase"),
    ]  # fmt: skip
    return sorted(found, key=lambda t: t.rps)


@dataclass(frozen=True)
class HotItem:
    item: str
    ceiling: str
    reached_by: str
    today: str


HOT_ITEMS: tuple[HotItem, ...] = (
    HotItem("a count-limited share's item (+ its owner's by_owner index key)", "~1,000 spends/s",
            "one popular link", "throttled -> 503 for its visitors; the owner's other writes back-pressured"),
    HotItem("any share's item, consistent reads", "3,000 visits/s", "one viral link", "throttled reads -> 503"),
    HotItem("the shared object in S3 (HEAD per visit + the visitor's GET)", "~2,750 visits/s (5,500 with a CDN)",
            "one viral link", "S3 503 SlowDown"),
    HotItem("one user's rate-limit item", "~1,000 requests/s from that user", "one script, many containers",
            "throttled -> 503 (closed) or admitted unchecked (open)"),
    HotItem("one Idempotency-Key's claim", "~1,000 replays/s", "one looping client", "throttled -> 503"),
)  # fmt: skip
