"""``python -m presign.doctor`` judged by a real SeaweedFS started with an identities file.

Each test gets a bucket of its own (CORS and lifecycle rules are per bucket), configured like
``make dev``'s (``local.dev.dev_config``, ``dev_bucket_cors``, ``DEV_BUCKET_LIFECYCLE``) unless the
test changes one thing, and runs the command line as a user would, reading its printed lines.
"""

from __future__ import annotations

import io
import json
import re
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.dev_config import DEV_BUCKET_LIFECYCLE, dev_bucket_cors, dev_config
from local.servers import SeaweedFS
from presign.doctor.checks import CHECKS
from presign.doctor.cli import main
from presign.doctor.probe import DOCTOR_SEGMENT
from tests.realserver.conftest import ACCESS_KEY, SECRET_KEY

pytestmark = pytest.mark.realserver

ORIGIN = "http://127.0.0.1:8081"
DEV_BUCKET_CORS = dev_bucket_cors([ORIGIN])  # make dev's rule, for its examples' origin
ALL_CHECKS = ("clock", "credentials", *CHECKS)
# EventBridge delivery is AWS S3's: on SeaweedFS the events check is SKIP ("not applicable").
APPLICABLE = tuple(check for check in ALL_CHECKS if check != "events")


class Run:
    def __init__(self, code: int, text: str) -> None:
        self.code = code
        self.text = text
        self.lines = text.splitlines()

    def status(self, check: str) -> str:
        """PASS / WARN / FAIL / SKIP of ``check`` (exactly one line per check)."""
        found = [line for line in self.lines if re.match(rf"^[A-Z]{{4}}  \S+  {check}\b", line)]
        assert len(found) == 1, f"{check}: {found}\n{self.text}"
        return found[0][:4]

    def block(self, check: str) -> str:
        """The check's line and its indented fix lines."""
        start = next(
            i for i, line in enumerate(self.lines) if re.match(rf"^[A-Z]{{4}}  \S+  {check}\b", line)
        )
        end = start + 1
        while end < len(self.lines) and self.lines[end].startswith("      "):
            end += 1
        return "\n".join(self.lines[start:end])


@pytest.fixture
def bucket(seaweed: SeaweedFS) -> Iterator[str]:
    """A fresh bucket with make dev's CORS and lifecycle rules; checked empty of probes at the end."""
    name = f"doctor-{secrets.token_hex(4)}"
    client = seaweed.client()
    client.create_bucket(Bucket=name)
    client.put_bucket_cors(Bucket=name, CORSConfiguration=DEV_BUCKET_CORS)
    client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=DEV_BUCKET_LIFECYCLE)
    yield name
    # Then: whatever the run found, it left no probe object and no multipart upload behind
    listed = client.list_objects_v2(Bucket=name).get("Contents", [])
    probes = [o["Key"] for o in listed if DOCTOR_SEGMENT in o["Key"]]
    uploads = client.list_multipart_uploads(Bucket=name).get("Uploads", [])
    assert probes == [] and uploads == [], (probes, uploads)


