"""From a committed change to a verified webhook, on ``make dev`` (issues 22, 23): end to end only,
since ``make dev`` runs one invocation at a time (the in-process figures are ``bench_events`` and
``bench_webhooks``).

``python -m local.dev`` is started; each sample is one ``POST /uploads`` (the change: the record's
creation), then the wait until its ``upload.created`` is (a) in the events log (the stream poller,
the publisher, EventBridge, the rule's queue, the tap) and (b) in the local receiver's log,
verified by ``standardwebhooks`` (the fan-out, the queue poller, the delivery function, the
receiver). Baseline: the ``POST /uploads`` round trip itself. The pollers rest 0.25 s when idle, as
Lambda's do, so a sample includes up to that twice.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

SAMPLES = 10


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _wait_for(path: Path, upload_id: str, key: str, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in _lines(path):
            event = line.get(key, line)
            if event.get("type") == "upload.created" and event["data"].get("upload_id") == upload_id:
                return time.monotonic()
        time.sleep(0.01)
    raise RuntimeError(f"no upload.created for {upload_id} in {path.name} within {timeout:.0f} s")


def run() -> list[dict[str, Any]]:
    from tests.e2e.devstack import run_dev

    posts, buses, webhooks = [], [], []
    with tempfile.TemporaryDirectory() as tmp, run_dev(Path(tmp)) as stack:
        events_log, webhooks_log = Path(stack.state["events_log"]), Path(stack.state["webhooks_log"])
        body = json.dumps({"filename": "b.txt", "content_type": "text/plain", "size": 1}).encode()
        for sample in range(SAMPLES):
            token = stack.token(f"bench{sample}")  # one caller each: the dev rate limits stay out of it
            request = urllib.request.Request(  # noqa: S310 - the stack's own http://127.0.0.1 URL
                f"{stack.base_url}/uploads", data=body, method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )  # fmt: skip
            started = time.monotonic()
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - as above
                upload_id = json.loads(answer.read())["upload_id"]
            answered = time.monotonic()
            posts.append(answered - started)
            buses.append(_wait_for(events_log, upload_id, "detail") - started)
            webhooks.append(_wait_for(webhooks_log, upload_id, "event") - started)
    post_ms = statistics.median(posts) * 1000
    rows = []
    for name, samples in (("EventBridge (the events log)", buses), ("a verified webhook", webhooks)):
        value = statistics.median(samples) * 1000
        rows.append(
            {
                "name": f"make dev: committed change (POST /uploads) -> {name}, median of {SAMPLES}",
                "value_ms": round(value),
                "max_ms": round(max(samples) * 1000),
                "baseline": "the POST /uploads round trip",
                "baseline_ms": round(post_ms, 1),
                "ratio": round(value / post_ms, 1),
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
