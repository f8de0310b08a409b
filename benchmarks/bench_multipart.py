"""Multipart: signing a 10,000-part plan against boto3, and creation and completion in process.

What is timed:

* ``plan + 10,000 part URLs``: ``plan_parts`` and ``sign_parts`` for every part of a 10,000-part
  plan (80,000 MiB in 8 MiB parts), as ``POST /uploads/{id}/parts`` signs them, against boto3's
  ``generate_presigned_url("upload_part", ...)`` for the same 10,000 URLs (checked identical
  first, with a frozen clock);
* ``create``: ``Uploads.begin`` of a multipart upload as the uploads function runs it:
  CreateMultipartUpload through the target's boto3 client to a local SeaweedFS, the plan, 100
  part URLs signed, the record written to a moto server over HTTP. Baseline: boto3's
  ``create_multipart_upload`` plus 100 ``generate_presigned_url("upload_part")``, client made once;
* ``complete``: ``Uploads.complete`` of an upload whose one part is stored: GetItem, ListParts,
  the check, CompleteMultipartUpload, HEAD, the conditional UpdateItem. A plan of more parts makes
  the same calls (ListParts pages by 1,000). Baseline: boto3's ``list_parts``,
  ``complete_multipart_upload`` and ``head_object``, client made once.

Samples alternate between the variants, so a noisy neighbour slows all sides alike.
Run as ``python benchmarks/bench_multipart.py``, or through ``make bench``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "layers" / "presign", _ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from presign.core.partplan import plan_parts  # noqa: E402
from presign.limits import MiB  # noqa: E402
from presign.signing.sigv4 import S3Presigner, SigningCredentials  # noqa: E402
from presign.uploads.multipart.urls import sign_parts  # noqa: E402

SIGN_REPEATS = 3
REPEATS = 5
PER_REPEAT = 8
REGION = "us-east-1"
ACCESS_KEY = "bench-multipart"
SECRET_KEY = "bench-multipart-secret-0123456789"
BUCKET = "bench-multipart"
KEY = "users/bench/2026/01/01/01jbench/video.mp4"
UPLOAD_ID = "2~AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdefghij"
EXPIRES = 900


def _boto3_client(endpoint: str | None = None, creds: tuple[str, str] = (ACCESS_KEY, SECRET_KEY)) -> Any:
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {
        "signature_version": "s3v4",
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
        "ignore_configured_endpoint_urls": True,
        "s3": {"addressing_style": "path", "us_east_1_regional_endpoint": "regional"},
    }
    return boto3.session.Session().client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=creds[0],
        aws_secret_access_key=creds[1],
        config=Config(**options),
    )


def _signing() -> dict[str, Any]:
    size = 10_000 * 8 * MiB
    ours = S3Presigner(
        credentials=SigningCredentials(ACCESS_KEY, SECRET_KEY),
        region=REGION,
        endpoint_url=None,
        addressing_style="path",
    )
    client = _boto3_client()

    def with_ours(now: datetime) -> list[str]:
        plan = plan_parts(size, preferred_part_size=8 * MiB)
        parts = sign_parts(
            ours,
            BUCKET,
            KEY,
            storage_upload_id=UPLOAD_ID,
            plan=plan,
            numbers=range(1, plan.part_count + 1),  # type: ignore[arg-type]
            checksums=None,
            now=now,
            expires_in=EXPIRES,
        )
        return [p.url for p in parts]

    def with_boto3() -> list[str]:
        plan = plan_parts(size, preferred_part_size=8 * MiB)
        return [
            client.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": BUCKET,
                    "Key": KEY,
                    "UploadId": UPLOAD_ID,
                    "PartNumber": n,
                    "ContentLength": plan.size_of(n),
                },
                ExpiresIn=EXPIRES,
            )
            for n in range(1, plan.part_count + 1)
        ]

    # A benchmark of signers producing different URLs would be meaningless: compare them first.
    frozen = datetime.now(UTC).replace(microsecond=0)
    naive = frozen.replace(tzinfo=None)
    with (
        mock.patch("botocore.auth.get_current_datetime", return_value=naive),
        mock.patch("botocore.signers.get_current_datetime", return_value=naive),
    ):
        if with_ours(frozen) != with_boto3():
            raise AssertionError("our part URLs differ from boto3's")
    timings: dict[str, list[float]] = {"ours": [], "boto3": []}
    for _ in range(SIGN_REPEATS):
        started = time.perf_counter()
        with_ours(datetime.now(UTC))
        timings["ours"].append(time.perf_counter() - started)
        started = time.perf_counter()
        with_boto3()
        timings["boto3"].append(time.perf_counter() - started)
    ours_ms = statistics.median(timings["ours"]) * 1000
    boto3_ms = statistics.median(timings["boto3"]) * 1000
    return {
        "name": "plan + 10,000 part URLs",
        "value_ms": round(ours_ms, 1),
        "baseline": "boto3 generate_presigned_url('upload_part') x 10,000",
        "baseline_ms": round(boto3_ms, 1),
        "ratio": round(ours_ms / boto3_ms, 3),
        "us_per_url": round(ours_ms * 1000 / 10_000, 2),
    }


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _in_process() -> list[dict[str, Any]]:
    import os

    from local.cfn import load_template
    from local.gateway.template import TemplateResolver
    from local.servers import MotoServer, SeaweedFS, aws_env
    from local.tables import STACK_NAME, create_tables
    from presign.adapters.dynamodb import table_client
    from presign.adapters.dynamodb_uploads import DynamoDbRecordStore
    from presign.adapters.s3_control import S3ObjectStore
    from presign.auth import Principal
    from presign.config.target import Target
    from presign.config.uploads import UploadRecordSettings
    from presign.signing.context import SigningContext
    from presign.uploads.schemas import CreateUploadRequest
    from presign.uploads.service import Uploads
    from tests.support.owners import owner_of
    from tests.support.spending import StaticTargets, free

    with (
        tempfile.TemporaryDirectory() as tmp,
        SeaweedFS(Path(tmp), access_key=ACCESS_KEY, secret_key=SECRET_KEY, buckets=[BUCKET]) as s3,
        MotoServer() as moto,
    ):
        saved = dict(os.environ)
        os.environ.update(aws_env(moto.endpoint_url))
        os.environ.update(BENCH_S3_KEY=ACCESS_KEY, BENCH_S3_SECRET=SECRET_KEY)
        try:
            doc = load_template()
            create_tables(doc, TemplateResolver(doc), moto.endpoint_url)
            table_client.cache_clear()
            target = Target.model_validate(
                {
                    "endpoint_url": s3.endpoint_url,
                    "bucket": BUCKET,
                    "addressing_style": "path",
                    "credentials": {
                        "source": "env",
                        "access_key_id_var": "BENCH_S3_KEY",
                        "secret_access_key_var": "BENCH_S3_SECRET",
                    },
                    "upload": {"content_types": ["video/*"], "max_size": 1024**4},
                }
            )
            storage = S3ObjectStore("main", target, dict(os.environ))
            admin = _boto3_client(s3.endpoint_url)
            clock = lambda: datetime.now(UTC)  # noqa: E731
            presigner = S3Presigner(
                credentials=SigningCredentials(ACCESS_KEY, SECRET_KEY),
                region=REGION,
                endpoint_url=s3.endpoint_url,
                addressing_style="path",
            )
            signing = SigningContext(presigner=presigner, credentials_expire_at=None, clock=clock)
            lifecycle = Uploads(
                DynamoDbRecordStore(table_client(), f"{STACK_NAME}-UploadsTable"),
                UploadRecordSettings(),
                clock=clock,
                targets=StaticTargets({"main": target}, signing),
            )
            principal = Principal(sub="bench")
            owner = owner_of(principal)
            big = CreateUploadRequest(
                filename="video.mp4", content_type="video/mp4", size=800 * MiB, multipart=True
            )
            small = CreateUploadRequest(
                filename="clip.mp4", content_type="video/mp4", size=4096, multipart=True
            )

            def begin(request: CreateUploadRequest) -> Any:
                return lifecycle.begin(
                    request,
                    principal=principal,
                    target_name="main",
                    target=target,
                    spending=free(),
                    objects=lambda _: storage,
                )

            def bare_create() -> object:
                upload = admin.create_multipart_upload(Bucket=BUCKET, Key=KEY, ContentType="video/mp4")
                return [
                    admin.generate_presigned_url(
                        "upload_part",
                        Params={
                            "Bucket": BUCKET,
                            "Key": KEY,
                            "UploadId": upload["UploadId"],
                            "PartNumber": n,
                            "ContentLength": 8 * MiB,
                        },
                        ExpiresIn=EXPIRES,
                    )
                    for n in range(1, 101)
                ]

            count = REPEATS * PER_REPEAT + 2
            ready: list[str] = []
            bare_ready: list[tuple[str, str, str]] = []
            for index in range(count):
                grant = begin(small)
                part = grant.multipart.parts[0]
                put = urllib.request.Request(part.url, data=b"p" * 4096, method="PUT", headers=part.headers)  # noqa: S310 - a local SeaweedFS
                urllib.request.urlopen(put, timeout=10).close()  # noqa: S310
                ready.append(grant.upload_id)
                key = f"users/bench/bare/{index}.mp4"
                upload_id = admin.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
                etag = admin.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b"p")[
                    "ETag"
                ]
                bare_ready.append((key, upload_id, etag))

            def complete() -> object:
                return lifecycle.complete(owner, ready.pop(), objects=lambda _: storage, spending=free())

            def bare_complete() -> object:
                key, upload_id, etag = bare_ready.pop()
                admin.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)
                admin.complete_multipart_upload(
                    Bucket=BUCKET,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
                )
                return admin.head_object(Bucket=BUCKET, Key=key)

            variants: dict[str, Callable[[], object]] = {
                "create": lambda: begin(big),
                "bare_create": bare_create,
                "complete": complete,
                "bare_complete": bare_complete,
            }
            for fn in variants.values():  # warm: connections, the first client, imports
                fn()
            samples: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(REPEATS):
                for name, fn in variants.items():
                    for _ in range(PER_REPEAT):
                        started = time.perf_counter()
                        fn()
                        samples[name].append(time.perf_counter() - started)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            table_client.cache_clear()

    rows = []
    for name, baseline, label, base_label in (
        (
            "create",
            "bare_create",
            "create multipart (CreateMultipartUpload, 100 part URLs, record in moto)",
            "boto3 create_multipart_upload + 100 generate_presigned_url",
        ),
        (
            "complete",
            "bare_complete",
            "complete multipart (ListParts, check, Complete, HEAD, record in moto)",
            "boto3 list_parts + complete_multipart_upload + head_object",
        ),
    ):
        value, base = _median_ms(samples[name]), _median_ms(samples[baseline])
        rows.append(
            {
                "name": label,
                "value_ms": round(value, 2),
                "baseline": base_label,
                "baseline_ms": round(base, 2),
                "ratio": round(value / base, 2),
                "samples": len(samples[name]),
            }
        )
    return rows


def run() -> list[dict[str, Any]]:
    return [_signing(), *_in_process()]


if __name__ == "__main__":
    for row in run():
        print(row)
