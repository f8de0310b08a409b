"""Cold-start wiring of share links: the shares table, the storage, the signers and the limits.

Reads the runtime's environment mapping (never ``os.environ``), like ``presign.runtime``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from presign.config import Target
from presign.errors import ConfigurationError, NotFound
from presign.lifecycle.store import ObjectStore
from presign.runtime import Runtime
from presign.shares.service import AuditEvent, AuditSink, ObjectsFor, Shares, Signer
from presign.signing_context import SigningContext

SHARES_TABLE_VAR = "PRESIGN_SHARES_TABLE"
UPLOADS_TABLE_VAR = "PRESIGN_UPLOADS_TABLE"


def build_shares(runtime: Runtime, *, audit: AuditSink | None = None, with_uploads: bool = False) -> Shares:
    """The share routes over the shares table; ``with_uploads``: creation checks upload records."""
    settings = runtime.settings.shares
    if not settings.enabled:
        raise ConfigurationError("the share routes need shares.enabled: true (and a shares table)")
    table = settings.table_name or runtime.environ.get(SHARES_TABLE_VAR, "").strip()
    if not table:
        raise ConfigurationError(f"shares are enabled but {SHARES_TABLE_VAR} is not set")
    # Both lean (no botocore): the same DynamoDB client, and pool, as the rate limiter's.
    from presign.adapters.dynamodb_ratelimit import rate_limit_client
    from presign.adapters.dynamodb_shares import DynamoDbShareStore

    uploads = None
    records = runtime.settings.upload_records
    if with_uploads and records.enabled:
        uploads_table = records.table_name or runtime.environ.get(UPLOADS_TABLE_VAR, "").strip()
        if not uploads_table:
            raise ConfigurationError(
                f"upload records are enabled but {UPLOADS_TABLE_VAR} is not set "
                "(set it, or upload_records.enabled: false)"
            )
        from presign.adapters.dynamodb_uploads import DynamoDbRecordStore

        uploads = DynamoDbRecordStore(rate_limit_client(), uploads_table)
    store = DynamoDbShareStore(rate_limit_client(), table)
    return Shares(
        store, settings, clock=runtime.clock, uploads=uploads, audit=audit, namespace=runtime.namespace
    )


def object_stores(runtime: Runtime) -> ObjectsFor:
    """Each target's storage, made on first use (that is when boto3 is imported)."""
    made: dict[str, ObjectStore] = {}
    lock = threading.Lock()

    def objects(name: str) -> ObjectStore:
        with lock:
            if name not in made:
                target = runtime.settings.targets.get(name)
                if target is None:
                    raise NotFound("this share's storage target is no longer configured")
                from presign.adapters.s3_control import S3ObjectStore

                made[name] = S3ObjectStore(name, target, runtime.environ)
            return made[name]

    return objects


def signer(runtime: Runtime) -> Signer:
    def sign_for(name: str) -> tuple[Target, SigningContext]:
        target = runtime.settings.targets.get(name)
        if target is None:
            raise NotFound("this share's storage target is no longer configured")
        return target, runtime.download_signing(name, target)

    return sign_for


class RuntimeLimits:
    """``PublicLimits`` on the runtime's rate limiter. Public visits are counted per client address
    (one item per address: a popular link spreads over its visitors) on the default target's
    lane; password attempts per address and per share."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def _spend(self, subject: str, action: str) -> None:
        budget = self._runtime.budget(subject, self._runtime.settings.default_target)
        budget.spend(action)

    def access(self, client: str) -> None:
        self._spend(f"ip:{client}", "share_access")

    def password(self, client: str, handle: str) -> None:
        self._spend(f"ip:{client}", "share_password")
        self._spend(f"share:{handle}", "share_password")


def audit_log(log: Callable[..., None], request_id: Callable[[], str]) -> AuditSink:
    """One structured line per access or owner action: the handle, never the id, a URL or a password."""

    def write(event: AuditEvent) -> None:
        extra = {
            "audit": True,
            "action": event.action,
            "share": event.handle,
            "outcome": event.outcome,
            "request_id": request_id(),
        }
        if event.client:
            extra["client_ip"] = event.client
        if event.owner:
            extra["who"] = event.owner
        log("share audit", extra=extra)

    return write
