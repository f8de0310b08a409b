"""Honest expiry: a URL signed with credentials of unknown lifetime may not claim more than an hour.

Lambda does not tell a function when its role credentials expire, so a role-signed URL that says
"valid for 7 days" may die within the hour. Such a configuration is refused at cold start, with a
pointer to what allows long links: a dedicated access key in Secrets Manager.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from presign.config.settings import parse_settings
from presign.errors import ConfigurationError

AUTH = {"issuer": "https://i", "audience": "a", "secrets": [{"source": "env", "name": "S"}]}


def document(**target: Any) -> str:
    return json.dumps(
        {"default_target": "main", "targets": {"main": {"bucket": "my-bucket", **target}}, "auth": AUTH}
    )


ROLE_FORMS = [{}, {"credentials": {"source": "role"}}]  # role is also the default


@pytest.mark.parametrize("credentials", ROLE_FORMS)
@pytest.mark.parametrize("policy", ["upload", "download"])
def test_role_credentials_refuse_a_max_expiry_above_an_hour(credentials: dict[str, Any], policy: str) -> None:
    # Given a role-signed target whose links may claim more than an hour
    raw = document(**credentials, **{policy: {"max_expiry": 3601}})
    # When the configuration is read / Then it is refused, naming the field and the way out
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(raw)
    message = caught.value.message
    assert f"targets.main.{policy}.max_expiry" in message, message
    assert "Secrets Manager" in message and "secretsmanager" in message, message


@pytest.mark.parametrize("credentials", ROLE_FORMS)
def test_role_credentials_allow_an_hour(credentials: dict[str, Any]) -> None:
    settings = parse_settings(
        document(**credentials, upload={"max_expiry": 3600}, download={"max_expiry": 3600})
    )
    assert settings.targets["main"].upload.max_expiry == 3600


@pytest.mark.parametrize(
    "credentials",
    [
        {"source": "secretsmanager", "secret_id": "arn:aws:secretsmanager:eu-west-1:1:secret:k"},
        {"source": "ssm", "parameter": "/presign/keys"},
    ],
)
def test_a_stored_key_may_sign_week_long_links(credentials: dict[str, Any]) -> None:
    # Whether the stored document carries a session token is only known once it is read
    # (tests/integration/test_stored_credentials.py covers that at cold start).
    settings = parse_settings(
        document(credentials=credentials, upload={"max_expiry": 604_800}, download={"max_expiry": 604_800})
    )
    assert settings.targets["main"].download.max_expiry == 604_800
