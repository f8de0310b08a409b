"""Cold-start wiring of the cleanup: the configuration, the tables and each target's storage.

Reads the environment mapping it is given (never ``os.environ``). Builds no authenticator and no
rate limiter: cleanup serves no caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from presign.cleanup.ports import CleanupRecords, CleanupShares, SweepStorage
from presign.cleanup.runner import Cleanup, Warn
from presign.clock import Clock, system_clock
from presign.config import Settings
from presign.errors import ConfigurationError, DependencyUnavailable

UPLOADS_TABLE_VAR = "PRESIGN_UPLOADS_TABLE"
SHARES_TABLE_VAR = "PRESIGN_SHARES_TABLE"


def build_cleanup(
    settings: Settings, environ: Mapping[str, str], *, warn: Warn, clock: Clock = system_clock
) -> Cleanup:
    from presign.adapters.dynamodb_cleanup import DynamoDbCleanupRecords, DynamoDbCleanupShares
    from presign.adapters.dynamodb_ratelimit import rate_limit_client

    records: CleanupRecords | None = None
    shares: CleanupShares | None = None
    if settings.upload_records.enabled:
        table = settings.upload_records.table_name or environ.get(UPLOADS_TABLE_VAR, "").strip()
        if not table:
            raise ConfigurationError(f"upload records are enabled but {UPLOADS_TABLE_VAR} is not set")
        records = DynamoDbCleanupRecords(rate_limit_client(), table)
    if settings.shares.enabled:
        table = settings.shares.table_name or environ.get(SHARES_TABLE_VAR, "").strip()
        if not table:
            raise ConfigurationError(f"shares are enabled but {SHARES_TABLE_VAR} is not set")
        shares = DynamoDbCleanupShares(rate_limit_client(), table)
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
    )


def storages(settings: Settings, environ: Mapping[str, str]) -> Callable[[str], SweepStorage]:
    """Each target's storage, made on first use (that is when boto3 is imported)."""
    made: dict[str, SweepStorage] = {}
    lock = threading.Lock()

    def storage(name: str) -> SweepStorage:
        with lock:
            if name not in made:
                target = settings.targets.get(name)
                if target is None:
                    error = DependencyUnavailable("this item's storage target is no longer configured")
                    error.details["reason"] = "UnknownTarget"
                    raise error
                from presign.adapters.s3_control import S3ObjectStore

                made[name] = S3ObjectStore(name, target, environ)
            return made[name]

    return storage
