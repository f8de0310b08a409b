"""The cleanup job against a local SeaweedFS and DynamoDB on a moto server, next to a plain boto3 loop.

What is timed, per item cleaned:

* ``sweep``: ``Cleanup.run`` over orphaned multipart uploads (more than one listing page): the
  listing, one ``GetItem`` (does a record name it?), one conditional claim and one
  AbortMultipartUpload per orphan, ``cleanup.concurrency`` at a time;
* ``stale uploads``: ``Cleanup.run`` over stale pending single uploads, half with an object: per
  upload the fence, a HEAD; with an object the completion (a HEAD, the ranged GET of its first
  bytes, the conditional ``pending -> complete``), without one the conditional
  ``pending -> expired``; and the two apart (``all completed`` against ``all expired``: the
  cleanup's completion throughput against its expiry throughput, ``vs_expiry``);
* baseline: the plain boto3 loop a script would be: ListMultipartUploads (every page), then
  ``abort_multipart_upload`` one by one. It knows no records, claims nothing and cannot tell an
  orphan from a live upload, so it is the floor of what any sweep costs.

Reported: items per second, the ratio to the baseline's (above 1: faster), and the storage and
DynamoDB calls per item (the baseline's: one abort and 1/1000 of a listing, no table). Runs
alternate between the variants; medians of ``REPEATS``. ``python benchmarks/bench_cleanup.py`` or
``make bench``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "layers" / "presign", _ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

ACCESS_KEY = "bench-cleanup"
SECRET_KEY = "bench-cleanup-secret-0123456789ab"
ORPHANS = 1_200  # two listing pages
STALE = 200
REPEATS = 3
MAX_AGE = 3600


@contextmanager
def _counting_dynamodb(counts: Counter[str]) -> Iterator[None]:
    from presign.adapters.aws_json import AwsJsonClient

    real = AwsJsonClient.call

    def call(self: AwsJsonClient, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        counts["dynamodb"] += 1
        return real(self, operation, payload)

    AwsJsonClient.call = call  # type: ignore[method-assign]
    try:
        yield
    finally:
        AwsJsonClient.call = real  # type: ignore[method-assign]


def _count_s3(client: Any, counts: Counter[str]) -> None:
    client.meta.events.register("before-call.s3", lambda **_: counts.update(["storage"]))


def run() -> list[dict[str, Any]]:
    from local.cfn import load_template
    from local.gateway.template import TemplateResolver
    from local.servers import MotoServer, SeaweedFS, aws_env
    from local.tables import STACK_NAME, create_tables
    from presign.adapters.dynamodb import table_client
    from presign.adapters.dynamodb_uploads import DynamoDbRecordStore
    from presign.bootstrap.cleanup import build_cleanup
    from presign.config.cleanup import CleanupSettings
    from presign.config.settings import Settings
    from presign.uploads.ids import new_upload_id
    from presign.uploads.records import UploadRecord
    from tests.support.cleanup import Budget, fresh_tables, in_progress, service_key, start_uploads

    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        SeaweedFS(Path(tmp), access_key=ACCESS_KEY, secret_key=SECRET_KEY, buckets=["bench-cleanup"]) as s3,
        MotoServer() as moto,
    ):
        saved = dict(os.environ)
        os.environ.update(aws_env(moto.endpoint_url))
        os.environ.update(PRESIGN_S3_ACCESS_KEY_ID=ACCESS_KEY, PRESIGN_S3_SECRET_ACCESS_KEY=SECRET_KEY)
        try:
            doc = load_template()
            create_tables(doc, TemplateResolver(doc), moto.endpoint_url)
            table_client.cache_clear()
            admin = s3.client(
                request_checksum_calculation="when_required", response_checksum_validation="when_required"
            )
            bucket_of = iter(f"bench-cleanup-{i}" for i in range(100))

            def settings(bucket: str) -> Settings:
                return Settings.model_validate(
                    {
                        "default_target": "main",
                        "targets": {
                            "main": {
                                "endpoint_url": s3.endpoint_url,
                                "region": "us-east-1",
                                "bucket": bucket,
                                "addressing_style": "path",
                                "credentials": {"source": "env"},
                            }
                        },
                        "auth": {
                            "issuer": "https://bench/",
                            "audience": "bench",
                            "secrets": [{"source": "env", "name": "X"}],
                        },
                        "rate_limits": {"enabled": False},
                        "cleanup": CleanupSettings(max_age=MAX_AGE, lookback_days=1).model_dump(),
                    }
                )

            env = {**os.environ, "PRESIGN_UPLOADS_TABLE": f"{STACK_NAME}-UploadsTable",
                   "PRESIGN_SHARES_TABLE": f"{STACK_NAME}-SharesTable"}  # fmt: skip

            def ours(prepare: Callable[[str], int], at: datetime) -> tuple[float, Counter[str], int]:
                fresh_tables(moto)
                bucket = next(bucket_of)
                admin.create_bucket(Bucket=bucket)
                items = prepare(bucket)
                counts: Counter[str] = Counter()
                cleanup = build_cleanup(settings(bucket), env, warn=lambda m, k: None, clock=lambda: at)
                storage: Any = cleanup._storage("main")
                _count_s3(storage._client(), counts)
                with _counting_dynamodb(counts):
                    started = time.perf_counter()
                    report = cleanup.run(dry_run=False, remaining_ms=Budget().get_remaining_time_in_millis)
                    elapsed = time.perf_counter() - started
                kinds = ("orphans_aborted", "single_expired", "completed_by_cleanup")
                done = sum(report.totals()[k] for k in kinds)
                assert done == items and not report.totals()["errors"], report.as_dict()
                return items / elapsed, counts, items

            def orphans(bucket: str) -> int:
                start_uploads(admin, bucket, [service_key(f"u{i % 13}") for i in range(ORPHANS)])
                return ORPHANS

            def stale(bucket: str, stored: Callable[[int], bool] = lambda i: i % 2 == 0) -> int:
                store = DynamoDbRecordStore(table_client(), f"{STACK_NAME}-UploadsTable")
                now = int(time.time())
                for i in range(STALE):
                    upload_id = new_upload_id(datetime.now(UTC), os.urandom)
                    key = f"users/bench/2026/01/01/{upload_id}/f.txt"
                    record = UploadRecord(
                        owner="b" * 32, upload_id=upload_id, target="main", key=key, method="PUT", size=4,
                        content_type="text/plain", status="pending", created_at=now - 900, expires_at=now - 10,
                        updated_at=now - 900,
                    )  # fmt: skip
                    assert store.create(record, ttl=now + 86_400)
                    if stored(i):
                        admin.put_object(Bucket=bucket, Key=key, Body=b"data", ContentType="text/plain")
                return STALE

            def baseline() -> tuple[float, Counter[str], int]:
                bucket = next(bucket_of)
                admin.create_bucket(Bucket=bucket)
                start_uploads(admin, bucket, [service_key(f"u{i % 13}") for i in range(ORPHANS)])
                client = s3.client()
                counts: Counter[str] = Counter()
                _count_s3(client, counts)
                started = time.perf_counter()
                listed = []
                for page in client.get_paginator("list_multipart_uploads").paginate(
                    Bucket=bucket, Prefix="users/"
                ):
                    listed.extend((u["Key"], u["UploadId"]) for u in page.get("Uploads", []))
                for key, upload_id in listed:
                    client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
                elapsed = time.perf_counter() - started
                assert len(listed) == ORPHANS and not in_progress(admin, bucket)
                return ORPHANS / elapsed, counts, ORPHANS

            later = datetime.now(UTC) + timedelta(seconds=MAX_AGE + 600)
            samples: dict[str, list[tuple[float, Counter[str], int]]] = {
                "sweep": [],
                "stale uploads": [],
                "stale uploads, all completed": [],
                "stale uploads, all expired": [],
                "baseline": [],
            }
            stale_at = datetime.now(UTC) + timedelta(hours=2)
            for _ in range(REPEATS):
                samples["baseline"].append(baseline())
                samples["sweep"].append(ours(orphans, later))
                samples["stale uploads"].append(ours(stale, stale_at))
                # Issue 20: completion (GetItem, fence, HEAD, ranged GET, write) against expiry
                samples["stale uploads, all completed"].append(
                    ours(lambda b: stale(b, lambda i: True), stale_at)
                )
                samples["stale uploads, all expired"].append(
                    ours(lambda b: stale(b, lambda i: False), stale_at)
                )
            base_rate = statistics.median(rate for rate, _, _ in samples["baseline"])
            expiry_rate = statistics.median(r for r, _, _ in samples["stale uploads, all expired"])
            names = (
                "sweep",
                "stale uploads",
                "stale uploads, all completed",
                "stale uploads, all expired",
                "baseline",
            )
            for name in names:
                rate = statistics.median(r for r, _, _ in samples[name])
                _, counts, items = samples[name][-1]
                rows.append(
                    {
                        "name": f"cleanup {name}"
                        if name != "baseline"
                        else "boto3 list + abort loop (baseline)",
                        "items_per_s": rate,
                        "ratio": rate / base_rate,
                        "storage_calls_per_item": counts["storage"] / items,
                        "dynamodb_calls_per_item": counts["dynamodb"] / items,
                        "items": items,
                        **(
                            {"vs_expiry": rate / expiry_rate}
                            if name == "stale uploads, all completed"
                            else {}
                        ),
                    }
                )
        finally:
            os.environ.clear()
            os.environ.update(saved)
            table_client.cache_clear()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
