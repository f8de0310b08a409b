"""The scheduled cleanup: the configuration, the tables and each target's storage.

Reads the environment mapping it is given (never ``os.environ``). Builds no authenticator and no
rate limiter: cleanup serves no caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aws_lambda_powertools import Logger, Metrics

from presign.bootstrap.completion import build_completion
from presign.bootstrap.storage import ObjectStores
from presign.bootstrap.tables import cleanup_records, cleanup_shares
from presign.cleanup.ports import CleanupRecords, CleanupShares, SweepStorage
from presign.cleanup.runner import Cleanup, Warn
from presign.clock import Clock, system_clock
from presign.config.settings import Settings
from presign.errors import DependencyUnavailable


def item_gone() -> DependencyUnavailable:
    """An item whose target is no longer configured: counted as the run's error, never a crash."""
    error = DependencyUnavailable("this item's storage target is no longer configured")
    error.details["reason"] = "UnknownTarget"
    return error


def build_cleanup(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    warn: Warn,
    clock: Clock = system_clock,
    logger: Logger | None = None,
    metrics: Metrics | None = None,
) -> Cleanup:
    """``logger``: where the completions the cleanup makes write their audit lines (and
    ``metrics`` their counts); None writes none (tests)."""
    records: CleanupRecords | None = (
        cleanup_records(settings, environ) if settings.upload_records.enabled else None
    )
    shares: CleanupShares | None = cleanup_shares(settings, environ) if settings.shares.enabled else None
    cleanup = settings.cleanup
    return Cleanup(
        cleanup,
        targets=settings.targets,
        records=records,
        shares=shares,
        storage=storages(settings, environ),
        clock=clock,
        closed_retention=settings.upload_records.closed_retention,
        share_grace=cleanup.share_grace if cleanup.share_grace is not None else settings.shares.retention,
        warn=warn,
        completion=build_completion(settings, environ, logger=logger, metrics=metrics, clock=clock),
    )


def storages(settings: Settings, environ: Mapping[str, str]) -> Callable[[str], SweepStorage]:
    """Each target's storage, made on first use (that is when boto3 is imported)."""
    return ObjectStores(settings, environ).by_name(item_gone)
