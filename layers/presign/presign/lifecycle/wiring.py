"""Cold-start wiring of the lifecycle: the records store and each target's storage.

Reads the runtime's environment mapping (never ``os.environ``), like ``presign.runtime``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from presign.auth import Principal
from presign.errors import ConfigurationError, PresignError, UploadGone
from presign.keys import user_prefix
from presign.lifecycle.service import AuditEvent, AuditSink, Lifecycle, ObjectsFor
from presign.lifecycle.store import ObjectStore
from presign.runtime import Budget, Runtime

UPLOADS_TABLE_VAR = "PRESIGN_UPLOADS_TABLE"


def build_lifecycle(runtime: Runtime, *, audit: AuditSink | None = None, required: bool = False) -> Lifecycle:
    """The lifecycle over the uploads table; ``required`` refuses a configuration without records."""
    settings = runtime.settings.upload_records
    if not settings.enabled:
        if required:
            raise ConfigurationError(
                "the upload lifecycle routes need upload records (upload_records.enabled: true)"
            )
        return Lifecycle(None, settings, clock=runtime.clock, audit=audit, namespace=runtime.namespace)
    table = settings.table_name or runtime.environ.get(UPLOADS_TABLE_VAR, "").strip()
    if not table:
        raise ConfigurationError(
            f"upload records are enabled but {UPLOADS_TABLE_VAR} is not set "
            "(set it, or upload_records.enabled: false for a local run without a table)"
        )
    # Both lean (no botocore): the same DynamoDB client, and pool, as the rate limiter's.
    from presign.adapters.dynamodb_ratelimit import rate_limit_client
    from presign.adapters.dynamodb_uploads import DynamoDbRecordStore

    store = DynamoDbRecordStore(rate_limit_client(), table)
    return Lifecycle(store, settings, clock=runtime.clock, audit=audit, namespace=runtime.namespace)


def object_stores(runtime: Runtime) -> ObjectsFor:
    """The storage of each configured target, made on first use (that is when boto3 is imported)."""
    made: dict[str, ObjectStore] = {}
    lock = threading.Lock()

    def objects(name: str) -> ObjectStore:
        with lock:
            if name not in made:
                target = runtime.settings.targets.get(name)
                if target is None:
                    raise UploadGone("this upload's storage target is no longer configured")
                from presign.adapters.s3_control import S3ObjectStore

                made[name] = S3ObjectStore(name, target, runtime.environ)
            return made[name]

    return objects


class Spending:
    """One request's spending of ``action``, on the lane of the target it turns out to concern.

    ``subject``: the caller's ``Owner.subject``.
    """

    def __init__(self, runtime: Runtime, subject: str, action: str) -> None:
        self._runtime = runtime
        self._subject = subject
        self._action = action
        self._budget: Budget | None = None

    def __call__(self, target: str, cost: int = 1) -> None:
        self._budget = self._runtime.budget(self._subject, target)
        self._budget.spend(self._action, cost)

    def headers(self) -> dict[str, str]:
        return self._budget.headers() if self._budget is not None else {}


def audit_log(
    log: Callable[..., None],
    request_id: Callable[[], str],
    *,
    runtime: Runtime,
    principal: Callable[[], Principal],
) -> AuditSink:
    """An ``AuditSink`` writing one structured line per state change (never a URL).

    The caller appears only as the digest ``who``: the object key is logged relative to the
    caller's own prefix (``~/2026/12/01/<upload_id>/cat.png``), since the prefix holds the ``sub``
    itself (``users/{sub}/``) and a log line must not.
    """

    def write(event: AuditEvent) -> None:
        log(
            "upload audit",
            extra={
                "audit": True,
                "who": event.owner,
                "action": event.action,
                "target": event.target,
                "key": _within_namespace(event, runtime, principal),
                "upload_id": event.upload_id,
                "outcome": event.outcome,
                "request_id": request_id(),
            },
        )

    return write


def _within_namespace(event: AuditEvent, runtime: Runtime, principal: Callable[[], Principal]) -> str:
    try:
        _, target = runtime.target(event.target)
        prefix = user_prefix(target.key_prefix, principal())
    except PresignError:
        prefix = None
    if prefix is not None and event.key.startswith(prefix):
        return "~/" + event.key[len(prefix) :]
    # Not under the caller's prefix as configured now: keep only what the server made itself.
    _, marker, tail = event.key.partition(f"/{event.upload_id}/")
    return f"~/.../{event.upload_id}/{tail}" if marker else "~/..."
