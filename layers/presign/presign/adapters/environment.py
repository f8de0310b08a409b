"""Reading the configuration document and secrets from where the deployment put them."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping

from presign.adapters.aws_json import THROTTLING_CODES, AwsServiceError
from presign.adapters.aws_parameters import fetch_secret, fetch_ssm_parameter
from presign.config.secrets import EnvSecret, SecretRef
from presign.config.settings import Settings, parse_settings, plain_http_targets
from presign.errors import ConfigurationError, DependencyUnavailable

CONFIG_VAR = "PRESIGN_CONFIG"
CONFIG_PARAMETER_VAR = "PRESIGN_CONFIG_PARAMETER"
# SSM answers GetParameter 40 times a second per account (standard throughput): a deploy or a
# scale-up that starts more containers than that at once is throttled (docs/capacity.md,
# bottleneck 2). Each read already retries once inside the client; these attempts spread the
# rest out with full jitter, up to 0.25 + 0.5 + 1 s (<= 1.75 s of a 10 s init) before giving up.
CONFIG_READ_ATTEMPTS = 4
CONFIG_READ_BACKOFF_SECONDS = 0.25
_log = logging.getLogger(__name__)


def load_settings(environ: Mapping[str, str]) -> Settings:
    """The configuration from ``PRESIGN_CONFIG`` (JSON) or the SSM parameter named by
    ``PRESIGN_CONFIG_PARAMETER``: exactly one of them. Read once, at cold start."""
    inline = environ.get(CONFIG_VAR, "").strip()
    parameter = environ.get(CONFIG_PARAMETER_VAR, "").strip()
    if bool(inline) == bool(parameter):
        raise ConfigurationError(f"set exactly one of {CONFIG_VAR} or {CONFIG_PARAMETER_VAR}")
    document = inline or read_configuration_parameter(parameter)
    settings = parse_settings(document)
    for name, endpoint in plain_http_targets(settings).items():
        _log.warning(
            "targets.%s.endpoint_url is plain http outside loopback (allow_plain_http): presigned "
            "URLs, their signatures and the files cross the network unencrypted",
            name,
            extra={"target": name, "endpoint_url": endpoint},
        )
    return settings


def read_configuration_parameter(
    name: str,
    *,
    fetch: Callable[[str], str] = fetch_ssm_parameter,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
) -> str:
    """The configuration parameter, read again after throttling (full-jitter backoff, at most
    ``CONFIG_READ_ATTEMPTS`` reads). Anything else that is unavailable (a timeout, a 5xx) is not
    retried here: its attempts already took seconds of the cold start."""
    for attempt in range(1, CONFIG_READ_ATTEMPTS + 1):
        try:
            return fetch(name)
        except DependencyUnavailable as exc:
            if attempt == CONFIG_READ_ATTEMPTS or not _throttled(exc):
                raise
            sleep(rand() * CONFIG_READ_BACKOFF_SECONDS * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _throttled(exc: DependencyUnavailable) -> bool:
    cause = exc.__cause__
    return isinstance(cause, AwsServiceError) and cause.code in THROTTLING_CODES


def secret_resolver(environ: Mapping[str, str]) -> SecretResolver:
    return SecretResolver(environ)


class SecretResolver:
    """A secret's current value, read on every call: the HS256 verifier decides how often to ask
    (``auth.secrets_cache_seconds``), so caching here would only make a revocation take longer."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def __call__(self, ref: SecretRef) -> str:
        if isinstance(ref, EnvSecret):
            value = self._environ.get(ref.name)
            if value is None:
                raise ConfigurationError(f"environment variable {ref.name} is not set")
            return value
        return fetch_secret(ref.secret_id)
