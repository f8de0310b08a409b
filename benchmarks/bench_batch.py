"""A 1000-key ``POST /downloads`` through the real handler, in-process, rate limiter stubbed.

Baseline, in the same run: the same 1000 URLs from boto3's ``generate_presigned_url`` in a loop,
which is what a handler without its own signer would spend on signing alone.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "presign"), str(ROOT)]

KEYS = 1000
ROUNDS = 15


def _median_ms(fn: Any, rounds: int = ROUNDS) -> float:
    fn()  # warm: the first call pays for lazy imports and caches
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def run() -> list[dict[str, Any]]:
    import boto3
    from botocore.config import Config

    from tests.support.events import FakeContext, http_event, token
    from tests.support.functions import function_env, settings_document

    env = function_env(settings_document(download={"max_keys": 1000}))
    os.environ.update(env)
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_downloads", ROOT / "functions" / "downloads" / "app.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    keys = [f"users/alice/2026/11/22/id{i:04d}/photo {i} ü.jpg" for i in range(KEYS)]
    event = http_event(
        "POST", "/downloads", {"keys": keys, "disposition": "attachment"}, bearer=token(ttl=3600)
    )
    context = FakeContext()

    import logging

    logging.getLogger("presign").setLevel(logging.WARNING)
    devnull = Path(os.devnull).open("w")  # noqa: SIM115 - the metrics flush prints; keep the table readable

    def through_handler() -> None:
        saved, sys.stdout = sys.stdout, devnull
        try:
            response = module.handler(event, context)
        finally:
            sys.stdout = saved
        assert response["statusCode"] == 200 and len(json.loads(response["body"])["items"]) == KEYS

    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id=env["PRESIGN_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["PRESIGN_S3_SECRET_ACCESS_KEY"],
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
        ),
    )

    def boto3_loop() -> None:
        for key in keys:
            client.generate_presigned_url(
                "get_object",
                Params={"Bucket": "presign-test", "Key": key, "ResponseContentDisposition": "attachment"},
                ExpiresIn=300,
            )

    ours = _median_ms(through_handler)
    baseline = _median_ms(boto3_loop)
    return [
        {
            "name": f"POST /downloads, {KEYS} keys, whole handler",
            "value_ms": round(ours, 2),
            "baseline": f"boto3 signing the same {KEYS} URLs alone",
            "baseline_ms": round(baseline, 2),
            "ratio": round(ours / baseline, 3),
            "target": "under 25 ms",
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row, ensure_ascii=False))
