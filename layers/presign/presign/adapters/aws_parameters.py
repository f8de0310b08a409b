"""Secrets Manager and SSM reads through Powertools Parameters (cached, so warm calls are free)."""

from __future__ import annotations

from typing import Any

from presign.errors import ConfigurationError, DependencyUnavailable

# Secrets are re-read at most this often, so a rotated secret is picked up without a redeploy.
CACHE_SECONDS = 300


def _translate(kind: str, name: str, error: Exception) -> Exception:
    from botocore.exceptions import BotoCoreError, ClientError

    # Powertools re-raises the SDK's error as GetParameterError without "from", so the original
    # is the implicit context; it says whether the problem is ours (404, 403) or the service's.
    original = error.__cause__ or error.__context__
    exc = original if isinstance(original, Exception) else error
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ResourceNotFoundException", "ParameterNotFound", "AccessDeniedException"):
            return ConfigurationError(f"{kind} {name!r} cannot be read ({code})")
        return DependencyUnavailable(f"{kind} is unavailable")
    if isinstance(exc, BotoCoreError):
        return DependencyUnavailable(f"{kind} is unavailable")
    return DependencyUnavailable(f"{kind} is unavailable")


def get_secret(secret_id: str, *, as_json: bool = False) -> Any:
    from aws_lambda_powertools.utilities import parameters

    try:
        return parameters.get_secret(secret_id, transform="json" if as_json else None, max_age=CACHE_SECONDS)
    except parameters.exceptions.TransformParameterError as exc:
        raise ConfigurationError(f"secret {secret_id!r} is not valid JSON") from exc
    except parameters.exceptions.GetParameterError as exc:
        raise _translate("Secrets Manager", secret_id, exc) from exc


def get_ssm_parameter(name: str, *, as_json: bool = False) -> Any:
    from aws_lambda_powertools.utilities import parameters

    try:
        return parameters.get_parameter(
            name, decrypt=True, transform="json" if as_json else None, max_age=CACHE_SECONDS
        )
    except parameters.exceptions.TransformParameterError as exc:
        raise ConfigurationError(f"SSM parameter {name!r} is not valid JSON") from exc
    except parameters.exceptions.GetParameterError as exc:
        raise _translate("SSM", name, exc) from exc
