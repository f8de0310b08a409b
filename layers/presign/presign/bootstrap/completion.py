"""The one completion path for callers that serve no client: the cleanup and the storage events.

Reads the environment mapping it is given (never ``os.environ``); imports the audit adapter only
when it builds one.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools import Logger, Metrics

from presign.bootstrap.tables import upload_records
from presign.clock import Clock, system_clock
from presign.config.settings import Settings
from presign.core.owners import Namespace
from presign.uploads.completion import Completion


def build_completion(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    logger: Logger | None,
    metrics: Metrics | None = None,
    clock: Clock = system_clock,
) -> Completion | None:
    """The one completion path for callers that serve no client (the cleanup, storage events):
    the uploads table, the targets' settings, the audit line (and its metrics) through
    ``logger``; None without upload records."""
    if not settings.upload_records.enabled:
        return None
    from presign.adapters.audit import UploadAudit

    namespace = Namespace.of(settings)
    audit = UploadAudit(logger, namespace, metrics) if logger is not None else None
    return Completion(
        upload_records(settings, environ),
        settings.upload_records,
        clock=clock,
        audit=audit,
        namespace=namespace,
        target_settings=settings.targets,
    )
