"""The service configuration: one JSON document, validated once at cold start.

A wrong document raises ``ConfigurationError`` naming the field, so a function never starts
half-working. These are plain models: where the document comes from (environment variable, SSM)
is an adapter's business (``presign.adapters.settings_source``).
"""

from __future__ import annotations

import re
import string
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from presign.errors import ConfigurationError

# SigV4 presigned URLs are valid for at most seven days, whatever the signer asks for.
MAX_PRESIGN_EXPIRY = 604_800
# S3 refuses a single PUT above 5 GiB; larger objects need multipart.
MAX_SINGLE_PUT_BYTES = 5 * 1024**3

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_MIME_PATTERN = re.compile(r"^(\*/\*|[a-z0-9][a-z0-9!#$&^_.+\-]*/(\*|[a-z0-9][a-z0-9!#$&^_.+\-]*))$")


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


def _check_expiry_pair(default: int, maximum: int) -> None:
    if default > maximum:
        raise ValueError(f"default_expiry ({default}) is above max_expiry ({maximum})")


class UploadPolicy(_Model):
    content_types: list[str] = Field(
        default_factory=lambda: ["image/*", "video/*", "audio/*", "application/pdf", "text/plain"],
        min_length=1,
    )
    max_size: int = Field(default=100 * 1024**2, gt=0, le=MAX_SINGLE_PUT_BYTES)
    default_expiry: int = Field(default=900, gt=0, le=MAX_PRESIGN_EXPIRY)
    max_expiry: int = Field(default=3600, gt=0, le=MAX_PRESIGN_EXPIRY)
    methods: list[Literal["PUT", "POST"]] = Field(default_factory=lambda: ["PUT", "POST"], min_length=1)
    no_overwrite: bool = False

    @field_validator("content_types")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        lowered = [p.strip().lower() for p in patterns]
        bad = [p for p in lowered if not _MIME_PATTERN.match(p)]
        if bad:
            raise ValueError(f"not a content type or wildcard pattern: {bad}")
        return lowered

    @model_validator(mode="after")
    def _expiries(self) -> UploadPolicy:
        _check_expiry_pair(self.default_expiry, self.max_expiry)
        return self


class DownloadPolicy(_Model):
    default_expiry: int = Field(default=300, gt=0, le=MAX_PRESIGN_EXPIRY)
    max_expiry: int = Field(default=3600, gt=0, le=MAX_PRESIGN_EXPIRY)
    max_keys: int = Field(default=1000, gt=0, le=1000)

    @model_validator(mode="after")
    def _expiries(self) -> DownloadPolicy:
        _check_expiry_pair(self.default_expiry, self.max_expiry)
        return self


class Target(_Model):
    """One S3-compatible bucket the service may sign for."""

    endpoint_url: str | None = None  # None: AWS S3's regional endpoint
    region: str = Field(default="us-east-1", pattern=r"^[a-z0-9\-]{2,32}$")
    bucket: str
    addressing_style: Literal["path", "virtual"] = "virtual"
    credentials: CredentialSource = Field(default_factory=RoleCredentials)
    key_prefix: str = "users/{sub}/"
    upload: UploadPolicy = Field(default_factory=UploadPolicy)
    download: DownloadPolicy = Field(default_factory=DownloadPolicy)

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if not re.match(r"^https?://[A-Za-z0-9.\-\[\]:]+(:\d+)?/?$", url):
            raise ValueError("must be scheme://host[:port], without a path, query or credentials")
        return url.rstrip("/")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, bucket: str) -> str:
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise ValueError("must be a valid S3 bucket name (3-63 of a-z 0-9 . -)")
        return bucket

    @field_validator("key_prefix")
    @classmethod
    def _prefix(cls, template: str) -> str:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        if "sub" not in fields:
            raise ValueError("must contain {sub}, so each caller is confined to their own prefix")
        if not template.endswith("/") or template.startswith("/"):
            raise ValueError("must end with '/' and not start with '/'")
        if any(not re.fullmatch(r"[a-z_][a-z0-9_]*", f) for f in fields):
            raise ValueError("placeholders must be claim names such as {sub} or {tenant}")
        return template

    @model_validator(mode="after")
    def _virtual_needs_dns_bucket(self) -> Target:
        if self.addressing_style == "virtual" and "." in self.bucket:
            raise ValueError("a bucket with dots needs addressing_style 'path' (TLS names break otherwise)")
        return self


class EnvSecret(_Model):
    source: Literal["env"]
    name: str = Field(min_length=1)


class SecretsManagerSecret(_Model):
    source: Literal["secretsmanager"]
    secret_id: str = Field(min_length=1)


SecretRef = Annotated[EnvSecret | SecretsManagerSecret, Field(discriminator="source")]


class AuthSettings(_Model):
    """How callers are authenticated (HS256 shared secrets for now)."""

    mode: Literal["hs256"] = "hs256"
    issuer: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    # Newest first, so a secret can be rotated without downtime.
    secrets: list[SecretRef] = Field(min_length=1)
    leeway_seconds: int = Field(default=30, ge=0, le=60)


class Settings(_Model):
    targets: dict[str, Target] = Field(min_length=1)
    default_target: str
    auth: AuthSettings
    # API Gateway allows 10 MB bodies; ours are small JSON documents.
    max_body_bytes: int = Field(default=256 * 1024, gt=0, le=10 * 1024**2)

    @model_validator(mode="after")
    def _default_exists(self) -> Settings:
        if self.default_target not in self.targets:
            raise ValueError(f"default_target {self.default_target!r} is not one of the targets")
        return self

    def target(self, name: str | None) -> tuple[str, Target]:
        chosen = name or self.default_target
        try:
            return chosen, self.targets[chosen]
        except KeyError:
            raise KeyError(chosen) from None


def parse_settings(document: str | bytes) -> Settings:
    """Validate the JSON document; every problem is named by its field path."""
    try:
        return Settings.model_validate_json(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(document)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid presign configuration: {problems}") from None
