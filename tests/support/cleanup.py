"""Cleanup test plumbing: the cleanup function over fresh tables and a fresh bucket, its clock
moved by the test, and a Lambda context whose remaining time the test decides."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3

from local.cfn import load_template
from local.gateway.template import TemplateResolver
from local.servers import MotoServer
from local.tables import create_tables
from presign.bootstrap.cleanup import build_cleanup
from presign.uploads.ids import new_upload_id

_buckets = itertools.count()


class Budget:
    """``get_remaining_time_in_millis`` that answers plenty ``checks`` times, then nothing left."""

    def __init__(self, checks: int | None = None) -> None:
        self.left = checks
        self.aws_request_id = "test-cleanup"
        self.function_name = "CleanupFunction"
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:CleanupFunction"

    def get_remaining_time_in_millis(self) -> int:
        if self.left is None:
            return 300_000
        self.left -= 1
        return 300_000 if self.left >= 0 else 0


def fresh_tables(moto: MotoServer) -> None:
    """Drop and create template.yaml's tables again: each test sees only its own items."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)
    doc = load_template()
    create_tables(doc, TemplateResolver(doc), moto.endpoint_url)


def fresh_bucket(admin: Any, prefix: str = "cleanup") -> str:
    name = f"{prefix}-{next(_buckets)}-{datetime.now(UTC):%H%M%S%f}"
    admin.create_bucket(Bucket=name)
    return name


def service_key(sub: str = "alice", *, at: datetime | None = None, name: str = "part.bin") -> str:
    """A key of the shape the service makes (``users/{sub}/yyyy/mm/dd/<upload id>/<name>``)."""
    import os

    now = at or datetime.now(UTC)
    return f"users/{sub}/{now:%Y/%m/%d}/{new_upload_id(now, os.urandom)}/{name}"


def start_uploads(admin: Any, bucket: str, keys: list[str], *, workers: int = 16) -> list[str]:
    """CreateMultipartUpload for every key, concurrently (1,000 one by one would take long)."""
    with ThreadPoolExecutor(workers) as pool:
        return list(
            pool.map(lambda key: admin.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"], keys)
        )


def in_progress(admin: Any, bucket: str) -> set[tuple[str, str]]:
    """Every multipart upload the bucket lists (all pages), as (key, upload id)."""
    found: set[tuple[str, str]] = set()
    paginator = admin.get_paginator("list_multipart_uploads")
    for page in paginator.paginate(Bucket=bucket):
        found.update((u["Key"], u["UploadId"]) for u in page.get("Uploads", []))
    return found


@dataclass
class Runner:
    """The cleanup function's handler, run at a moment the test picks."""

    module: ModuleType
    warnings: list[tuple[str, dict[str, Any]]]

    def at(self, moment: datetime) -> Runner:
        self.module.cleanup = build_cleanup(
            self.module.settings,
            self.module.environ,
            warn=lambda message, keys: self.warnings.append((message, dict(keys))),
            clock=lambda: moment,
        )
        return self

    def __call__(self, event: dict[str, Any] | None = None, *, checks: int | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = self.module.handler(event if event is not None else {}, Budget(checks))
        return answer


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
