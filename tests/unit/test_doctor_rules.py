"""The doctor's pure parts: CORS rule evaluation, clock skew, the report, the probe prefix.

The checks themselves run against a real SeaweedFS (tests/realserver/test_doctor.py; this module
has a name of its own because pytest keys test modules by basename).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from presign.auth import Principal
from presign.config.providers import PROFILES
from presign.config.settings import parse_settings
from presign.doctor import cors
from presign.doctor.probe import static_prefix
from presign.doctor.report import Finding, Status, exit_status, render
from presign.doctor.run import capability_notes
from presign.doctor.skew import judge_skew
from presign.signing.context import SigningContext
from presign.signing.sigv4 import S3Presigner, SigningCredentials
from presign.uploads.issue import create_upload, put_headers
from presign.uploads.schemas import CreateUploadRequest

ORIGIN = "https://app.example.com"
NEEDS = cors.needs_for(origins=[ORIGIN], post=True, checksums=True, no_overwrite=False)
GOOD: dict[str, Any] = {
    "AllowedOrigins": [ORIGIN],
    "AllowedMethods": ["GET", "HEAD", "PUT", "POST"],
    "AllowedHeaders": ["Content-Type", "x-amz-meta-*", "x-amz-checksum-sha256"],
    "ExposeHeaders": ["ETag"],
}


def test_the_suggested_rule_covers_what_it_was_made_for() -> None:
    for needs in (
        NEEDS,
        cors.needs_for(
            origins=[ORIGIN, "http://localhost:5173"], post=False, checksums=False, no_overwrite=True
        ),
    ):
        assert cors.problems(cors.suggested_rule(needs)["CORSRules"], needs) == []


def test_a_rule_covering_everything_passes_and_wildcards_match() -> None:
    assert cors.problems([GOOD], NEEDS) == []
    wild = {**GOOD, "AllowedOrigins": ["https://*.example.com"], "AllowedHeaders": ["*"]}
    assert cors.problems([wild], NEEDS) == []
    # Header names are case-insensitive, origins are not
    assert (
        cors.problems(
            [{**GOOD, "AllowedHeaders": ["CONTENT-TYPE", "X-AMZ-META-*", "X-Amz-Checksum-Sha256"]}], NEEDS
        )
        == []
    )
    assert cors.problems([{**GOOD, "AllowedOrigins": ["HTTPS://APP.EXAMPLE.COM"]}], NEEDS) != []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"AllowedOrigins": ["https://other.example.com"]}, f"GET from {ORIGIN} is not allowed"),
        ({"AllowedMethods": ["GET", "HEAD", "POST"]}, f"PUT from {ORIGIN} is not allowed"),
        ({"AllowedMethods": ["GET", "HEAD", "PUT"]}, f"POST from {ORIGIN} is not allowed"),
        ({"AllowedHeaders": ["content-type"]}, "headers x-amz-meta-*, x-amz-checksum-sha256 are not allowed"),
        ({"ExposeHeaders": []}, f"PUT from {ORIGIN}: ETAG is not exposed"),
    ],
)
def test_each_missing_piece_is_named(change: dict[str, Any], expected: str) -> None:
    found = cors.problems([{**GOOD, **change}], NEEDS)
    assert any(expected in p for p in found), found


def test_the_first_rule_matching_origin_and_method_decides_what_is_exposed() -> None:
    # S3 answers the actual request from the first rule matching origin and method: a later rule
    # exposing ETag does not help.
    hiding = {**GOOD, "ExposeHeaders": []}
    assert any("ETAG is not exposed" in p for p in cors.problems([hiding, GOOD], NEEDS))
    assert cors.problems([GOOD, hiding], NEEDS) == []
    # ...while a preflight may be answered by a later rule that allows the headers
    narrow = {**GOOD, "AllowedHeaders": []}
    assert cors.problems([narrow, GOOD], NEEDS) == []


def test_the_apply_command_carries_the_rule_and_the_endpoint() -> None:
    command = cors.apply_command("my-bucket", NEEDS, "http://127.0.0.1:8333")
    assert command.startswith(
        "aws s3api put-bucket-cors --bucket my-bucket --endpoint-url http://127.0.0.1:8333 "
    )
    assert '"ExposeHeaders":["ETag"]' in command and '"AllowedOrigins":["https://app.example.com"]' in command


NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "status"),
    [(0, Status.PASS), (60, Status.PASS), (-60, Status.PASS), (61, Status.WARN), (-61, Status.WARN),
     (300, Status.WARN), (301, Status.FAIL), (-3600, Status.FAIL)],
)  # fmt: skip
def test_clock_skew_thresholds(seconds: int, status: Status) -> None:
    date = format_datetime(NOW - timedelta(seconds=seconds), usegmt=True)
    finding = judge_skew("t", local=NOW, date_header=date)
    assert finding.status is status, finding
    assert (finding.fix != "") == (status is not Status.PASS), finding


def test_an_unusable_date_header_warns() -> None:
    for header in (None, "", "yesterday"):
        assert judge_skew("t", local=NOW, date_header=header).status is Status.WARN


def test_a_failure_must_carry_its_fix_and_decides_the_exit_status() -> None:
    with pytest.raises(ValueError, match="must say how to fix it"):
        Finding("t", "cors", Status.FAIL, "broken")
    passing = Finding("t", "clock", Status.PASS, "fine")
    failing = Finding("t", "cors", Status.FAIL, "broken", "apply this\nand that")
    assert (
        exit_status([passing, Finding("t", "x", Status.WARN, "hm"), Finding("t", "y", Status.SKIP, "-")]) == 0
    )
    assert exit_status([passing, failing]) == 1
    assert render(failing) == "FAIL  t  cors        broken\n      fix: apply this\n      and that"


@pytest.mark.parametrize(
    ("template", "prefix"),
    [("users/{sub}/", "users/"), ("{sub}/", ""), ("a/b/{tenant}/{sub}/", "a/b/"), ("a/{sub}/b/", "a/")],
)
def test_probes_live_under_the_literal_start_of_the_key_prefix(template: str, prefix: str) -> None:
    assert static_prefix(template) == prefix


def test_the_doctor_s_put_headers_are_the_ones_create_upload_signs() -> None:
    # Given a target and a PUT request with metadata, a checksum and no-overwrite
    settings = parse_settings(
        '{"default_target": "t", "targets": {"t": {"bucket": "bkt", "upload": {"no_overwrite": true}}},'
        '"auth": {"issuer": "i", "audience": "a", "secrets": [{"source": "env", "name": "S"}]}}'
    )
    target = settings.targets["t"]
    request = CreateUploadRequest(
        filename="a.txt",
        content_type="text/plain",
        size=5,
        metadata={"b": "2", "a": "1"},
        checksum_sha256="LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
    )
    presigner = S3Presigner(
        credentials=SigningCredentials("AK", "SK"),
        region="us-east-1",
        endpoint_url=None,
        addressing_style="path",
    )
    issued = create_upload(
        request,
        principal=Principal(sub="alice", claims={"sub": "alice"}),
        target_name="t",
        target=target,
        signing=SigningContext(presigner=presigner, credentials_expire_at=None, clock=lambda: NOW),
        upload_id="u1",
        spend=lambda _: None,
    )

    # Then
    assert issued.response.headers == put_headers(
        content_type="text/plain",
        size=5,
        metadata={"a": "1", "b": "2"},
        checksum_sha256=request.checksum_sha256,
        no_overwrite=True,
    )


def test_capabilities_a_profile_lacks_are_named_with_the_provider() -> None:
    r2, aws = capability_notes(PROFILES["r2"]), capability_notes(PROFILES["aws"])
    assert aws("post_uploads") is None and aws("lifecycle_abort_multipart") is None
    note = r2("post_uploads")
    assert note is not None and "POST form uploads: unsupported by" in note and PROFILES["r2"].title in note
    minio = capability_notes(PROFILES["minio"])("lifecycle_abort_multipart")
    assert minio is not None and "unsupported by MinIO" in minio
