"""Where credentials and secrets come from: names of variables, secrets and parameters, never values.

A target's signing ``credentials`` (``CredentialSource``) and the references to secrets that
authentication and the CDN read (``SecretRef``); ``presign.adapters`` resolves them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleCredentials(_Model):
    """The function's own role (in Lambda: its temporary credentials; they cap URL expiry)."""

    source: Literal["role"] = "role"


class SecretsManagerCredentials(_Model):
    """A Secrets Manager secret holding JSON ``{"access_key_id": ..., "secret_access_key": ...}``."""

    source: Literal["secretsmanager"]
    secret_id: str = Field(min_length=1)


class SsmCredentials(_Model):
    """An SSM SecureString parameter holding the same JSON as the Secrets Manager form."""

    source: Literal["ssm"]
    parameter: str = Field(min_length=1)


class EnvCredentials(_Model):
    """Environment variables: for local work only, never in a deployed stack."""

    source: Literal["env"]
    access_key_id_var: str = "PRESIGN_S3_ACCESS_KEY_ID"
    secret_access_key_var: str = "PRESIGN_S3_SECRET_ACCESS_KEY"  # noqa: S105 - a variable name


CredentialSource = Annotated[
    RoleCredentials | SecretsManagerCredentials | SsmCredentials | EnvCredentials,
    Field(discriminator="source"),
]


class EnvSecret(_Model):
    source: Literal["env"]
    name: str = Field(min_length=1)


class SecretsManagerSecret(_Model):
    source: Literal["secretsmanager"]
    secret_id: str = Field(min_length=1)


SecretRef = Annotated[EnvSecret | SecretsManagerSecret, Field(discriminator="source")]