@pytest.fixture
def doctor(seaweed: SeaweedFS, bucket: str) -> Callable[..., Run]:
    def run(
        *args: str,
        secret: str = SECRET_KEY,
        access_key: str = ACCESS_KEY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        target: dict[str, Any] | None = None,
        bucket_name: str | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> Run:
        config = dev_config(seaweed.endpoint_url, bucket=bucket_name or bucket)
        config["targets"]["local"].update(target or {})
        env = {
            "PRESIGN_CONFIG": json.dumps(config),
            "PRESIGN_S3_ACCESS_KEY_ID": access_key,
            "PRESIGN_S3_SECRET_ACCESS_KEY": secret,
        }
        out = io.StringIO()
        timing = {"monotonic": monotonic} if monotonic is not None else {}
        code = main(["--origin", ORIGIN, *args], environ=env, out=out, clock=clock, **timing)
        return Run(code, out.getvalue())

    return run


def test_every_check_passes_with_the_make_dev_configuration(doctor: Callable[..., Run]) -> None:
    # When
    run = doctor()

    # Then
    assert {check: run.status(check) for check in APPLICABLE} == dict.fromkeys(APPLICABLE, "PASS"), run.text
    assert run.status("events") == "SKIP" and "not applicable" in run.block("events"), run.text
    assert run.code == 0, run.text
    assert "11 PASS" in run.lines[-1], run.text


def test_the_output_never_shows_a_secret_or_a_signature(doctor: Callable[..., Run]) -> None:
    for run in (doctor(), doctor(secret="wrong-secret-0123456789")):
        assert SECRET_KEY not in run.text and "wrong-secret" not in run.text, run.text
        assert "X-Amz-Signature" not in run.text and "x-amz-signature" not in run.text, run.text


def test_a_wrong_secret_fails_the_credentials_check_and_says_what_to_fix(doctor: Callable[..., Run]) -> None:
    # When
    run = doctor(secret="not-the-secret-0123456789abcdef")

    # Then
    assert run.status("credentials") == "FAIL", run.text
    block = run.block("credentials")
    assert "the secret does not match the access key (SignatureDoesNotMatch)" in block, block
    assert "fix: set the secret access key" in block and "PRESIGN_S3_SECRET_ACCESS_KEY" in block, block
    # the probes are not run against credentials known to be wrong
    assert {run.status(c) for c in CHECKS} == {"SKIP"}, run.text
    assert run.code == 1


def test_an_unknown_access_key_is_named_as_such(doctor: Callable[..., Run]) -> None:
    run = doctor(access_key="AKIANOSUCHKEY0000000")

    assert run.status("credentials") == "FAIL", run.text
    assert "does not know this access key id (InvalidAccessKeyId)" in run.block("credentials"), run.text
    assert run.code == 1


def test_missing_credentials_fail_before_any_request_is_signed(seaweed: SeaweedFS, bucket: str) -> None:
    config = json.dumps(dev_config(seaweed.endpoint_url, bucket=bucket))
    out = io.StringIO()

    code = main(["--origin", ORIGIN], environ={"PRESIGN_CONFIG": config}, out=out)

    run = Run(code, out.getvalue())
    assert run.status("clock") == "PASS", run.text  # the clock needs no credentials
    assert run.status("credentials") == "FAIL", run.text
    assert "PRESIGN_S3_ACCESS_KEY_ID and PRESIGN_S3_SECRET_ACCESS_KEY must be set" in run.text, run.text
    assert code == 1


def test_a_missing_bucket_is_named(doctor: Callable[..., Run]) -> None:
    run = doctor(bucket_name="doctor-no-such-bucket")

    assert run.status("credentials") == "FAIL", run.text
    assert "no such bucket" in run.block("credentials") and "create bucket" in run.block("credentials")
    assert run.code == 1


def _printed_rule(block: str) -> dict[str, Any]:
    found = re.search(r"--cors-configuration '(\{.*\})'", block)
    assert found, block
    rule: dict[str, Any] = json.loads(found.group(1))
    return rule


def test_no_cors_rule_fails_and_prints_the_rule_that_makes_it_pass(
    seaweed: SeaweedFS, bucket: str, doctor: Callable[..., Run]
) -> None:
    # Given a bucket without a CORS rule
    seaweed.client().delete_bucket_cors(Bucket=bucket)

    # When
    run = doctor()

    # Then the CORS check fails, the others pass, and the fix is a rule to apply
    assert run.status("cors") == "FAIL", run.text
    assert "the bucket has no CORS rule" in run.block("cors"), run.text
    assert [c for c in APPLICABLE if run.status(c) != "PASS"] == ["cors"], run.text
    assert run.code == 1
    rule = _printed_rule(run.block("cors"))
    assert rule["CORSRules"][0]["AllowedOrigins"] == [ORIGIN], rule
    assert rule["CORSRules"][0]["ExposeHeaders"] == ["ETag"], rule

    # And applying exactly the printed rule makes it pass
    seaweed.client().put_bucket_cors(Bucket=bucket, CORSConfiguration=rule)
    again = doctor()
    assert again.status("cors") == "PASS", again.text
    assert again.code == 0, again.text


def test_a_cors_rule_that_hides_etag_fails_and_prints_the_rule(
    seaweed: SeaweedFS, bucket: str, doctor: Callable[..., Run]
) -> None:
    # Given make dev's rule without ExposeHeaders
    rule = {"CORSRules": [{k: v for k, v in DEV_BUCKET_CORS["CORSRules"][0].items() if k != "ExposeHeaders"}]}
    seaweed.client().put_bucket_cors(Bucket=bucket, CORSConfiguration=rule)

    # When
    run = doctor()

    # Then
    block = run.block("cors")
    assert run.status("cors") == "FAIL", run.text
    assert f"PUT from {ORIGIN}: ETAG is not exposed" in block, block
    assert _printed_rule(block)["CORSRules"][0]["ExposeHeaders"] == ["ETag"]
    assert run.code == 1


def test_a_cors_rule_for_another_origin_or_without_put_fails(
    seaweed: SeaweedFS, bucket: str, doctor: Callable[..., Run]
) -> None:
    base = DEV_BUCKET_CORS["CORSRules"][0]
    for rule, expected in (
        ({**base, "AllowedOrigins": ["https://other.example.com"]}, f"GET from {ORIGIN} is not allowed"),
        ({**base, "AllowedMethods": ["GET", "HEAD"]}, f"PUT from {ORIGIN} is not allowed"),
        ({**base, "AllowedHeaders": ["content-type"]}, "headers x-amz-meta-*, x-amz-checksum-sha256 are not"),
    ):
        seaweed.client().put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
        run = doctor()
        assert run.status("cors") == "FAIL" and expected in run.block("cors"), (rule, run.text)


@pytest.mark.parametrize(
    ("skew", "status", "code"),
    [
        (timedelta(minutes=2), "WARN", 0),
        (timedelta(minutes=-2), "WARN", 0),
        (timedelta(minutes=10), "FAIL", 1),
    ],
)
def test_a_skewed_clock_warns_or_fails(
    doctor: Callable[..., Run], skew: timedelta, status: str, code: int
) -> None:
    # Given this machine's clock (as the doctor sees it) off by `skew`
    run = doctor(clock=lambda: datetime.now(UTC) + skew)

    # Then
    block = run.block("clock")
    assert run.status("clock") == status, run.text
    assert ("ahead of" if skew > timedelta(0) else "behind") in block, block
    if status != "PASS":
        assert "fix: synchronise this machine's clock with NTP" in block, block
    assert run.code == code, run.text


def test_a_bucket_without_a_lifecycle_rule_warns_and_says_the_cleanup_covers_it(
    seaweed: SeaweedFS, bucket: str, doctor: Callable[..., Run]
) -> None:
    seaweed.client().delete_bucket_lifecycle(Bucket=bucket)

    run = doctor()

    block = run.block("lifecycle")
    assert run.status("lifecycle") == "WARN", run.text
    assert "the cleanup function aborts stale multipart uploads" in block, block
    assert '"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":2}' in block, block
    assert run.code == 0, run.text  # a warning is not a failure


def test_a_provider_without_lifecycle_support_warns_whatever_the_bucket_holds(
    doctor: Callable[..., Run],
) -> None:
    # The SeaweedFS profile does not vouch for AbortIncompleteMultipartUpload (presign.config.providers)
    run = doctor(target={"provider": "seaweedfs"})

    block = run.block("lifecycle")
    assert run.status("lifecycle") == "WARN", run.text
    assert "unsupported by SeaweedFS" in block and "the cleanup function" in block, block
    assert run.code == 0, run.text


def test_a_put_only_target_skips_the_post_probe_and_needs_no_post_in_cors(
    seaweed: SeaweedFS, bucket: str, doctor: Callable[..., Run]
) -> None:
    rule = {**DEV_BUCKET_CORS["CORSRules"][0], "AllowedMethods": ["GET", "HEAD", "PUT"]}
    seaweed.client().put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})

    run = doctor(
        target={"upload": {**dev_config("http://x")["targets"]["local"]["upload"], "methods": ["PUT"]}}
    )

    assert run.status("post") == "SKIP", run.text
    assert run.status("cors") == "PASS", run.text
    assert run.code == 0, run.text


