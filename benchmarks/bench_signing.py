"""Per-URL cost of presigning: boto3's client vs botocore's bare signer vs our stdlib S3Presigner.

Run as `python benchmarks/bench_signing.py`, or import run() from a bench runner.
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

_LAYER = Path(__file__).resolve().parents[1] / "layers" / "presign"
if str(_LAYER) not in sys.path:
    sys.path.insert(0, str(_LAYER))

from presign.signing.sigv4 import S3Presigner, SigningCredentials  # noqa: E402

REGION = "eu-west-1"
BUCKET = "downloads-bucket"
KEY = "tenant-42/reports/2024/Quarterly report (final) é.pdf"
DISPOSITION = "attachment; filename=\"Quarterly report (final).pdf\"; filename*=UTF-8''Quarterly%20report.pdf"
CONTENT_TYPE = "application/pdf"
CONTENT_LENGTH = 1_234_567
EXPIRES = 900
REPEATS = 5
CREDS = (
    "AKIDEXAMPLE",
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "IQoJb3JpZ2luX2VjEFYaCXVzLWVhc3QtMSJHMEUCIQ==",
)


def _time_us(fn: Callable[[], object], iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        fn()
    return (time.perf_counter() - start) / iterations * 1e6


def _client() -> Any:
    options: dict[str, Any] = {  # a plain dict: botocore-stubs lags behind these Config options
        "signature_version": "s3v4",
        "request_checksum_calculation": "when_required",
        "ignore_configured_endpoint_urls": True,
        "s3": {"addressing_style": "virtual"},
    }
    return boto3.session.Session().client(
        "s3",
        region_name=REGION,
        aws_access_key_id=CREDS[0],
        aws_secret_access_key=CREDS[1],
        aws_session_token=CREDS[2],
        config=Config(**options),
    )


def _scenarios(clock: Callable[[], datetime]) -> dict[str, dict[str, Callable[[], str]]]:
    """The caller's clock is part of our cost (boto3 reads its own), so `clock` is called per URL."""
    client = _client()
    ours = S3Presigner(
        credentials=SigningCredentials(*CREDS), region=REGION, endpoint_url=None, addressing_style="virtual"
    )
    bare = S3SigV4QueryAuth(Credentials(*CREDS), "s3", REGION, expires=EXPIRES)
    base = ours.object_url(BUCKET, KEY)
    get_query = {"response-content-disposition": DISPOSITION}
    put_headers = {"Content-Type": CONTENT_TYPE, "Content-Length": str(CONTENT_LENGTH)}

    def bare_get() -> str:
        request = AWSRequest(method="GET", url=base, params=dict(get_query))
        bare.add_auth(request)
        return str(request.url)

    def bare_put() -> str:
        request = AWSRequest(method="PUT", url=base, headers=dict(put_headers))
        bare.add_auth(request)
        return str(request.url)

    return {
        "get": {
            "boto3": lambda: client.generate_presigned_url(
                "get_object",
                Params={"Bucket": BUCKET, "Key": KEY, "ResponseContentDisposition": DISPOSITION},
                ExpiresIn=EXPIRES,
            ),
            "botocore_signer": bare_get,
            "ours": lambda: ours.presign(
                "GET", BUCKET, KEY, now=clock(), expires_in=EXPIRES, query=get_query
            ),
        },
        "put": {
            "boto3": lambda: client.generate_presigned_url(
                "put_object",
                Params={
                    "Bucket": BUCKET,
                    "Key": KEY,
                    "ContentType": CONTENT_TYPE,
                    "ContentLength": CONTENT_LENGTH,
                },
                ExpiresIn=EXPIRES,
            ),
            "botocore_signer": bare_put,
            "ours": lambda: ours.presign(
                "PUT", BUCKET, KEY, now=clock(), expires_in=EXPIRES, headers=put_headers
            ),
        },
    }


def _check_identical() -> None:
    """A benchmark of signers producing different URLs would be meaningless, so compare them first."""
    frozen = datetime.now(UTC)
    naive = frozen.replace(tzinfo=None)
    with (
        mock.patch("botocore.auth.get_current_datetime", return_value=naive),
        mock.patch("botocore.signers.get_current_datetime", return_value=naive),
    ):
        for name, impls in _scenarios(lambda: frozen).items():
            urls = {impl: fn() for impl, fn in impls.items()}
            if len(set(urls.values())) != 1:
                raise AssertionError(f"{name}: signers disagree: {urls}")


def run() -> dict[str, float]:
    """µs per URL (median of REPEATS) per scenario and signer, and ours' speed-up over boto3.

    Keys look like "get.boto3_us", "get.ours_us", "get.speedup_x". Signers take turns within each repeat,
    so load from other processes hits all of them alike; the speed-up is the median of per-repeat ratios.
    """
    _check_identical()
    scenarios = _scenarios(functools.partial(datetime.now, UTC))
    iterations = {"boto3": 400, "botocore_signer": 1_500, "ours": 8_000}  # ~50 ms per batch each
    results: dict[str, float] = {}
    for name, impls in scenarios.items():
        for fn in impls.values():
            fn()  # warm caches (endpoint resolution, signing key) so we time the steady state
        runs = [{impl: _time_us(fn, iterations[impl]) for impl, fn in impls.items()} for _ in range(REPEATS)]
        for impl in impls:
            results[f"{name}.{impl}_us"] = statistics.median(run[impl] for run in runs)
        results[f"{name}.speedup_x"] = statistics.median(run["boto3"] / run["ours"] for run in runs)
    return results


def main() -> None:
    results = run()
    for name in ("get", "put"):
        baseline = results[f"{name}.boto3_us"]
        print(f"{name.upper()}:")
        print(f"  boto3 generate_presigned_url: {baseline:7.1f} µs/URL (baseline)")
        bare = results[f"{name}.botocore_signer_us"]
        print(
            f"  botocore S3SigV4QueryAuth:    {bare:7.1f} µs/URL = {baseline / bare:5.1f}x faster than boto3"
        )
        ours, speedup = results[f"{name}.ours_us"], results[f"{name}.speedup_x"]
        print(f"  ours (S3Presigner):           {ours:7.1f} µs/URL = {speedup:5.1f}x faster than boto3")


if __name__ == "__main__":
    main()
