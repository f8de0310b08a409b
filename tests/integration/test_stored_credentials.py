"""Stored signing credentials that carry a session token are temporary, with an expiry nobody
told us: like role credentials, they may not sign links that claim more than an hour. They are read
at cold start (Secrets Manager and SSM in moto), and a wrong pairing stops the function there."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from local.servers import MotoServer, aws_env
from presign.adapters import aws_parameters
from presign.errors import ConfigurationError
from tests.integration.conftest import Client
from tests.support.functions import settings_document

UPLOAD = {"filename": "a.txt", "content_type": "text/plain", "size": 3}
TEMPORARY = {"access_key_id": "ASIATEMP", "secret_access_key": "t" * 40, "session_token": "sts-session-token"}
PERMANENT = {"access_key_id": "AKIAKEEP", "secret_access_key": "k" * 40}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    # A server, not mock_aws: the functions read Secrets Manager and SSM over HTTP with their own
    # small client (presign.adapters.aws_parameters), which an in-process mock cannot see.
    with MotoServer() as server:
        yield server


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    moto.reset()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in aws_env(moto.endpoint_url).items():
        monkeypatch.setenv(name, value)
    aws_parameters.clear_caches()
    yield
    aws_parameters.clear_caches()


def _stored(where: str, keys: dict[str, str]) -> dict[str, str]:
    if where == "secretsmanager":
        arn = boto3.client("secretsmanager").create_secret(Name="presign/s3", SecretString=json.dumps(keys))
        return {"source": "secretsmanager", "secret_id": arn["ARN"]}
    boto3.client("ssm").put_parameter(Name="/presign/s3", Type="SecureString", Value=json.dumps(keys))
    return {"source": "ssm", "parameter": "/presign/s3"}


def _document(credentials: dict[str, str], max_expiry: int) -> dict[str, Any]:
    return settings_document(
        credentials=credentials,
        upload={"max_expiry": max_expiry},
        download={"max_expiry": min(max_expiry, 3600)},
    )


@pytest.mark.parametrize("where", ["secretsmanager", "ssm"])
def test_stored_temporary_credentials_refuse_links_longer_than_an_hour(
    aws: None, make_client: Callable[..., Client], where: str
) -> None:
    # Given a stored key with a session token, and a target whose uploads may claim two hours
    document = _document(_stored(where, TEMPORARY), max_expiry=7200)

    # When the function starts / Then it stops, saying why and what to store instead
    with pytest.raises(ConfigurationError) as caught:
        make_client("uploads", document)
    message = caught.value.message
    assert "targets.main" in message and "session_token" in message, message
    assert "upload.max_expiry" in message and "Secrets Manager" in message, message


@pytest.mark.parametrize("where", ["secretsmanager", "ssm"])
def test_stored_temporary_credentials_sign_links_of_an_hour(
    aws: None, make_client: Callable[..., Client], where: str
) -> None:
    client = make_client("uploads", _document(_stored(where, TEMPORARY), max_expiry=3600))

    response = client.post("/uploads", {**UPLOAD, "expires_in": 3600})

    assert response["statusCode"] == 201, response["body"]
    grant = json.loads(response["body"])
    assert grant["expires_in"] == 3600 and "X-Amz-Security-Token=sts-session-token" in grant["url"]


@pytest.mark.parametrize("where", ["secretsmanager", "ssm"])
def test_a_stored_dedicated_key_signs_week_long_links(
    aws: None, make_client: Callable[..., Client], where: str
) -> None:
    client = make_client("uploads", _document(_stored(where, PERMANENT), max_expiry=604_800))

    response = client.post("/uploads", {**UPLOAD, "expires_in": 604_800})

    assert response["statusCode"] == 201, response["body"]
    assert json.loads(response["body"])["expires_in"] == 604_800


def test_a_secret_rotated_to_temporary_keys_signs_no_long_link(
    aws: None, make_client: Callable[..., Client]
) -> None:
    # Given a function that started with a dedicated key and allows week-long uploads
    credentials = _stored("secretsmanager", PERMANENT)
    client = make_client("uploads", _document(credentials, max_expiry=604_800))
    # When the secret is rotated to temporary keys and the cached copy runs out
    boto3.client("secretsmanager").put_secret_value(
        SecretId=credentials["secret_id"], SecretString=json.dumps(TEMPORARY)
    )
    aws_parameters.clear_caches()
    response = client.post("/uploads", {**UPLOAD, "expires_in": 60})

    # Then nothing is signed: the deployment is misconfigured, and the client learns no more
    assert response["statusCode"] == 500, response["body"]
    assert json.loads(response["body"])["error"]["code"] == "internal_error", response["body"]
    assert "url" not in response["body"]
