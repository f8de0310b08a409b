"""The share routes' service: the shares table (and the uploads table, for creation), each target's
storage and GET signer, the visitors' limits and the audit log."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from presign.bootstrap.runtime import Runtime
from presign.bootstrap.tables import share_records, upload_records
from presign.config.target import Target
from presign.errors import ConfigurationError, NotFound
from presign.shares.links import Signer
from presign.shares.service import Shares
from presign.signing.context import SigningContext
from presign.uploads.ports import ObjectsFor


def share_gone() -> NotFound:
    """What a share whose target is no longer configured answers (the route makes it 410 or 404)."""
    return NotFound("this share's storage target is no longer configured")


def build_shares(runtime: Runtime, logger: Logger, metrics: Metrics, *, with_uploads: bool = False) -> Shares:
    """The share routes over the shares table; ``with_uploads``: creation checks upload records."""
    from presign.adapters.audit import ShareAudit

    settings = runtime.settings
    if not settings.shares.enabled:
        raise ConfigurationError("the share routes need shares.enabled: true (and a shares table)")
    store = share_records(settings, runtime.environ)
    uploads = (
        upload_records(settings, runtime.environ)
        if with_uploads and settings.upload_records.enabled
        else None
    )
    return Shares(
        store,
        settings.shares,
        clock=runtime.clock,
        uploads=uploads,
        audit=ShareAudit(logger, metrics),
        namespace=runtime.namespace,
    )


def share_objects(runtime: Runtime) -> ObjectsFor:
    """Each target's storage, for the shares."""
    return runtime.object_stores(share_gone)


def share_signer(runtime: Runtime) -> Signer:
    """A target's policy and GET signer (through its CDN), by name."""

    def sign_for(name: str) -> tuple[Target, SigningContext]:
        _, target = runtime.target(name, share_gone)
        return target, runtime.download_signing(name, target)

    return sign_for


class VisitorLimits:
    """``PublicLimits`` on the runtime's rate limiter. Public visits are counted per client address
    (one item per address: a popular link spreads over its visitors) on the default target's
    lane; password attempts per address and per share."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def access(self, client: str) -> None:
        self._runtime.spending(f"ip:{client}", "share_access").spend()

    def password(self, client: str, handle: str) -> None:
        self._runtime.spending(f"ip:{client}", "share_password").spend()
        self._runtime.spending(f"share:{handle}", "share_password").spend()
