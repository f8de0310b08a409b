"""The upload routes' service: the records table, the targets and their signers, the audit log, and
each target's storage (made on first use, which is when boto3 is imported)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from presign.bootstrap.runtime import Runtime
from presign.bootstrap.tables import upload_records
from presign.errors import ConfigurationError
from presign.uploads.ledger import target_gone
from presign.uploads.ports import ObjectsFor
from presign.uploads.service import Uploads


def build_uploads(
    runtime: Runtime, logger: Logger, *, required: bool = False, metrics: Metrics | None = None
) -> Uploads:
    """The uploads over their table; ``required`` refuses a configuration without records;
    ``metrics``: completions and rejections are counted there, by actor."""
    from presign.adapters.audit import UploadAudit

    settings = runtime.settings.upload_records
    if not settings.enabled and required:
        raise ConfigurationError(
            "the upload lifecycle routes need upload records (upload_records.enabled: true)"
        )
    store = upload_records(runtime.settings, runtime.environ) if settings.enabled else None
    return Uploads(
        store,
        settings,
        clock=runtime.clock,
        targets=runtime,
        audit=UploadAudit(logger, runtime.namespace, metrics),
        namespace=runtime.namespace,
    )


def upload_objects(runtime: Runtime) -> ObjectsFor:
    """Each target's storage, for the uploads: 410 for a target no longer configured."""
    return runtime.object_stores(target_gone)
