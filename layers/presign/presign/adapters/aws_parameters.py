"""Secrets Manager ``GetSecretValue`` and SSM ``GetParameter`` on the project's small AWS JSON client.

**Why not Powertools Parameters (boto3).** The default deployment keeps its configuration in SSM and
its HS256 secret in Secrets Manager, so with boto3 here every cold start imported botocore and made
two clients just to read them: the cost ``presign.adapters.aws_json`` exists to avoid (botocore is
~155 ms of a cold start). Both services speak the same JSON protocol as DynamoDB, signed by
``presign.signing.sigv4``. No request path of the functions imports botocore.

**Where requests go**, as the SDK decides it: the region is ``AWS_REGION`` (Lambda sets it) or
``AWS_DEFAULT_REGION``; the endpoint ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` / ``AWS_ENDPOINT_URL_SSM``,
then ``AWS_ENDPOINT_URL`` (local runs and tests), else the regional one. They are signed with the
function role's credentials (``role_credentials``, read from the process environment per request).

**Errors** are translated here and nowhere else. What says the value cannot be had (not found,
access denied, a KMS key it may not use, a secret scheduled for deletion, a malformed name) is a
``ConfigurationError`` naming it: at cold start it stops the function, later it means the value was
removed. Everything else (throttling, 5xx, timeouts, refused connections, an answer we do not
understand) is ``DependencyUnavailable``: it may work on the next try. The service's own message
never reaches a response.

**Caching.** ``fetch_secret`` / ``fetch_ssm_parameter`` read every time: the HS256 verifier caches
secrets itself (``auth.secrets_cache_seconds``) and the configuration is read once per container.
``get_secret`` / ``get_ssm_parameter`` (the targets' stored credentials, asked for on every request)
go through a ``ParameterCache``: re-read every ``CACHE_SECONDS``, kept ``GRACE_SECONDS`` longer while
the store is down, one fetch at a time (``presign.core.refreshing``).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from presign.adapters.aws_json import AwsJsonClient, AwsServiceError, AwsUnavailable
from presign.core.refreshing import Refreshing
from presign.errors import ConfigurationError, DependencyUnavailable

# Stored credentials are re-read at most this often, so a rotated key is picked up without a redeploy.
CACHE_SECONDS = 300
# ... and kept this much longer while the store cannot be reached, then requests answer 503.
GRACE_SECONDS = 900
# A cold start reads the configuration and each secret once; a store slower than this is an outage
# better answered with a quick 503 (the functions' timeout is 6 s).
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0
MAX_ATTEMPTS = 2

# The codes that mean "this value cannot be had", not "try again". Anything else is unavailable,
# so an error we did not foresee can never make a secret look removed.
_GONE = frozenset(
    (
        "ResourceNotFoundException",  # Secrets Manager: no such secret (or deleted)
        "InvalidRequestException",  # Secrets Manager: scheduled for deletion, or no AWSCURRENT version
        "InvalidParameterException",  # Secrets Manager: a malformed secret id
        "DecryptionFailure",  # Secrets Manager: the KMS key refused
        "ParameterNotFound",  # SSM
        "ParameterVersionNotFound",  # SSM
        "InvalidKeyId",  # SSM: the SecureString's KMS key is disabled or not usable
        "AccessDeniedException",  # IAM or KMS: this role may not read it
    )
)


class _Service:
    def __init__(self, *, name: str, label: str, endpoint_var: str, target_prefix: str, kind: str) -> None:
        self.name = name  # the SigV4 service name and endpoint prefix
        self.label = label
        self.endpoint_var = endpoint_var
        self.target_prefix = target_prefix
        self.kind = kind  # how a value is named in messages: "secret", "SSM parameter"


SECRETS_MANAGER = _Service(
    name="secretsmanager",
    label="Secrets Manager",
    endpoint_var="AWS_ENDPOINT_URL_SECRETS_MANAGER",
    target_prefix="secretsmanager",
    kind="secret",
)
SSM = _Service(
    name="ssm",
    label="SSM",
    endpoint_var="AWS_ENDPOINT_URL_SSM",
    target_prefix="AmazonSSM",
    kind="SSM parameter",
)


@lru_cache(maxsize=8)
def _client(service: str, target_prefix: str, region: str, endpoint_url: str | None) -> AwsJsonClient:
    # credentials.py imports this module (stored credentials), so its helper is imported late.
    from presign.adapters.role import role_credentials

    return AwsJsonClient(
        service=service,
        region=region,
        endpoint_url=endpoint_url,
        credentials_provider=lambda: role_credentials(os.environ),
        target_prefix=target_prefix,
        content_type="application/x-amz-json-1.1",
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        max_attempts=MAX_ATTEMPTS,
        max_pool_connections=2,
    )


def _where(service: _Service, environ: Mapping[str, str]) -> tuple[str, str | None]:
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigurationError(f"AWS_REGION (or AWS_DEFAULT_REGION) must be set to read {service.label}")
    endpoint = environ.get(service.endpoint_var) or environ.get("AWS_ENDPOINT_URL")
    return region, endpoint or None


def _call(service: _Service, operation: str, payload: dict[str, Any], name: str) -> dict[str, Any]:
    region, endpoint = _where(service, os.environ)
    client = _client(service.name, service.target_prefix, region, endpoint)
    try:
        return client.call(operation, payload)
    except AwsServiceError as exc:
        if exc.code in _GONE:
            raise ConfigurationError(f"{service.kind} {name!r} cannot be read ({exc.code})") from None
        raise DependencyUnavailable(f"{service.label} is unavailable") from exc
    except AwsUnavailable as exc:
        raise DependencyUnavailable(f"{service.label} is unavailable") from exc


def fetch_secret(secret_id: str, version_stage: str | None = None) -> str:
    """The ``SecretString`` of a secret (its ``AWSCURRENT`` version, or ``version_stage``), read now."""
    payload = {"SecretId": secret_id, **({"VersionStage": version_stage} if version_stage else {})}
    answer = _call(SECRETS_MANAGER, "GetSecretValue", payload, secret_id)
    value = answer.get("SecretString")
    if not isinstance(value, str):
        raise ConfigurationError(
            f"secret {secret_id!r} must hold a SecretString (binary secrets are not read)"
        )
    return value


def fetch_ssm_parameter(name: str) -> str:
    """The value of a parameter, decrypted if it is a SecureString, read now."""
    answer = _call(SSM, "GetParameter", {"Name": name, "WithDecryption": True}, name)
    value = answer.get("Parameter", {}).get("Value") if isinstance(answer.get("Parameter"), dict) else None
    if not isinstance(value, str):
        raise DependencyUnavailable("SSM is unavailable")  # a 200 without a value is not an answer
    return value


def _as_json(kind: str, name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ConfigurationError(f"{kind} {name!r} is not valid JSON") from None


class ParameterCache:
    """Values re-read every ``ttl`` seconds and kept ``grace`` longer through an outage (see the module)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = CACHE_SECONDS,
        grace: float = GRACE_SECONDS,
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._grace = grace
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], Refreshing[Any]] = {}

    def secret(self, secret_id: str, *, as_json: bool = False) -> Any:
        return self._get(SECRETS_MANAGER, secret_id, as_json, fetch_secret)

    def parameter(self, name: str, *, as_json: bool = False) -> Any:
        return self._get(SSM, name, as_json, fetch_ssm_parameter)

    def _get(self, service: _Service, name: str, as_json: bool, fetch: Callable[[str], str]) -> Any:
        # Keyed by where the value comes from too: a test (or `make dev`) may point elsewhere.
        key = (service.name, name, as_json, *_where(service, os.environ))
        entry = self._entries.get(key)
        if entry is None:
            with self._lock:
                entry = self._entries.get(key)
                if entry is None:

                    def read() -> Any:
                        text = fetch(name)
                        return _as_json(service.kind, name, text) if as_json else text

                    entry = self._entries[key] = Refreshing(
                        read, ttl=self._ttl, grace=self._grace, clock=self._clock
                    )
        return entry.get()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = ParameterCache()


def get_secret(secret_id: str, *, as_json: bool = False) -> Any:
    """A secret's value (parsed as JSON if asked), cached: see ``ParameterCache``."""
    return _cache.secret(secret_id, as_json=as_json)


def get_ssm_parameter(name: str, *, as_json: bool = False) -> Any:
    """A parameter's value, decrypted (parsed as JSON if asked), cached: see ``ParameterCache``."""
    return _cache.parameter(name, as_json=as_json)


def clear_caches() -> None:
    """Forget every cached value and client (tests; a container never needs to)."""
    _cache.clear()
    _client.cache_clear()
