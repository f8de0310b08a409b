"""The ``auth`` section of the configuration: how callers are authenticated (``presign.auth``)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from presign.config.secrets import SecretRef


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


AuthMode = Literal["hs256", "oidc", "gateway"]
OidcAlgorithm = Literal["RS256", "PS256", "ES256"]
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# RFC 6749 section 3.3: a scope token is one or more printable ASCII characters except space, " and \.
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")


class RequiredScopes(_Model):
    """Scopes a caller's token must carry, per action; a caller needs every scope listed."""

    upload: list[str] = Field(default_factory=list)
    download: list[str] = Field(default_factory=list)
    share: list[str] = Field(default_factory=list)

    @field_validator("upload", "download", "share")
    @classmethod
    def _scope_tokens(cls, scopes: list[str]) -> list[str]:
        bad = [s for s in scopes if not _SCOPE_TOKEN.match(s)]
        if bad:
            raise ValueError(f"not valid OAuth scope tokens (RFC 6749 3.3): {bad}")
        return list(dict.fromkeys(scopes))


class AuthSettings(_Model):
    """How callers are authenticated; ``mode`` picks one of three verifiers.

    * ``hs256``: tokens signed with one of ``secrets`` (newest first, so a secret rotates without
      downtime). Only for a backend of our own: API Gateway's authorizer cannot verify HMAC.
    * ``oidc``: tokens signed by an identity provider with one of ``algorithms``; the public keys
      come from ``jwks_url`` and are cached (``jwks_cache_seconds``), never from the token itself.
    * ``gateway``: API Gateway's JWT authorizer has verified the token already (RSA keys only);
      the claims are read from the request context and re-checked for issuer, audience, expiry
      and subject.

    Fields that belong to another mode are refused rather than ignored, so a half-edited document
    fails at cold start instead of silently authenticating some other way.
    """

    mode: AuthMode = "hs256"
    issuer: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    leeway_seconds: int = Field(default=30, ge=0, le=60)
    # hs256: newest first, each re-read every secrets_cache_seconds so that a secret rotated or
    # revoked in Secrets Manager takes effect in warm containers without a redeploy. While the
    # store cannot be reached the last known values serve secrets_grace_seconds longer, then 503.
    secrets: list[SecretRef] = Field(default_factory=list)
    secrets_cache_seconds: int = Field(default=300, ge=10, le=3600)
    secrets_grace_seconds: int = Field(default=900, ge=0, le=3600)
    # oidc
    jwks_url: str | None = None
    algorithms: list[OidcAlgorithm] = Field(
        default_factory=lambda: list[OidcAlgorithm](["RS256"]), min_length=1
    )
    jwks_timeout_seconds: float = Field(default=2.0, gt=0, le=10)
    jwks_cache_seconds: int = Field(default=300, ge=30, le=86_400)
    # oidc and gateway: Cognito access tokens carry the app client id in ``client_id`` and no
    # ``aud``; API Gateway accepts that, and so do we when this is set.
    accept_client_id_as_audience: bool = False
    # All modes: refuse tokens issued to live longer than this (exp - iat); iat is then required.
    max_token_lifetime_seconds: int | None = Field(default=None, ge=60, le=604_800)
    required_scopes: RequiredScopes = Field(default_factory=RequiredScopes)

    @field_validator("issuer", "audience")
    @classmethod
    def _no_padding(cls, value: str) -> str:
        # Compared exactly, so stray whitespace from a copy-paste would reject every token.
        if value != value.strip():
            raise ValueError("must not start or end with whitespace")
        return value

    @field_validator("algorithms")
    @classmethod
    def _unique_algorithms(cls, algorithms: list[OidcAlgorithm]) -> list[OidcAlgorithm]:
        return list(dict.fromkeys(algorithms))

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            host = parts.hostname
            _ = parts.port  # raises ValueError on a malformed port
        except ValueError:
            raise ValueError("must be an absolute https:// URL") from None
        if parts.scheme not in ("https", "http") or not host:
            raise ValueError("must be an absolute https:// URL")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not carry credentials")
        if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
            raise ValueError("must use https (plain http only for 127.0.0.1 / localhost in local tests)")
        return url

    @model_validator(mode="after")
    def _fields_fit_mode(self) -> AuthSettings:
        owners = {
            "secrets": "hs256",
            "secrets_cache_seconds": "hs256",
            "secrets_grace_seconds": "hs256",
            "jwks_url": "oidc",
            "algorithms": "oidc",
            "jwks_timeout_seconds": "oidc",
            "jwks_cache_seconds": "oidc",
        }
        misplaced = sorted(f for f in self.model_fields_set if owners.get(f, self.mode) != self.mode)
        if misplaced:
            raise ValueError(f"{', '.join(misplaced)} cannot be used with mode {self.mode!r}")
        if self.mode == "hs256" and not self.secrets:
            raise ValueError("mode 'hs256' needs at least one entry in secrets (newest first)")
        if self.mode == "hs256" and self.accept_client_id_as_audience:
            raise ValueError("accept_client_id_as_audience is for Cognito (modes 'oidc' and 'gateway')")
        if self.mode == "oidc" and self.jwks_url is None:
            raise ValueError("mode 'oidc' needs jwks_url (the identity provider's JWKS endpoint)")
        return self
