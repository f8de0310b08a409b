"""``{"doctor": true}`` to the cleanup function: the doctor's checks, from inside the function.

The function runs with its own environment (credentials, ``PRESIGN_ALLOWED_ORIGINS`` as the
template sets it from ``AllowedOrigins``) against a real SeaweedFS with identities, and answers the
findings as JSON instead of running a cleanup.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.dev_config import DEV_BUCKET_LIFECYCLE, dev_bucket_cors
from local.servers import MotoServer, SeaweedFS
from presign.doctor.checks import CHECKS
from presign.doctor.probe import DOCTOR_SEGMENT
from tests.realserver.conftest import ACCESS_KEY, SECRET_KEY
from tests.support.cleanup import Budget, fresh_bucket, fresh_tables
from tests.support.functions import function_env, load_function, settings_document
from tests.support.lifecycle import UPLOADS_TABLE, moto_with_tables, point_at, with_records
from tests.support.shares import SHARES_TABLE

pytestmark = pytest.mark.realserver
ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


@pytest.fixture
def admin(seaweed: SeaweedFS) -> Any:
    return seaweed.client(
        request_checksum_calculation="when_required", response_checksum_validation="when_required"
    )


@pytest.fixture
def bucket(admin: Any, moto: MotoServer) -> Iterator[str]:
    fresh_tables(moto)
    name = fresh_bucket(admin, prefix="doctor")
    admin.put_bucket_cors(Bucket=name, CORSConfiguration=dev_bucket_cors([ORIGIN]))
    admin.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=DEV_BUCKET_LIFECYCLE)
    yield name
    listed = admin.list_objects_v2(Bucket=name).get("Contents", [])
    assert [o["Key"] for o in listed if DOCTOR_SEGMENT in o["Key"]] == []


def cleanup_function(
    seaweed: SeaweedFS,
    moto: MotoServer,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    secret: str = SECRET_KEY,
) -> Any:
    point_at(moto, monkeypatch)
    document = with_records(settings_document(endpoint_url=seaweed.endpoint_url, bucket=bucket))
    env = function_env(document, access_key=ACCESS_KEY, secret_key=secret)
    env.update(
        PRESIGN_UPLOADS_TABLE=UPLOADS_TABLE, PRESIGN_SHARES_TABLE=SHARES_TABLE, PRESIGN_ALLOWED_ORIGINS=ORIGIN
    )
    return load_function("cleanup", monkeypatch, env)


def test_a_doctor_invocation_answers_every_check(
    seaweed: SeaweedFS, moto: MotoServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When
    answer = cleanup_function(seaweed, moto, bucket, monkeypatch).handler({"doctor": True}, Budget())

    # Then: the doctor's findings, not a cleanup's counts
    assert answer["doctor"] is True and "totals" not in answer, answer
    statuses = {f["check"]: f["status"] for f in answer["findings"]}
    # events: EventBridge delivery is AWS S3's, not applicable to SeaweedFS
    applicable = [c for c in CHECKS if c != "events"]
    assert statuses == {**dict.fromkeys(("clock", "credentials", *applicable), "PASS"), "events": "SKIP"}, (
        answer
    )
    assert answer["ok"] is True and answer["counts"]["PASS"] == 2 + len(applicable), answer
    cors = next(f for f in answer["findings"] if f["check"] == "cors")
    assert cors["message"].startswith(ORIGIN), cors  # the origins came from PRESIGN_ALLOWED_ORIGINS


def test_a_doctor_invocation_with_the_wrong_secret_says_what_to_fix(
    seaweed: SeaweedFS, moto: MotoServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = cleanup_function(seaweed, moto, bucket, monkeypatch, secret="wrong-secret-0123456789abcdef")

    answer = function.handler({"doctor": True, "target": "main"}, Budget())

    assert answer["ok"] is False, answer
    credentials = next(f for f in answer["findings"] if f["check"] == "credentials")
    assert credentials["status"] == "FAIL" and "SignatureDoesNotMatch" in credentials["message"], credentials
    assert "PRESIGN_S3_SECRET_ACCESS_KEY" in credentials["fix"], credentials
    assert "wrong-secret" not in repr(answer)


def test_a_doctor_invocation_without_time_left_stops_early_and_is_not_ok(
    seaweed: SeaweedFS, moto: MotoServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: an invocation whose function has no time left (less than the margin kept for answering)
    function = cleanup_function(seaweed, moto, bucket, monkeypatch)

    # When
    answer = function.handler({"doctor": True}, Budget(checks=0))

    # Then: no check started, each says the budget ran out, and the answer is not ok
    assert answer["ok"] is False and answer["stopped_early"] is True, answer
    assert {(f["status"], f["stopped"]) for f in answer["findings"]} == {("SKIP", True)}, answer
    assert all("time budget" in f["message"] for f in answer["findings"]), answer


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ({"doctor": False}, "invalid_request"),
        ({"doctor": "yes"}, "invalid_request"),
        ({"doctor": True, "dry_run": True}, "invalid_request"),
        ({"doctor": True, "target": "nope"}, "unknown_target"),
    ],
)
def test_a_malformed_doctor_invocation_is_refused_in_the_error_shape(
    seaweed: SeaweedFS,
    moto: MotoServer,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    event: dict[str, Any],
    code: str,
) -> None:
    answer = cleanup_function(seaweed, moto, bucket, monkeypatch).handler(event, Budget())

    assert set(answer) == {"error"} and answer["error"]["code"] == code, answer
    assert set(answer["error"]) == {"code", "message", "request_id"}, answer
