"""The storage events function: the targets, the uploads table, the one completion path and each
target's storage (made on first use, which is when boto3 is imported)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools import Logger, Metrics

from presign.bootstrap.completion import build_completion
from presign.bootstrap.storage import ObjectStores
from presign.bootstrap.tables import upload_records
from presign.config.settings import Settings
from presign.errors import ConfigurationError, DependencyUnavailable
from presign.storage_events.service import StorageEvents


def target_gone() -> DependencyUnavailable:
    error = DependencyUnavailable("this upload's storage target is no longer configured")
    error.details["reason"] = "UnknownTarget"
    return error


def build_storage_events(
    settings: Settings, environ: Mapping[str, str], *, logger: Logger, metrics: Metrics | None = None
) -> StorageEvents:
    completion = build_completion(settings, environ, logger=logger, metrics=metrics)
    if completion is None:
        raise ConfigurationError("storage events complete uploads: they need upload_records.enabled: true")
    return StorageEvents(
        settings.targets,
        records=upload_records(settings, environ),
        completion=completion,
        objects=ObjectStores(settings, environ).by_name(target_gone),
        warn=lambda message, keys: logger.warning(message, extra=dict(keys)),
    )
