"""Reading the configuration document and secrets from where the deployment put them."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from presign.adapters.aws_parameters import fetch_secret, fetch_ssm_parameter
from presign.config.secrets import EnvSecret, SecretRef
from presign.config.settings import Settings, parse_settings, plain_http_targets
from presign.errors import ConfigurationError

CONFIG_VAR = "PRESIGN_CONFIG"
CONFIG_PARAMETER_VAR = "PRESIGN_CONFIG_PARAMETER"
_log = logging.getLogger(__name__)


def load_settings(environ: Mapping[str, str]) -> Settings:
    """The configuration from ``PRESIGN_CONFIG`` (JSON) or the SSM parameter named by
    ``PRESIGN_CONFIG_PARAMETER``: exactly one of them. Read once, at cold start."""
    inline = environ.get(CONFIG_VAR, "").strip()
    parameter = environ.get(CONFIG_PARAMETER_VAR, "").strip()
    if bool(inline) == bool(parameter):
        raise ConfigurationError(f"set exactly one of {CONFIG_VAR} or {CONFIG_PARAMETER_VAR}")
    document = inline or fetch_ssm_parameter(parameter)
    settings = parse_settings(document)
    for name, endpoint in plain_http_targets(settings).items():
        _log.warning(
            "targets.%s.endpoint_url is plain http outside loopback (allow_plain_http): presigned "
            "URLs, their signatures and the files cross the network unencrypted",
            name,
            extra={"target": name, "endpoint_url": endpoint},
        )
    return settings


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
