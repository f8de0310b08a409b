"""Where each target's signing credentials come from, and one cached presigner per target."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from presign.adapters.aws_parameters import get_secret, get_ssm_parameter
from presign.adapters.role import role_credentials
from presign.clock import Clock
from presign.config.secrets import (
    CredentialSource,
    EnvCredentials,
    RoleCredentials,
    SecretsManagerCredentials,
)
from presign.config.settings import MAX_EXPIRY_WITH_TEMPORARY_CREDENTIALS
from presign.config.target import Target
from presign.errors import ConfigurationError
from presign.signing.context import SigningContext
from presign.signing.sigv4 import S3Presigner, SigningCredentials


def _from_document(doc: Any, where: str) -> SigningCredentials:
    if not isinstance(doc, dict) or not doc.get("access_key_id") or not doc.get("secret_access_key"):
        raise ConfigurationError(f"{where} must hold JSON with access_key_id and secret_access_key")
    return SigningCredentials(
        access_key_id=str(doc["access_key_id"]),
        secret_access_key=str(doc["secret_access_key"]),
        session_token=doc.get("session_token") or None,
    )


def resolve_credentials(source: CredentialSource, environ: Mapping[str, str]) -> SigningCredentials:
    if isinstance(source, RoleCredentials):
        return role_credentials(environ)
    if isinstance(source, EnvCredentials):
        key, secret = environ.get(source.access_key_id_var), environ.get(source.secret_access_key_var)
        if not key or not secret:
            raise ConfigurationError(
                f"{source.access_key_id_var} and {source.secret_access_key_var} must be set"
            )
        return SigningCredentials(access_key_id=key, secret_access_key=secret)
    if isinstance(source, SecretsManagerCredentials):
        return _from_document(get_secret(source.secret_id, as_json=True), f"secret {source.secret_id!r}")
    return _from_document(
        get_ssm_parameter(source.parameter, as_json=True), f"parameter {source.parameter!r}"
    )


def _check_lifetime(name: str, target: Target, credentials: SigningCredentials) -> None:
    """Stored temporary credentials (a session token, no expiry we know of) sign an hour at most.

    Role credentials are held to the same limit by the configuration itself; stored ones can only
    be told apart once read, which ``Runtime`` does at cold start.
    """
    if isinstance(target.credentials, RoleCredentials) or not credentials.session_token:
        return
    too_long = [
        f"{field}.max_expiry ({policy.max_expiry} s)"
        for field, policy in (("upload", target.upload), ("download", target.download))
        if policy.max_expiry > MAX_EXPIRY_WITH_TEMPORARY_CREDENTIALS
        # Through a CDN, downloads are signed with the CloudFront key, not these credentials.
        and not (field == "download" and target.cdn is not None)
    ]
    if too_long:
        raise ConfigurationError(
            f"targets.{name}: the stored credentials carry a session_token, so they are temporary "
            f"and may expire before {' and '.join(too_long)} ends. Keep max_expiry at "
            f"{MAX_EXPIRY_WITH_TEMPORARY_CREDENTIALS} or less, or store a dedicated access key "
            "(access_key_id and secret_access_key, no session_token) in Secrets Manager"
        )


class SignerProvider:
    """One presigner per target, rebuilt only when its credentials change (rotation)."""

    def __init__(self, environ: Mapping[str, str], clock: Clock) -> None:
        self._environ = environ
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[SigningCredentials, S3Presigner]] = {}

    def for_target(self, name: str, target: Target) -> SigningContext:
        credentials = resolve_credentials(target.credentials, self._environ)
        # Also on every request: a secret rotated to temporary keys must not sign week-long links.
        _check_lifetime(name, target, credentials)
        with self._lock:
            cached = self._cache.get(name)
            if cached is None or cached[0] != credentials:
                presigner = S3Presigner(
                    credentials=credentials,
                    region=target.region,
                    endpoint_url=target.endpoint_url,
                    addressing_style=target.addressing_style,
                )
                cached = self._cache[name] = (credentials, presigner)
        return SigningContext(
            presigner=cached[1], credentials_expire_at=credentials.expires_at, clock=self._clock
        )
