"""Cold start and dependencies: configuration errors stop the function, a dependency that is down
answers 503 (never 500), secrets come from Secrets Manager (a moto server), credential expiry caps URLs."""

import json
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local.servers import MotoServer, aws_env
from presign.adapters import aws_parameters
from presign.errors import ConfigurationError
from tests.integration.conftest import Client
from tests.support.events import SECRET, FakeContext, http_event
from tests.support.functions import function_env, load_function, settings_document

UPLOAD = {"filename": "a.txt", "content_type": "text/plain", "size": 3}


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A moto server over HTTP, not mock_aws: the functions read Secrets Manager and SSM with their
    # own small client (no botocore), which mock_aws cannot see.
    moto_server.reset()
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in aws_env(moto_server.endpoint_url).items():
        monkeypatch.setenv(name, value)
    aws_parameters.clear_caches()
    yield
    aws_parameters.clear_caches()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_wrong_configuration_stops_the_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    env = function_env(settings_document(key_prefix="everyone/"))
    with pytest.raises(ConfigurationError, match=r"targets\.main\.key_prefix"):
        load_function("uploads", monkeypatch, env)


def test_missing_configuration_stops_the_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    env = function_env(settings_document())
    env["PRESIGN_CONFIG"] = ""
    with pytest.raises(ConfigurationError, match="PRESIGN_CONFIG"):
        load_function("downloads", monkeypatch, env)


def test_short_jwt_secret_stops_the_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    env = function_env(settings_document())
    env["PRESIGN_TEST_JWT_SECRET"] = "too-short"
    with pytest.raises(ConfigurationError):
        load_function("uploads", monkeypatch, env)


def test_configuration_and_secrets_from_aws(aws: None, make_client: Callable[..., Client]) -> None:
    # Given: the document in SSM, the JWT secret and the S3 keys in Secrets Manager
    secrets = boto3.client("secretsmanager")
    jwt_arn = secrets.create_secret(Name="presign/jwt", SecretString=SECRET)["ARN"]
    s3_arn = secrets.create_secret(
        Name="presign/s3", SecretString=json.dumps({"access_key_id": "AKIASM", "secret_access_key": "x" * 40})
    )["ARN"]
    document = settings_document(credentials={"source": "secretsmanager", "secret_id": s3_arn})
    document["auth"]["secrets"] = [{"source": "secretsmanager", "secret_id": jwt_arn}]
    boto3.client("ssm").put_parameter(Name="/presign/config", Type="String", Value=json.dumps(document))

    # When
    client = make_client("uploads", PRESIGN_CONFIG="", PRESIGN_CONFIG_PARAMETER="/presign/config")
    response = client.post("/uploads", UPLOAD)

    # Then
    assert response["statusCode"] == 201, response["body"]
    assert "Credential=AKIASM%2F" in json.loads(response["body"])["url"]


def test_secrets_manager_down_answers_503(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a secret store that refuses connections, and an SDK that does not retry for long
    document = settings_document()
    document["auth"]["secrets"] = [{"source": "secretsmanager", "secret_id": "presign/jwt"}]
    env = function_env(document)
    env.update(
        AWS_ENDPOINT_URL_SECRETS_MANAGER=f"http://127.0.0.1:{closed_port()}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    aws_parameters.clear_caches()

    # When: the cold start survives, and a request arrives
    module = load_function("uploads", monkeypatch, env)
    response = module.handler(http_event("POST", "/uploads", UPLOAD, bearer="x.y.z"), FakeContext())

    # Then
    assert response["statusCode"] == 503
    assert int(response["headers"]["Retry-After"]) >= 1
    assert json.loads(response["body"])["error"]["code"] == "dependency_unavailable"


def test_role_credentials_cap_the_expiry(make_client: Callable[..., Client]) -> None:
    # Given: temporary role credentials that lapse in ten minutes
    expires = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = settings_document(credentials={"source": "role"})
    client = make_client(
        "uploads",
        document,
        AWS_ACCESS_KEY_ID="ASIAROLE",
        AWS_SECRET_ACCESS_KEY="r" * 40,
        AWS_SESSION_TOKEN="token-from-the-role",
        AWS_CREDENTIAL_EXPIRATION=expires,
    )

    # When
    grant = json.loads(client.post("/uploads", {**UPLOAD, "expires_in": 3600})["body"])

    # Then: the URL dies with the credentials, and says so
    assert 480 <= grant["expires_in"] <= 540
    assert "X-Amz-Security-Token=token-from-the-role" in grant["url"]
    assert grant["expires_at"] <= expires


def test_meta_function_is_public_and_serves_the_openapi_document(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_function("meta", monkeypatch, {})
    health = module.handler(http_event("GET", "/health"), FakeContext())
    assert health["statusCode"] == 200 and json.loads(health["body"]) == {"status": "ok"}
    spec = module.handler(http_event("GET", "/openapi.json"), FakeContext())
    document: dict[str, Any] = json.loads(spec["body"])
    assert {"/uploads", "/downloads", "/health"} <= set(document["paths"])
    assert document["paths"]["/uploads"]["post"]["requestBody"]


def test_a_secret_that_does_not_exist_stops_the_cold_start(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = settings_document()
    document["auth"]["secrets"] = [{"source": "secretsmanager", "secret_id": "presign/nope"}]
    with pytest.raises(ConfigurationError, match="presign/nope"):
        load_function("uploads", monkeypatch, function_env(document))


def test_signing_keys_from_an_ssm_secure_string(aws: None, make_client: Callable[..., Client]) -> None:
    keys = {"access_key_id": "AKIASSM", "secret_access_key": "s" * 40}
    boto3.client("ssm").put_parameter(Name="/presign/s3-keys", Type="SecureString", Value=json.dumps(keys))
    client = make_client(
        "uploads", settings_document(credentials={"source": "ssm", "parameter": "/presign/s3-keys"})
    )

    response = client.post("/uploads", UPLOAD)

    assert response["statusCode"] == 201, response["body"]
    assert "Credential=AKIASSM%2F" in json.loads(response["body"])["url"]


def test_a_credentials_secret_without_keys_stops_the_cold_start(
    aws: None, make_client: Callable[..., Client]
) -> None:
    arn = boto3.client("secretsmanager").create_secret(Name="presign/bad", SecretString='{"user": "x"}')[
        "ARN"
    ]
    with pytest.raises(ConfigurationError, match="access_key_id"):
        make_client("uploads", settings_document(credentials={"source": "secretsmanager", "secret_id": arn}))
