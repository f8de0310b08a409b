"""The public share link's logic: ``GET /s/{share_id}`` and ``POST /s/{share_id}`` hand a visitor one
short-lived URL, or say why not; every outcome is one audit line.

``Opening`` is the base of ``presign.shares.service.Shares``, which adds the owner's routes; the
ports a visit needs (the visitor's limits, each target's storage and signer) come with the call.
Which writes a visit makes, and why counting is exact, is in ``records``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, Protocol

from presign.clock import Clock, isoformat_z
from presign.config.shares import ShareSettings
from presign.config.target import Target
from presign.core.contentdisposition import content_disposition
from presign.core.expiry import choose_expiry
from presign.core.filenames import served_filename
from presign.core.owners import Namespace
from presign.downloads.schemas import DownloadsRequest
from presign.downloads.service import cache_control_for, response_overrides
from presign.errors import (
    NotFound,
    PasswordInvalid,
    PasswordRequired,
    PresignError,
    RateLimited,
    ShareExhausted,
    ShareExpired,
    ShareLocked,
    ShareObjectGone,
    ShareRevoked,
)
from presign.shares.ids import handle_of, is_share_id, new_share_id
from presign.shares.passwords import PasswordHasher
from presign.shares.ports import ShareStore
from presign.shares.records import Share
from presign.signing.context import SigningContext
from presign.uploads.ports import ObjectsFor, RecordStore

Outcome = Literal[
    "granted",
    "password_required",
    "password_invalid",
    "locked",
    "not_found",
    "expired",
    "revoked",
    "exhausted",
    "object_gone",
    "rate_limited",
    "unavailable",  # a dependency was down (503): nothing was decided
    "created",
    "revoke",
]
Signer = Callable[[str], tuple[Target, SigningContext]]  # a target's policy and signing, by name


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One access or owner action: the share's handle, never its id; never a URL or a password."""

    action: Literal["open", "create", "revoke"]
    handle: str
    outcome: Outcome
    client: str = ""  # the visitor's address (public routes)
    owner: str = ""  # the owner's digest (owner routes)


AuditSink = Callable[[AuditEvent], None]


class PublicLimits(Protocol):
    """The rate limits of the public routes (the limiter's ``share_access`` / ``share_password``)."""

    def access(self, client: str) -> None:
        """One visit from ``client``; raises ``RateLimited``."""
        ...

    def password(self, client: str, handle: str) -> None:
        """One password attempt from ``client`` on ``handle``; raises ``RateLimited``."""
        ...


@dataclass(frozen=True, slots=True)
class _Visit:
    """Who visits (their address, as the limits count it) and the ports a visit needs."""

    client: str
    limits: PublicLimits
    objects: ObjectsFor
    signer: Signer


@dataclass(frozen=True, slots=True)
class Grant:
    url: str
    expires_at: str
    share: Share


def client_key(source_ip: str) -> str:
    """Whom the per-client limits count: an IPv4 address, or an IPv6 address's /64 (one host
    usually has a whole /64, so counting single IPv6 addresses would count nothing)."""
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return source_ip or "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if isinstance(address, ipaddress.IPv6Address) else str(address)


def refusal(share: Share, now: int) -> PresignError | None:
    """Why ``share`` hands out nothing at ``now`` (revoked, expired, exhausted), or None."""
    status = share.status(now)
    if status == "revoked":
        return ShareRevoked("this link was revoked by its owner")
    if status == "expired":
        return ShareExpired("this link has expired")
    if status == "exhausted":
        return ShareExhausted("this link has been used as many times as it allows")
    return None


_OUTCOMES: dict[type[PresignError], Outcome] = {
    ShareRevoked: "revoked",
    ShareExpired: "expired",
    ShareExhausted: "exhausted",
    ShareObjectGone: "object_gone",
    ShareLocked: "locked",
    PasswordRequired: "password_required",
    PasswordInvalid: "password_invalid",
    NotFound: "not_found",
}


