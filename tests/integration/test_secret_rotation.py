"""Revocation and rotation of the HS256 secret in Secrets Manager (a moto server) reach a warm
container within ``auth.secrets_cache_seconds``, with no redeploy; the clock is the runtime's own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from local.servers import MotoServer, aws_env
from presign.adapters import aws_parameters
from presign.bootstrap.runtime import Runtime
from presign.errors import AuthenticationError, DependencyUnavailable
from tests.support.events import SECRET, token
from tests.support.functions import function_env, settings_document
from tests.support.jwt_keys import FrozenClock

NEW_SECRET = "n" * 40


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def secrets(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    moto.reset()
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in aws_env(moto.endpoint_url).items():
        monkeypatch.setenv(name, value)
    aws_parameters.clear_caches()
    yield boto3.client("secretsmanager", region_name="us-east-1")
    aws_parameters.clear_caches()


def runtime(secret_arn: str, clock: FrozenClock, **auth: Any) -> Runtime:
    document = settings_document()
    document["auth"]["secrets"] = [{"source": "secretsmanager", "secret_id": secret_arn}]
    document["auth"].update(auth)
    return Runtime(function_env(document), clock=clock)


def sub(rt: Runtime, secret: str) -> str:
    return rt.authenticator().authenticate(authorization=f"Bearer {token(secret=secret, ttl=7200)}").sub


def refused(rt: Runtime, secret: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        sub(rt, secret)
    return caught.value.reason


def test_a_deleted_secret_stops_verifying_within_the_ttl(secrets: Any) -> None:
    # Given: a warm container verifying with the secret
    clock = FrozenClock(datetime.now(UTC))
    arn = secrets.create_secret(Name="presign/jwt", SecretString=SECRET)["ARN"]
    rt = runtime(arn, clock, secrets_cache_seconds=60)
    assert sub(rt, SECRET) == "alice"

    # When: it is deleted (scheduled for deletion, as the console does)
    secrets.delete_secret(SecretId=arn, RecoveryWindowInDays=7)

    # Then: accepted until the TTL is over, refused from then on
    clock.advance(59)
    assert sub(rt, SECRET) == "alice"
    clock.advance(1)
    assert refused(rt, SECRET) == "bad_signature"


def test_a_rotated_secret_is_used_within_the_ttl(secrets: Any) -> None:
    clock = FrozenClock(datetime.now(UTC))
    arn = secrets.create_secret(Name="presign/jwt", SecretString=SECRET)["ARN"]
    rt = runtime(arn, clock, secrets_cache_seconds=60)

    # When: a new version becomes AWSCURRENT
    secrets.put_secret_value(SecretId=arn, SecretString=NEW_SECRET)

    # Then
    assert refused(rt, NEW_SECRET) == "bad_signature"
    clock.advance(60)
    assert sub(rt, NEW_SECRET) == "alice"
    assert refused(rt, SECRET) == "bad_signature"


def test_a_store_that_goes_away_fails_closed_after_the_grace_period(
    secrets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    arn = secrets.create_secret(Name="presign/jwt", SecretString=SECRET)["ARN"]
    rt = runtime(arn, clock, secrets_cache_seconds=60, secrets_grace_seconds=120)

    # When: Secrets Manager cannot be reached
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9")

    # Then: the last known secret serves through the grace period, then requests are a 503
    clock.advance(179)
    assert sub(rt, SECRET) == "alice"
    clock.advance(1)
    with pytest.raises(DependencyUnavailable):
        sub(rt, SECRET)