def test_no_overwrite_signs_if_none_match_and_cors_must_allow_it(
    seaweed: SeaweedFS, bucket: str, doctor: Callable[..., Run]
) -> None:
    upload = {
        **dev_config("http://x")["targets"]["local"]["upload"],
        "methods": ["PUT"],
        "no_overwrite": True,
    }
    rule = {
        **DEV_BUCKET_CORS["CORSRules"][0],
        "AllowedHeaders": ["content-type", "x-amz-meta-*", "x-amz-checksum-sha256"],
    }
    seaweed.client().put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})

    run = doctor(target={"upload": upload})

    assert "If-None-Match" in run.block("put") and run.status("put") == "PASS", run.text
    assert run.status("cors") == "FAIL" and "headers if-none-match are not allowed" in run.block("cors"), (
        run.text
    )


def test_one_target_of_several_and_an_unknown_one(seaweed: SeaweedFS, bucket: str) -> None:
    config = dev_config(seaweed.endpoint_url, bucket=bucket)
    config["targets"]["other"] = {**config["targets"]["local"], "key_prefix": "other/{sub}/"}
    env = {
        "PRESIGN_CONFIG": json.dumps(config),
        "PRESIGN_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "PRESIGN_S3_SECRET_ACCESS_KEY": SECRET_KEY,
    }
    out = io.StringIO()
    assert main(["--origin", ORIGIN, "--target", "other"], environ=env, out=out) == 0, out.getvalue()
    assert "  other  " in out.getvalue() and "  local  " not in out.getvalue(), out.getvalue()
    assert "other/.presign-doctor/" in out.getvalue(), out.getvalue()

    out = io.StringIO()
    assert main(["--target", "nope"], environ=env, out=out) == 2
    assert "no target 'nope' (targets: local, other)" in out.getvalue(), out.getvalue()