class Opening:
    """The public link's logic over a ``ShareStore``."""

    def __init__(
        self,
        store: ShareStore,
        settings: ShareSettings,
        *,
        clock: Clock,
        hasher: PasswordHasher | None = None,
        uploads: RecordStore | None = None,
        audit: AuditSink | None = None,
        new_id: Callable[[], str] = new_share_id,
        namespace: Namespace | None = None,
    ) -> None:
        """``namespace``: who owns what (``Runtime.namespace``); by default ``{sub}`` alone, with no
        target's prefix known, so no share's key is checked against one (tests)."""
        self._namespace = namespace or Namespace()
        self._store = store
        self._settings = settings
        self._clock = clock
        self.hasher = hasher or PasswordHasher(settings.argon2)
        self._uploads = uploads
        self._audit: AuditSink = audit or (lambda event: None)
        self._new_id = new_id

    def _now(self) -> int:
        return int(self._clock().timestamp())

    # -- GET / POST /s/{share_id} --------------------------------------------------------------

    def open(
        self,
        share_id: str,
        *,
        password: str | None,
        client: str,
        limits: PublicLimits,
        objects: ObjectsFor,
        signer: Signer,
    ) -> Grant:
        """Hand a visitor one short-lived URL, or say why not (every outcome is one audit line).
        ``client``: the visitor's address (``client_key`` makes it whom the limits count)."""
        client = client_key(client)
        handle = handle_of(share_id) if is_share_id(share_id) else ""
        try:
            grant = self._open(handle, password, _Visit(client, limits, objects, signer))
        except PresignError as exc:
            outcome = next((o for cls, o in _OUTCOMES.items() if isinstance(exc, cls)), None)
            if outcome is None:
                outcome = "rate_limited" if isinstance(exc, RateLimited) else "unavailable"
            self._emit(AuditEvent("open", handle, outcome, client=client))
            raise
        self._emit(AuditEvent("open", handle, "granted", client=client))
        return grant

    def peek(self, share_id: str) -> Share | None:
        """The share behind a link, if any (for the page a browser gets; grants nothing)."""
        return self._store.get(handle_of(share_id)) if is_share_id(share_id) else None

    def _open(self, handle: str, password: str | None, visit: _Visit) -> Grant:
        visit.limits.access(visit.client)
        share = self._store.get(handle) if handle else None
        if share is None:
            if password is not None:
                # What a wrong password costs: the attempt limits and one Argon2 verification.
                visit.limits.password(visit.client, handle or "malformed")
                self.hasher.verify_nothing(password)
            raise NotFound("no such share")
        now = self._now()
        refused = refusal(share, now)
        if refused is not None:
            raise refused
        if share.password_hash is not None:
            self._check_password(share, password, visit.client, visit.limits, now)
        target, signing = self._signing(share, visit.signer)
        try:
            storage = visit.objects(share.target)
        except PresignError:
            raise ShareObjectGone("the shared file is no longer available") from None
        if storage.head(share.key, checksum=False) is None:
            raise ShareObjectGone("the shared file is no longer available")
        if share.counted or share.protected:
            # The clock again: a password check and a HEAD took time, and the spend decides. A
            # password-protected link spends too (without a limit): its accesses are events.
            now = self._now()
            outcome = self._store.spend(share.handle, now=now)
            if not outcome.spent:
                if outcome.current is None:
                    raise NotFound("no such share")
                raise refusal(outcome.current, now) or ShareExhausted(
                    "this link has been used as many times as it allows"
                )
        return self._sign(share, target, signing)

    def _check_password(
        self, share: Share, password: str | None, client: str, limits: PublicLimits, now: int
    ) -> None:
        assert share.password_hash is not None
        wait = share.locked(now)
        if wait:
            raise ShareLocked(f"too many wrong passwords; try again in {wait} s", retry_after=wait)
        if password is None:
            raise PasswordRequired("this link needs a password: send it in a POST body")
        limits.password(client, share.handle)
        if self.hasher.verify(share.password_hash, password):
            return
        settings = self._settings
        self._store.fail(
            share.handle,
            now=now,
            threshold=settings.lockout_after,
            lock_until=now + settings.lockout_seconds,
        )
        raise PasswordInvalid("the password is not right")

    @staticmethod
    def _signing(share: Share, signer: Signer) -> tuple[Target, SigningContext]:
        try:
            return signer(share.target)
        except NotFound:
            raise ShareObjectGone("the shared file is no longer available") from None

    def _sign(self, share: Share, target: Target, signing: SigningContext) -> Grant:
        content_type = share.content_type if share.disposition == "inline" else None
        disposition, query = response_overrides(
            DownloadsRequest(keys=share.key, disposition=share.disposition, content_type=content_type), target
        )
        # A share made before filenames were checked may hold an unsafe one: the key's name then.
        name = served_filename(share.served_name(), share.key, content_type)
        query["response-content-disposition"] = content_disposition(disposition, name)
        query["response-cache-control"] = cache_control_for(target, share.key)
        now = signing.now()
        expires_in = choose_expiry(
            self._settings.url_expiry,
            default=self._settings.url_expiry,
            maximum=self._settings.url_expiry,
            now=now,
            credentials_expire_at=signing.credentials_expire_at,
        )
        url = signing.presign_get(target.bucket, share.key, now=now, expires_in=expires_in, query=query)
        return Grant(url=url, expires_at=isoformat_z(now + timedelta(seconds=expires_in)), share=share)

    def storage_origin(self, target: Target, signing: SigningContext) -> str:
        """Where a share's URLs point (scheme://host[:port]): the HTML form may be redirected there."""
        return signing.download_origin(target.bucket)

    def _emit(self, event: AuditEvent) -> None:
        try:
            self._audit(event)
        except Exception:  # noqa: BLE001 - a logging hiccup must not fail an access that happened
            return
