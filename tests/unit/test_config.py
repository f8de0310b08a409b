import json
import logging
from typing import Any

import pytest

from presign.config.settings import parse_settings
from presign.errors import ConfigurationError


def document(**target: Any) -> str:
    base: dict[str, Any] = {
        "default_target": "main",
        "targets": {"main": {"bucket": "my-bucket", **target}},
        "auth": {"issuer": "https://i", "audience": "a", "secrets": [{"source": "env", "name": "S"}]},
    }
    return json.dumps(base)


def test_defaults_are_safe() -> None:
    settings = parse_settings(document())
    _, target = settings.target(None)
    assert target.key_prefix == "users/{sub}/"
    assert target.endpoint_url is None and target.credentials.source == "role"
    assert target.upload.max_expiry <= 3600 and target.download.max_expiry <= 3600


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"key_prefix": "shared/"}, "targets.main.key_prefix"),
        ({"key_prefix": "/users/{sub}/"}, "targets.main.key_prefix"),
        ({"bucket": "Bad_Bucket"}, "targets.main.bucket"),
        ({"endpoint_url": "ftp://x"}, "targets.main.endpoint_url"),
        ({"endpoint_url": "https://user:pw@host"}, "targets.main.endpoint_url"),
        (
            {"endpoint_url": "http://minio.internal:9000"},
            "targets.main.endpoint_url: Value error, must use https",
        ),
        ({"endpoint_url": "http://10.0.0.5:9000"}, "targets.main.endpoint_url: Value error, must use https"),
        (
            {"endpoint_url": "http://localhost.evil.example"},
            "targets.main.endpoint_url: Value error, must use https",
        ),
        ({"endpoint_url": "http://128.0.0.1"}, "targets.main.endpoint_url: Value error, must use https"),
        ({"endpoint_url": "https://s3.example.com", "allow_plain_http": True}, "targets.main.endpoint_url"),
        ({"endpoint_url": "http://127.0.0.1:9000", "allow_plain_http": True}, "targets.main.endpoint_url"),
        ({"allow_plain_http": True}, "targets.main: Value error, allow_plain_http"),
        ({"upload": {"max_expiry": 700000}}, "targets.main.upload.max_expiry"),
        ({"upload": {"default_expiry": 4000, "max_expiry": 3600}}, "targets.main.upload"),
        ({"upload": {"content_types": ["not a type"]}}, "targets.main.upload.content_types"),
        ({"upload": {"max_size": 6 * 1024**4}}, "targets.main.upload.max_size"),
        (
            {"upload": {"max_size": 6 * 1024**3, "multipart": False}},
            "targets.main.upload: Value error, max_size",
        ),
        (
            {"upload": {"max_size": 6 * 1024**3, "methods": ["POST"]}},
            "targets.main.upload: Value error, max_size",
        ),
        (
            {"upload": {"multipart": {"part_size": 5 * 1024**2 + 1}}},
            "targets.main.upload.multipart.part_size",
        ),
        ({"upload": {"multipart": {"part_size": 4 * 1024**2}}}, "targets.main.upload.multipart.part_size"),
        ({"upload": {"multipart": {"threshold": 6 * 1024**3}}}, "targets.main.upload.multipart.threshold"),
        ({"upload": {"multipart": {"surprise": 1}}}, "targets.main.upload.multipart.surprise"),
        ({"credentials": {"source": "vault"}}, "targets.main.credentials"),
        ({"addressing_style": "virtual", "bucket": "with.dots"}, "targets.main"),
        ({"surprise": True}, "targets.main.surprise"),
    ],
)
def test_wrong_configuration_names_the_field(override: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(document(**override))
    assert field in caught.value.message


def test_unknown_default_target() -> None:
    raw = json.loads(document())
    raw["default_target"] = "nope"
    with pytest.raises(ConfigurationError, match="default_target"):
        parse_settings(json.dumps(raw))


def test_not_json() -> None:
    with pytest.raises(ConfigurationError):
        parse_settings("{nope")


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8333",
        "http://127.1.2.3:9000",
        "http://[::1]:9000",
        "http://localhost:9000",
        "http://LOCALHOST",
        "http://minio.localhost:9000",
        "https://minio.internal:9000",
        "https://10.0.0.5",
    ],
)
def test_https_or_loopback_endpoints_load(endpoint: str) -> None:
    _, target = parse_settings(document(endpoint_url=endpoint)).target(None)
    assert target.endpoint_url == endpoint and not target.allow_plain_http


def test_plain_http_inside_a_private_network_is_explicit_and_warned_at_every_cold_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from presign.adapters.environment import load_settings

    # Given a target that says allow_plain_http for a store on a private network
    raw = document(endpoint_url="http://minio.internal:9000", allow_plain_http=True)
    # When two containers start with it
    with caplog.at_level(logging.WARNING, logger="presign.adapters.environment"):
        first = load_settings({"PRESIGN_CONFIG": raw})
        load_settings({"PRESIGN_CONFIG": raw})
    # Then it loads, and each cold start logs one warning naming the field
    assert first.targets["main"].endpoint_url == "http://minio.internal:9000"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split(" ")[0] for r in warnings] == ["targets.main.endpoint_url"] * 2, warnings
    assert all("unencrypted" in r.getMessage() for r in warnings), [r.getMessage() for r in warnings]


def test_an_https_deployment_logs_no_plain_http_warning(caplog: pytest.LogCaptureFixture) -> None:
    from presign.adapters.environment import load_settings

    with caplog.at_level(logging.WARNING, logger="presign.adapters.environment"):
        load_settings({"PRESIGN_CONFIG": document(endpoint_url="https://minio.internal:9000")})
        load_settings({"PRESIGN_CONFIG": document(endpoint_url="http://127.0.0.1:9000")})
    assert caplog.records == [], [r.getMessage() for r in caplog.records]
