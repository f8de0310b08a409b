"""AWS's published limits the capacity model relies on, each with where it is published.

Every number here was read on the date below in AWS's own documentation (the pages named); the
model imports them from here, so a limit that changes is changed in one place. ``adjustable``
says whether a quota increase can raise it ("yes" through Service Quotas or Support, "no" for a
hard limit, "setting" for a knob of the deployment itself).

Two numbers are this project's own, not AWS's: the template's route throttle (``template.yaml``)
and the measured cold start (README, "Cold start on python3.13").
"""

from __future__ import annotations

from dataclasses import dataclass

READ_ON = "2026-12-07"


@dataclass(frozen=True, slots=True)
class Quota:
    what: str
    value: float
    unit: str
    adjustable: str
    source: str


LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
LAMBDA_SCALING = "https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html"
APIGW_QUOTAS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
DDB_QUOTAS = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html"
DDB_WARM = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html"
DDB_PREWARM = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/pre-warming-on-demand-capacity-mode.html"
DDB_GSI_BACKPRESSURE = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/gsi-throttling.html"
DDB_STREAM_READERS = (
    "https://docs.aws.amazon.com/botocore/latest/reference/services/dynamodb/client/exceptions/"
    "LimitExceededException.html"
)
LAMBDA_DDB_ESM = "https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html"
S3_PERFORMANCE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html"
S3_SLOWDOWN = "https://repost.aws/knowledge-center/http-5xx-errors-s3"
EB_QUOTAS = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html"
EB_PUTEVENTS = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html"
SQS_ESM = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html"
SSM_THROUGHPUT = "https://docs.aws.amazon.com/general/latest/gr/ssm.html"
SECRETS_QUOTAS = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html"
KMS_QUOTAS = "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"
TEMPLATE = "template.yaml (ApiThrottlingRateLimit / ApiThrottlingBurstLimit)"
README_COLD = "README.md, Performance, 'Cold start on python3.13' (quiet run, default deployment)"

Q = {
    "lambda_concurrency": Quota(
        "Lambda concurrent executions per account and Region", 1_000, "concurrent", "yes", LAMBDA_QUOTAS
    ),
    "lambda_scaling": Quota(
        "Lambda scaling rate, per function", 1_000, "new environments / 10 s", "no", LAMBDA_SCALING
    ),
    "lambda_rps_per_env": Quota(
        "synchronous invocations per execution environment (function RPS <= 10 x concurrency quota)",
        10,
        "requests/s",
        "follows concurrency",
        LAMBDA_QUOTAS,
    ),
    "apigw_rps": Quota(
        "API Gateway throttle, per account and Region", 10_000, "requests/s", "yes", APIGW_QUOTAS
    ),
    "apigw_burst": Quota("API Gateway burst (token bucket)", 5_000, "requests", "set by AWS", APIGW_QUOTAS),
    "apigw_small_region_rps": Quota(
        "API Gateway throttle in the newer Regions (Milan, Zurich, ...)",
        2_500,
        "requests/s",
        "yes",
        APIGW_QUOTAS,
    ),
    "route_rps": Quota("this template's route throttle, each route", 50, "requests/s", "setting", TEMPLATE),
    "route_burst": Quota("this template's route burst, each route", 100, "requests", "setting", TEMPLATE),
    "ddb_partition_wru": Quota(
        "DynamoDB writes per partition (table or GSI)", 1_000, "WRU/s", "no", DDB_WARM
    ),
    "ddb_partition_rru": Quota("DynamoDB reads per partition (table or GSI)", 3_000, "RRU/s", "no", DDB_WARM),
    "ddb_table_wru": Quota("DynamoDB on-demand throughput per table", 40_000, "WRU/s", "yes", DDB_QUOTAS),
    "ddb_table_rru": Quota("DynamoDB on-demand reads per table", 40_000, "RRU/s", "yes", DDB_QUOTAS),
    "ddb_new_table_wru": Quota(
        "a new on-demand table serves at once (then 2x its previous peak per 30 min)",
        4_000,
        "WRU/s",
        "pre-warm (warm throughput)",
        DDB_PREWARM,
    ),
    "ddb_new_table_rru": Quota("... and reads", 12_000, "RRU/s", "pre-warm", DDB_PREWARM),
    "ddb_stream_readers": Quota(
        "readers of one DynamoDB Streams shard at a time", 2, "processes", "no", DDB_STREAM_READERS
    ),
    "esm_parallelization": Quota(
        "Lambda ESM ParallelizationFactor, batches per shard at once",
        10,
        "batches",
        "setting",
        LAMBDA_DDB_ESM,
    ),
    "s3_prefix_put": Quota(
        "S3 PUT/COPY/POST/DELETE per partitioned prefix",
        3_500,
        "requests/s",
        "scales by splitting",
        S3_PERFORMANCE,
    ),
    "s3_prefix_get": Quota(
        "S3 GET/HEAD per partitioned prefix", 5_500, "requests/s", "scales by splitting", S3_PERFORMANCE
    ),
    "eb_putevents_big": Quota(
        "EventBridge PutEvents, us-east-1 / us-west-2 / eu-west-1", 10_000, "per second", "yes", EB_QUOTAS
    ),
    "eb_putevents_us_east_2": Quota(
        "EventBridge PutEvents, us-east-2", 2_400, "per second", "yes", EB_QUOTAS
    ),
    "eb_entries_per_call": Quota("entries in one PutEvents call", 10, "entries", "no", EB_PUTEVENTS),
    "eb_invocations_big": Quota(
        "EventBridge target invocations, us-east-1 / us-west-2 / eu-west-1",
        18_750,
        "per second",
        "yes",
        EB_QUOTAS,
    ),
    "eb_invocations_other": Quota(
        "EventBridge target invocations, most other Regions", 1_100, "per second", "yes", EB_QUOTAS
    ),
    "sqs_esm_scaling": Quota(
        "Lambda's SQS pollers, added per minute", 300, "concurrent / min", "no", SQS_ESM
    ),
    "sqs_esm_max": Quota(
        "batches one SQS event source mapping runs at once", 1_000, "batches", "no", SQS_ESM
    ),
    "ssm_standard_tps": Quota(
        "SSM GetParameter(s), standard throughput (shared)",
        40,
        "TPS",
        "setting: higher throughput",
        SSM_THROUGHPUT,
    ),
    "ssm_high_tps": Quota("SSM GetParameter(s), higher throughput", 3_000, "TPS", "yes", SSM_THROUGHPUT),
    "secrets_get": Quota("Secrets Manager GetSecretValue", 10_000, "TPS", "no", SECRETS_QUOTAS),
    "cold_start_s": Quota(
        "this repo's measured cold start, uploads / downloads", 0.45, "s", "n/a", README_COLD
    ),
}


def value(key: str) -> float:
    return Q[key].value