def test_an_invalid_configuration_exits_2_naming_the_field(tmp_path: Any) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"targets": {}, "default_target": "x"}))
    out = io.StringIO()

    assert main(["--config", str(path)], environ={}, out=out) == 2
    assert "targets" in out.getvalue() and "invalid presign configuration" in out.getvalue(), out.getvalue()


def test_urls_signed_by_a_clock_far_behind_fail_with_the_clock_as_the_fix(doctor: Callable[..., Run]) -> None:
    # Given a clock 20 minutes slow: SeaweedFS finds every URL expired on arrival
    run = doctor(clock=lambda: datetime.now(UTC) - timedelta(minutes=20))

    # Then the probes fail and say why, instead of blaming the credentials' permissions
    assert run.status("clock") == "FAIL", run.text
    for check in ("put", "post", "multipart"):
        block = run.block(check)
        assert run.status(check) == "FAIL", block
        assert "Request has expired" in block or "Policy expired" in block, block
        assert "this machine's clock is off from the server's" in block, block
    assert run.status("checksums") == "WARN", run.text  # refused, but not for the checksum
    assert run.code == 1


# -- a provider whose CORS no S3 call reads (MinIO's is server-wide): asked as a browser does ----


def test_without_a_cors_api_the_doctor_asks_preflights_and_reads_the_exposed_headers(
    seaweed: SeaweedFS, bucket: str, doctor: Callable[..., Run]
) -> None:
    # Given the MinIO profile (no bucket CORS API), against a store whose CORS answers we set
    minio = {"provider": "minio"}

    # When the store allows our origin, methods and headers and exposes ETag (make dev's rule)
    run = doctor(target=minio)
    assert run.status("cors") == "PASS" and "asked as a browser does" in run.block("cors"), run.text

    # When it allows another origin only
    other = {**DEV_BUCKET_CORS["CORSRules"][0], "AllowedOrigins": ["https://other.example.com"]}
    seaweed.client().put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [other]})
    run = doctor(target=minio)
    block = run.block("cors")
    assert run.status("cors") == "FAIL" and f"the preflight of PUT from {ORIGIN} is refused" in block, block
    assert "configure CORS the provider's way to allow:" in block and '"ExposeHeaders":["ETag"]' in block

    # When it hides ETag
    hiding = {k: v for k, v in DEV_BUCKET_CORS["CORSRules"][0].items() if k != "ExposeHeaders"}
    seaweed.client().put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [hiding]})
    run = doctor(target=minio)
    assert run.status("cors") == "FAIL" and f"a GET from {ORIGIN}: ETag is not exposed" in run.block("cors")


class Ticking:
    """A monotonic clock that moves one second each time it is read, never by real waiting."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return float(self.reads)


def test_a_tiny_budget_stops_early_and_leaves_no_probe_behind(
    doctor: Callable[..., Run], seaweed: SeaweedFS, bucket: str
) -> None:
    # Given: a clock moving a second per read, and a budget that, past the 15 s kept for clean-up,
    # lasts until the multipart check has created its upload and not one read longer: the part PUT
    # and the check's own abort are never sent, so only the clean-up can abort the upload
    run = doctor("--budget", "34", monotonic=Ticking())

    # Then: the checks before ran, the multipart check and those after it say the budget ran out
    before = ALL_CHECKS[: ALL_CHECKS.index("multipart")]
    assert {c: run.status(c) for c in before} == dict.fromkeys(before, "PASS"), run.text
    assert "time budget (34 s) ran out during this check" in run.block("multipart"), run.text
    for check in ALL_CHECKS[ALL_CHECKS.index("multipart") + 1 :]:
        assert run.status(check) == "SKIP" and "ran out before this check" in run.block(check), run.text
    assert run.code == 3 and "stopped early" in run.lines[-1], run.text
    # and nothing is left under the probe prefix, nor any multipart upload (the fixture checks too)
    client = seaweed.client()
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"users/{DOCTOR_SEGMENT}/").get("Contents", [])
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert listed == [] and uploads == [], (listed, uploads)


def test_a_budget_of_zero_checks_nothing_and_exits_3(doctor: Callable[..., Run]) -> None:
    run = doctor("--budget", "0")

    assert {run.status(c) for c in ALL_CHECKS} == {"SKIP"}, run.text
    assert run.code == 3 and "stopped early" in run.lines[-1], run.text
