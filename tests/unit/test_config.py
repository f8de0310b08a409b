import json
from typing import Any

import pytest

from presign.config import parse_settings
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
