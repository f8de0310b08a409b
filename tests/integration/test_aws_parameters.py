"""Secrets Manager and SSM through the project's small AWS JSON client: against a moto server over
HTTP, and a stub for the answers moto does not give (access denied, throttling, a broken gateway).

The functions read their HS256 secret, their configuration and their targets' stored credentials
this way, so botocore is never imported on a request path (``test_cold_start_imports``).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.servers import MotoServer, aws_env
from presign.adapters import aws_parameters
from presign.adapters.aws_parameters import ParameterCache, fetch_secret, fetch_ssm_parameter
from presign.errors import ConfigurationError, DependencyUnavailable
from tests.support.http_stubs import Reply, StubServer

KEYS = {"access_key_id": "AKIASTORED", "secret_access_key": "k" * 40}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


def point_at(endpoint_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The process environment a function has (AWS reads use it, as the SDK would), at ``endpoint_url``."""
    environ = aws_env(endpoint_url)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return environ


@pytest.fixture
def env(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A clean moto, the environment pointed at it, and no cached values."""
    moto.reset()
    environ = point_at(moto.endpoint_url, monkeypatch)
    aws_parameters.clear_caches()
    yield environ
    aws_parameters.clear_caches()


def boto(service: str, env: dict[str, str]) -> Any:
    return boto3.client(service, region_name=env["AWS_REGION"])


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def json_error(status: int, code: str) -> Reply:
    body = json.dumps({"__type": code, "Message": "injected"}).encode()
    return Reply(status, body, {"Content-Type": "application/x-amz-json-1.1"})


# -- against moto


def test_a_secret_string_by_name_and_by_arn(env: dict[str, str]) -> None:
    arn = boto("secretsmanager", env).create_secret(Name="presign/jwt", SecretString="s" * 40)["ARN"]

    assert fetch_secret("presign/jwt") == "s" * 40
    assert fetch_secret(arn) == "s" * 40


def test_an_ssm_secure_string_is_decrypted(env: dict[str, str]) -> None:
    boto("ssm", env).put_parameter(Name="/presign/keys", Type="SecureString", Value=json.dumps(KEYS))

    assert json.loads(fetch_ssm_parameter("/presign/keys")) == KEYS


@pytest.mark.parametrize(
    ("read", "name"), [(fetch_secret, "presign/nope"), (fetch_ssm_parameter, "/presign/nope")]
)
def test_what_does_not_exist_is_a_configuration_error_that_names_it(
    env: dict[str, str], read: Any, name: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        read(name)
    assert name in caught.value.message, caught.value.message


def test_a_binary_secret_is_refused(env: dict[str, str]) -> None:
    boto("secretsmanager", env).create_secret(Name="presign/bin", SecretBinary=b"\x00" * 40)

    with pytest.raises(ConfigurationError, match="SecretString"):
        fetch_secret("presign/bin")


def test_the_cache_rereads_after_its_ttl_and_not_before(env: dict[str, str]) -> None:
    # Given: stored signing keys, read through a cache with a clock we move
    secrets = boto("secretsmanager", env)
    secrets.create_secret(Name="presign/r2", SecretString=json.dumps(KEYS))
    clock = Ticks()
    cache = ParameterCache(clock=clock, ttl=300, grace=900)
    assert cache.secret("presign/r2", as_json=True) == KEYS

    # When: they are rotated in the store
    rotated = {**KEYS, "access_key_id": "AKIAROTATED"}
    secrets.put_secret_value(SecretId="presign/r2", SecretString=json.dumps(rotated))

    # Then: picked up once the TTL has passed
    clock.now += 299
    assert cache.secret("presign/r2", as_json=True) == KEYS
    clock.now += 1
    assert cache.secret("presign/r2", as_json=True) == rotated


def test_the_cache_refuses_a_document_that_is_not_json(env: dict[str, str]) -> None:
    boto("ssm", env).put_parameter(Name="/presign/bad", Type="SecureString", Value="not json")

    with pytest.raises(ConfigurationError, match="not valid JSON"):
        ParameterCache(clock=Ticks()).parameter("/presign/bad", as_json=True)


def test_the_module_functions_read_the_process_environment(env: dict[str, str]) -> None:
    boto("ssm", env).put_parameter(Name="/presign/keys", Type="SecureString", Value=json.dumps(KEYS))
    boto("secretsmanager", env).create_secret(Name="presign/keys", SecretString=json.dumps(KEYS))

    assert aws_parameters.get_ssm_parameter("/presign/keys", as_json=True) == KEYS
    assert aws_parameters.get_secret("presign/keys", as_json=True) == KEYS


# -- errors moto does not make


@pytest.mark.parametrize(
    "reply",
    [
        json_error(400, "AccessDeniedException"),
        json_error(400, "com.amazonaws.secretsmanager#ResourceNotFoundException"),
        json_error(400, "DecryptionFailure"),
        json_error(400, "InvalidRequestException"),  # e.g. a secret scheduled for deletion
    ],
)
def test_denied_or_gone_is_a_configuration_error(reply: Reply, monkeypatch: pytest.MonkeyPatch) -> None:
    with StubServer(lambda seen: reply) as stub, pytest.raises(ConfigurationError) as caught:
        point_at(stub.endpoint_url, monkeypatch)
        fetch_secret("presign/jwt")
    assert "presign/jwt" in caught.value.message and len(stub.seen) == 1


@pytest.mark.parametrize(
    "reply",
    [
        json_error(400, "ThrottlingException"),
        json_error(500, "InternalServiceError"),
        Reply(502, b"Bad Gateway"),
        json_error(400, "UnrecognizedClientException"),  # not proof that the secret is gone
    ],
)
def test_throttling_a_5xx_or_anything_else_is_unavailable(
    reply: Reply, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StubServer(lambda seen: reply) as stub, pytest.raises(DependencyUnavailable) as caught:
        point_at(stub.endpoint_url, monkeypatch)
        fetch_ssm_parameter("/presign/config")
    assert caught.value.retry_after >= 1
    assert "injected" not in caught.value.message  # the service's words stay out of responses


def test_an_unreachable_store_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(f"http://127.0.0.1:{closed_port()}", monkeypatch)
    with pytest.raises(DependencyUnavailable):
        fetch_secret("presign/jwt")


def test_requests_are_signed_for_the_right_service_and_target(monkeypatch: pytest.MonkeyPatch) -> None:
    ok = Reply(200, b'{"SecretString": "v"}', {"Content-Type": "application/x-amz-json-1.1"})
    with StubServer(lambda seen: ok) as stub:
        point_at(stub.endpoint_url, monkeypatch)
        fetch_secret("presign/jwt")
    with StubServer(lambda seen: Reply(200, b'{"Parameter": {"Value": "v"}}')) as ssm:
        point_at(ssm.endpoint_url, monkeypatch)
        fetch_ssm_parameter("/presign/config")

    secret, parameter = stub.seen[0], ssm.seen[0]
    assert secret.headers["X-Amz-Target"] == "secretsmanager.GetSecretValue"
    assert "/us-east-1/secretsmanager/aws4_request" in secret.headers["Authorization"]
    assert secret.json() == {"SecretId": "presign/jwt"}
    assert parameter.headers["X-Amz-Target"] == "AmazonSSM.GetParameter"
    assert "/us-east-1/ssm/aws4_request" in parameter.headers["Authorization"]
    assert parameter.json() == {"Name": "/presign/config", "WithDecryption": True}
    assert parameter.headers["Content-Type"] == "application/x-amz-json-1.1"


def test_a_region_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ConfigurationError, match="AWS_REGION"):
        fetch_secret("presign/jwt")
