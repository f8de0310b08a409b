"""Storage events (issue 21): what completing an upload from an event costs, and how soon after its
last byte an upload nobody completes is ``complete`` in ``make dev``.

* ``event -> complete, in process``: ``StorageEvents.handle`` of an EventBridge "Object Created"
  event (the key parsed, one GetItem, the HEAD and the first bytes through the target's boto3
  client against a local SeaweedFS, the conditional write), records in memory; against the same
  completion through ``/complete``'s service call (``Uploads.complete``, same records, same
  storage). Samples alternate; medians.
* ``make dev: last byte -> complete``: ``python -m local.dev`` as a user starts it; for each of
  ``UPLOADS`` uploads, the time from the PUT's response to the first ``GET /uploads/{id}`` that
  says ``complete`` (polled every 10 ms, so each figure is up to 10 ms late), nobody calling
  ``/complete``: SeaweedFS's filer event, the feed, the emulator's Invoke, the function. Against
  the PUT's own round trip.

``python benchmarks/bench_storage_events.py`` or ``make bench``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "layers" / "presign", _ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

REPEATS = 5
PER_REPEAT = 30
UPLOADS = 20
ACCESS_KEY = "bench-events"
SECRET_KEY = "bench-events-secret-0123456789ab"
BUCKET = "bench-events"
CONTENT = b"\x89PNG\r\n\x1a\n" + b"x" * 4088


def _in_process() -> dict[str, Any]:
    from local.servers import SeaweedFS
    from presign.adapters.s3_control import S3ObjectStore
    from presign.config.target import Target
    from presign.config.uploads import UploadRecordSettings
    from presign.core.owners import owner_digest
    from presign.storage_events.service import StorageEvents
    from presign.uploads.ids import new_upload_id
    from presign.uploads.records import UploadRecord
    from presign.uploads.service import Uploads
    from tests.support.memory import MemoryRecords
    from tests.support.spending import free
    from tests.support.storage_events import eventbridge

    owner = owner_digest({"sub": "bench"})
    with (
        tempfile.TemporaryDirectory() as tmp,
        SeaweedFS(Path(tmp), access_key=ACCESS_KEY, secret_key=SECRET_KEY, buckets=[BUCKET]) as s3,
    ):
        os.environ.update(BENCH_S3_KEY=ACCESS_KEY, BENCH_S3_SECRET=SECRET_KEY)
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
        storage = S3ObjectStore("main", target, dict(os.environ))
        records = MemoryRecords()
        uploads = Uploads(records, UploadRecordSettings(), clock=lambda: datetime.now(UTC))
        events = StorageEvents(
            {"main": target},
            records=records,
            completion=uploads,
            objects=lambda _: storage,
            warn=lambda message, keys: None,
        )
        now = int(time.time())

        def pending(count: int) -> list[UploadRecord]:
            made = []
            for _ in range(count):
                upload_id = new_upload_id(datetime.now(UTC), os.urandom)
                key = f"users/bench/2026/01/01/{upload_id}/f.png"
                admin.put_object(Bucket=BUCKET, Key=key, Body=CONTENT, ContentType="image/png")
                record = UploadRecord(
                    owner=owner, upload_id=upload_id, target="main", key=key, method="PUT",
                    size=len(CONTENT), content_type="image/png", status="pending", created_at=now,
                    expires_at=now + 3600, updated_at=now,
                )  # fmt: skip
                records.create(record, ttl=None)
                made.append(record)
            return made

        by_event = pending(REPEATS * PER_REPEAT + 3)
        by_client = pending(REPEATS * PER_REPEAT + 3)

        def event() -> None:
            record = by_event.pop()
            assert events.handle(eventbridge(record.key, bucket=BUCKET)) == {"completed": 1}

        def complete() -> None:
            record = by_client.pop()
            assert uploads.complete(owner, record.upload_id, objects=lambda _: storage, spending=free())

        for fn in (event, complete):
            fn()
        samples: dict[str, list[float]] = {"event": [], "complete": []}
        for _ in range(REPEATS):
            for name, fn in (("event", event), ("complete", complete)):
                for _ in range(PER_REPEAT):
                    started = time.perf_counter()
                    fn()
                    samples[name].append(time.perf_counter() - started)
    event_ms = statistics.median(samples["event"]) * 1000
    complete_ms = statistics.median(samples["complete"]) * 1000
    return {
        "name": "event -> complete, in process (records in memory, SeaweedFS)",
        "value_ms": round(event_ms, 2),
        "baseline": "the same upload through /complete's service call",
        "baseline_ms": round(complete_ms, 2),
        "ratio": round(event_ms / complete_ms, 2),
        "samples": len(samples["event"]),
    }


def _make_dev() -> dict[str, Any]:
    import requests

    from tests.e2e.devstack import dev_token, run_dev

    lags: list[float] = []
    puts: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, run_dev(Path(tmp), timeout=120) as dev:
        base = dev.base_url
        session = requests.Session()
        for i in range(UPLOADS):
            # A caller each: make dev's rate limit would refuse one caller's twentieth upload.
            headers = {"authorization": f"Bearer {dev_token(dev.state, f'bench-{i}')}"}
            granted = session.post(f"{base}/uploads", json={"filename": "f.png", "content_type": "image/png",
                                   "size": len(CONTENT)}, headers=headers, timeout=10).json()  # fmt: skip
            started = time.perf_counter()
            stored = session.put(granted["url"], data=CONTENT, headers=granted["headers"], timeout=10)
            landed = time.perf_counter()
            assert stored.status_code == 200, stored.text
            status = ""
            while status != "complete":
                if time.perf_counter() - landed > 45:
                    raise AssertionError(f"not complete after 45 s: {status}")
                status = session.get(
                    f"{base}/uploads/{granted['upload_id']}", headers=headers, timeout=10
                ).json()["status"]
                if status != "complete":
                    time.sleep(0.01)
            lags.append(time.perf_counter() - landed)
            puts.append(landed - started)
    lag_ms = statistics.median(lags) * 1000
    put_ms = statistics.median(puts) * 1000
    return {
        "name": "make dev: last byte (PUT answered) -> complete, nobody calling /complete",
        "value_ms": round(lag_ms, 1),
        "p95_ms": round(statistics.quantiles(lags, n=20)[-1] * 1000, 1),
        "max_ms": round(max(lags) * 1000, 1),
        "baseline": "the PUT's round trip",
        "baseline_ms": round(put_ms, 2),
        "ratio": round(lag_ms / put_ms, 1),
        "uploads": len(lags),
    }


def run() -> list[dict[str, Any]]:
    return [_in_process(), _make_dev()]


if __name__ == "__main__":
    for row in run():
        print(row)
