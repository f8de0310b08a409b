"""AuthSettings: one document per mode, validated at cold start with messages that name the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from presign.auth import build_authenticator
from presign.config.auth import AuthSettings
from presign.config.secrets import EnvSecret, SecretRef
from presign.config.settings import parse_settings
from presign.errors import ConfigurationError
from tests.support.jwt_keys import public_pem, rsa_key

HS256 = {
    "mode": "hs256",
    "issuer": "https://auth.example.com",
    "audience": "presign",
    "leeway_seconds": 30,
    "secrets": [
        {"source": "secretsmanager", "secret_id": "presign/jwt-current"},
        {"source": "secretsmanager", "secret_id": "presign/jwt-previous"},
    ],
    "required_scopes": {"upload": ["files:write"], "download": ["files:read"]},
}
OIDC = {
    "mode": "oidc",
    "issuer": "https://dev-abc123.us.auth0.com/",
    "audience": "https://api.example.com/presign",
    "leeway_seconds": 30,
    "jwks_url": "https://dev-abc123.us.auth0.com/.well-known/jwks.json",
    "algorithms": ["RS256"],
    "jwks_timeout_seconds": 2,
    "jwks_cache_seconds": 600,
    "required_scopes": {"upload": ["upload:files"], "download": ["read:files"], "share": ["share:files"]},
}
GATEWAY = {
    "mode": "gateway",
    "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
    "audience": "4q3mp1example8client9id",
    "leeway_seconds": 0,
    "accept_client_id_as_audience": True,
    "required_scopes": {"upload": ["presign/upload"]},
}


def settings_document(auth: dict[str, Any]) -> str:
    return json.dumps(
        {"targets": {"main": {"bucket": "uploads-bucket"}}, "default_target": "main", "auth": auth}
    )


@pytest.mark.parametrize("document", [HS256, OIDC, GATEWAY], ids=["hs256", "oidc", "gateway"])
def test_each_mode_has_a_complete_example(document: dict[str, Any]) -> None:
    # Given / When
    settings = parse_settings(settings_document(document))

    # Then
    assert settings.auth.mode == document["mode"]
    assert settings.auth.required_scopes.upload == document["required_scopes"]["upload"]


def test_the_previous_hs256_shape_still_validates() -> None:
    settings = AuthSettings(issuer="https://i", audience="a", secrets=[EnvSecret(source="env", name="JWT")])

    assert settings.mode == "hs256"
    assert settings.leeway_seconds == 30
    assert settings.required_scopes.share == []


def test_defaults_pin_oidc_to_rs256_with_a_short_timeout() -> None:
    minimal = AuthSettings.model_validate({k: OIDC[k] for k in ("mode", "issuer", "audience", "jwks_url")})

    assert minimal.algorithms == ["RS256"]
    assert minimal.jwks_timeout_seconds == 2.0


@pytest.mark.parametrize(
    ("change", "field_hint"),
    [
        ({"leeway_seconds": 61}, "leeway_seconds"),
        ({"leeway_seconds": -1}, "leeway_seconds"),
        ({"mode": "rs256"}, "mode"),
        ({"algorithms": ["HS256"]}, "algorithms"),
        ({"algorithms": ["none"]}, "algorithms"),
        ({"algorithms": []}, "algorithms"),
        ({"jwks_url": "http://idp.example.com/jwks.json"}, "https"),
        ({"jwks_url": "ftp://idp.example.com/jwks.json"}, "jwks_url"),
        ({"jwks_url": "https://user:pw@idp.example.com/jwks"}, "credentials"),
        ({"jwks_url": "/relative/jwks.json"}, "jwks_url"),
        ({"jwks_url": None}, "jwks_url"),
        ({"jwks_timeout_seconds": 0}, "jwks_timeout_seconds"),
        ({"jwks_timeout_seconds": 30}, "jwks_timeout_seconds"),
        ({"secrets": [{"source": "env", "name": "JWT"}]}, "secrets cannot be used with mode 'oidc'"),
        ({"issuer": "https://dev-abc123.us.auth0.com/ "}, "whitespace"),
        ({"audience": ""}, "audience"),
        ({"required_scopes": {"upload": ["two words"]}}, "scope"),
        ({"required_scopes": {"delete": ["x"]}}, "delete"),
        ({"jwk_url": "https://typo.example.com"}, "jwk_url"),
    ],
)
def test_invalid_oidc_documents_stop_the_function_naming_the_problem(
    change: dict[str, Any], field_hint: str
) -> None:
    # Given
    document = settings_document({**OIDC, **change})

    # When
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(document)

    # Then
    assert field_hint in caught.value.message


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8123/jwks.json", "http://localhost/jwks", "http://[::1]:9/jwks", "https://x.test/k"],
)
def test_plain_http_jwks_only_on_loopback(url: str) -> None:
    assert AuthSettings.model_validate({**OIDC, "jwks_url": url}).jwks_url == url


@pytest.mark.parametrize(
    ("document", "hint"),
    [
        ({**HS256, "secrets": []}, "needs at least one entry in secrets"),
        ({**HS256, "jwks_url": "https://x.test/jwks"}, "jwks_url cannot be used with mode 'hs256'"),
        ({**HS256, "algorithms": ["RS256"]}, "algorithms cannot be used"),
        ({**HS256, "accept_client_id_as_audience": True}, "Cognito"),
        ({**GATEWAY, "jwks_url": "https://x.test/jwks"}, "cannot be used with mode 'gateway'"),
        ({**GATEWAY, "secrets": [{"source": "env", "name": "JWT"}]}, "cannot be used with mode 'gateway'"),
        ({k: v for k, v in OIDC.items() if k != "jwks_url"}, "needs jwks_url"),
    ],
)
def test_fields_of_another_mode_are_refused_not_ignored(document: dict[str, Any], hint: str) -> None:
    with pytest.raises(ValidationError, match=hint):
        AuthSettings.model_validate(document)


def test_duplicate_algorithms_and_scopes_collapse() -> None:
    settings = AuthSettings.model_validate(
        {**OIDC, "algorithms": ["RS256", "ES256", "RS256"], "required_scopes": {"upload": ["a", "a", "b"]}}
    )

    assert settings.algorithms == ["RS256", "ES256"]
    assert settings.required_scopes.upload == ["a", "b"]


def _hs256_with(*secrets: str) -> tuple[AuthSettings, dict[str, str]]:
    names = {f"JWT_{i}": s for i, s in enumerate(secrets)}
    settings = AuthSettings(
        issuer="https://i", audience="a", secrets=[EnvSecret(source="env", name=n) for n in names]
    )
    return settings, names


def _resolver(values: dict[str, str]) -> Any:
    def resolve(ref: SecretRef) -> str:
        assert isinstance(ref, EnvSecret)
        return values[ref.name]

    return resolve


@pytest.mark.parametrize(
    ("secret", "hint"),
    [
        ("", "empty"),
        ("x" * 31, "at least 32 bytes (it has 31)"),
        ("é" * 15, "at least 32 bytes (it has 30)"),
        (public_pem(rsa_key()).decode(), "asymmetric key"),
    ],
    ids=["empty", "31-bytes", "multibyte-short", "rsa-public-pem"],
)
def test_unusable_hs256_secrets_stop_the_function_at_init(secret: str, hint: str) -> None:
    # Given: a good current secret, and a bad one still listed
    settings, values = _hs256_with("k" * 32, secret)

    # When
    with pytest.raises(ConfigurationError) as caught:
        build_authenticator(settings, _resolver(values))

    # Then: the message names the entry and never echoes the secret
    assert hint in caught.value.message
    assert "auth.secrets[1]" in caught.value.message
    assert (secret or "\x00") not in caught.value.message


def test_a_32_byte_secret_is_enough() -> None:
    settings, values = _hs256_with("k" * 32)

    build_authenticator(settings, _resolver(values))
