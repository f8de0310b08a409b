"""The storage events function: the targets, the uploads table, the one completion path and each
target's storage (made on first use, which is when boto3 is imported)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from aws_lambda_powertools import Logger, Metrics

from presign.bootstrap.completion import build_completion
from presign.bootstrap.storage import ObjectStores
from presign.bootstrap.tables import cleanup_records, upload_records
from presign.cleanup.ports import RecordRef
from presign.clock import Clock, system_clock
from presign.config.settings import Settings
from presign.errors import ConfigurationError, DependencyUnavailable
from presign.limits import DAY, MAX_PRESIGN_EXPIRY
from presign.storage_events.service import StorageEvents


def target_gone() -> DependencyUnavailable:
    error = DependencyUnavailable("this upload's storage target is no longer configured")
    error.details["reason"] = "UnknownTarget"
    return error


def build_storage_events(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    logger: Logger,
    metrics: Metrics | None = None,
    clock: Clock = system_clock,
) -> StorageEvents:
    completion = build_completion(settings, environ, logger=logger, metrics=metrics, clock=clock)
    if completion is None:
        raise ConfigurationError("storage events complete uploads: they need upload_records.enabled: true")
    index = cleanup_records(settings, environ)
    # Uploads are pending until their URL (at most MAX_PRESIGN_EXPIRY) or a multipart upload's
    # lifetime ends; the cleanup takes them from lookback_days before now.
    ahead = max([MAX_PRESIGN_EXPIRY, *(t.upload.multipart.lifetime for t in settings.targets.values())])
    behind = settings.cleanup.lookback_days * DAY

    def pending() -> Iterator[RecordRef]:
        now = int(clock().timestamp())
        return index.pending_due(since=now - behind, before=now + ahead + 1)

    return StorageEvents(
        settings.targets,
        records=upload_records(settings, environ),
        completion=completion,
        objects=ObjectStores(settings, environ).by_name(target_gone),
        warn=lambda message, keys: logger.warning(message, extra=dict(keys)),
        pending=pending,
    )
