"""``POST /uploads/{id}/complete`` in process, against a local SeaweedFS, next to boto3's bare HEAD.

What is timed, per completion of one pending upload whose object is stored:

* ``complete``: ``Uploads.complete`` as the lifecycle function runs it: GetItem of the record,
  HEAD through the target's boto3 client (``presign.adapters.s3_control``), the comparison, the
  conditional UpdateItem to ``complete``. DynamoDB is a moto server on 127.0.0.1, SeaweedFS the
  storage, both local, so the figure is ours plus two local round trips each way;
* ``complete, records in memory``: the same with the records store in memory, so what is left over
  the baseline is our HEAD path (client lookup, credentials, the comparison, the first-bytes GET,
  the state write);
* ``complete with the first-bytes GET``: that completion against the same one without the
  ranged GET of 4 KiB (a kind with ``content_check: false``): the check's added cost;
* baseline: ``head_object`` with a boto3 client made once, the least a completion has to do.

And what the first completion of a container pays for boto3, which no cold start pays: in a fresh
interpreter, the first HEAD through ``S3ObjectStore`` (importing boto3, building the target's
client, the request) against the second one.

Samples alternate between the variants, so a noisy neighbour slows all sides alike.
Run as ``python benchmarks/bench_lifecycle.py``, or through ``make bench``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "layers" / "presign", _ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from presign.config.target import Target  # noqa: E402
from presign.config.uploads import UploadKind, UploadRecordSettings  # noqa: E402
from presign.uploads.records import UploadRecord  # noqa: E402
from presign.uploads.service import Uploads  # noqa: E402

REPEATS = 7
PER_REPEAT = 40
ACCESS_KEY = "bench-lifecycle"
SECRET_KEY = "bench-lifecycle-secret-0123456789"
BUCKET = "bench-lifecycle"
OWNER = "b" * 32
CONTENT = b"x" * 4096


def _records(count: int, key: str, now: int, start: int, kind: str | None = None) -> list[UploadRecord]:
    from presign.uploads.ids import MonotonicIds

    ids = MonotonicIds(lambda n: (start).to_bytes(n, "big"))
    made = []
    for _ in range(count):
        upload_id = ids(datetime.now(UTC))
        made.append(
            UploadRecord(
                owner=OWNER,
                upload_id=upload_id,
                target="main",
                key=key,
                method="PUT",
                size=len(CONTENT),
                content_type="application/octet-stream",
                status="pending",
                created_at=now,
                expires_at=now + 3600,
                updated_at=now,
                kind=kind,
            )
        )
    return made


FIRST_HEAD = r"""
import json, os, sys, time
sys.path[:0] = json.loads(sys.argv[1])
from presign.adapters.s3_control import S3ObjectStore
from presign.config.target import Target
target = Target.model_validate(json.loads(sys.argv[2]))
store = S3ObjectStore("main", target, dict(os.environ))
assert "boto3" not in sys.modules
start = time.perf_counter()
store.head(sys.argv[3], checksum=False)
first = time.perf_counter()
store.head(sys.argv[3], checksum=False)
second = time.perf_counter()
print(json.dumps({"first_ms": (first - start) * 1000, "second_ms": (second - first) * 1000}))
"""


def _first_head(target: Target, key: str, env: dict[str, str], runs: int = 7) -> tuple[float, float]:
    import json
    import subprocess

    paths = [str(_ROOT / "layers" / "presign"), str(_ROOT)]
    firsts, seconds = [], []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", FIRST_HEAD, json.dumps(paths), target.model_dump_json(), key],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        firsts.append(result["first_ms"])
        seconds.append(result["second_ms"])
    return statistics.median(firsts), statistics.median(seconds)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run() -> list[dict[str, Any]]:
    import os

    from local.cfn import load_template
    from local.gateway.template import TemplateResolver
    from local.servers import MotoServer, SeaweedFS, aws_env
    from local.tables import STACK_NAME, create_tables
    from presign.adapters.dynamodb import table_client
    from presign.adapters.dynamodb_uploads import DynamoDbRecordStore
    from presign.adapters.s3_control import S3ObjectStore
    from tests.support.memory import MemoryRecords
    from tests.support.spending import free

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
                }
            )
            admin = s3.client()
            key = "users/bench/object.bin"
            admin.put_object(Bucket=BUCKET, Key=key, Body=CONTENT, ContentType="application/octet-stream")
            storage = S3ObjectStore("main", target, dict(os.environ))
            settings = UploadRecordSettings()
            dynamo = DynamoDbRecordStore(table_client(), f"{STACK_NAME}-UploadsTable")
            memory, unchecked = MemoryRecords(), MemoryRecords()
            # The same completion without the first-bytes check: a kind that turns it off.
            raw = target.model_copy(
                update={
                    "upload": target.upload.model_copy(
                        update={"kinds": {"raw": UploadKind(content_check=False)}}
                    )
                }
            )
            lifecycles = {
                "dynamodb": Uploads(dynamo, settings, clock=lambda: datetime.now(UTC)),
                "memory": Uploads(memory, settings, clock=lambda: datetime.now(UTC)),
                "memory, no first bytes": Uploads(
                    unchecked, settings, clock=lambda: datetime.now(UTC), target_settings={"main": raw}
                ),
            }
            stores: dict[str, Any] = {
                "dynamodb": dynamo,
                "memory": memory,
                "memory, no first bytes": unchecked,
            }
            now = int(time.time())
            pending = {
                name: _records(
                    REPEATS * PER_REPEAT + 5,
                    key,
                    now,
                    start=i + 1,
                    kind="raw" if "no first" in name else None,
                )
                for i, name in enumerate(lifecycles)
            }
            for name, records in pending.items():
                for record in records:
                    stores[name].create(record, ttl=None)

            def complete(name: str) -> Callable[[], object]:
                queue = pending[name]
                lifecycle = lifecycles[name]

                def once() -> object:
                    record = queue.pop()
                    return lifecycle.complete(
                        OWNER, record.upload_id, objects=lambda _: storage, spending=free()
                    )

                return once

            def bare_head() -> object:
                return admin.head_object(Bucket=BUCKET, Key=key)

            variants = {
                "dynamodb": complete("dynamodb"),
                "memory": complete("memory"),
                "memory, no first bytes": complete("memory, no first bytes"),
                "head": bare_head,
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
            first_ms, second_ms = _first_head(target, key, dict(os.environ))
        finally:
            os.environ.clear()
            os.environ.update(saved)
            table_client.cache_clear()

    head_ms = _median_ms(samples["head"])
    rows = []
    for name, label in (
        ("dynamodb", "complete (records in moto over HTTP)"),
        ("memory", "complete, records in memory"),
    ):
        value = _median_ms(samples[name])
        rows.append(
            {
                "name": label,
                "value_ms": round(value, 2),
                "baseline": "boto3 head_object, client made once",
                "baseline_ms": round(head_ms, 2),
                "ratio": round(value / head_ms, 2),
                "samples": len(samples[name]),
            }
        )
    # Issue 20: what the first-bytes check (one ranged GET of 4 KiB) adds to a completion.
    checked, unchecked = _median_ms(samples["memory"]), _median_ms(samples["memory, no first bytes"])
    rows.append(
        {
            "name": "complete with the first-bytes GET, records in memory",
            "value_ms": round(checked, 2),
            "baseline": "the same completion without it (content_check: false)",
            "baseline_ms": round(unchecked, 2),
            "ratio": round(checked / unchecked, 2),
            "added_ms": round(checked - unchecked, 2),
            "samples": len(samples["memory"]),
        }
    )
    rows.append(
        {
            "name": "first HEAD of a container (imports boto3, builds the client)",
            "value_ms": round(first_ms, 1),
            "baseline": "the second HEAD, same process",
            "baseline_ms": round(second_ms, 2),
            "ratio": round(first_ms / second_ms, 1),
        }
    )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
