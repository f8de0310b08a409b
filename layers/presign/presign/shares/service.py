"""The share routes' logic: create, list, get and revoke for the owner; open for anyone.

Handlers pass in the caller (or the visitor's address), the target, the ports and callbacks for
the rate limits; nothing here knows about HTTP, DynamoDB or boto3. Which writes exist and why
counting is exact is in ``records``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, Protocol

from presign.auth import Principal
from presign.clock import Clock, isoformat_z
from presign.config import Target
from presign.contentdisposition import content_disposition
from presign.downloads import cache_control_for, response_overrides
from presign.errors import (
    Conflict,
    InvalidCursor,
    InvalidRequest,
    NotFound,
    ObjectNotFound,
    PasswordInvalid,
    PasswordPolicy,
    PasswordRequired,
    PresignError,
    RateLimited,
    ShareExhausted,
    ShareExpired,
    ShareLocked,
    ShareObjectGone,
    ShareRevoked,
    UploadNotComplete,
)
from presign.expiry import choose_expiry
from presign.filenames import check_filename, served_filename
from presign.keys import Namespace, normalize_key, require_within, user_prefix
from presign.lifecycle.ids import is_upload_id
from presign.lifecycle.store import ObjectStore, RecordStore
from presign.models import KEY, DownloadsRequest
from presign.shares.ids import handle_from_path, handle_of, is_share_id, new_share_id
from presign.shares.models import CreateShareRequest, CreateShareResponse, ShareInfo, ShareList, info_of, iso
from presign.shares.passwords import PasswordHasher
from presign.shares.records import Share
from presign.shares.settings import ShareSettings
from presign.shares.store import ShareStore
from presign.signing_context import SigningContext

MAX_LIST_QUERIES = 4
MAX_CURSOR_CHARS = 256

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
ObjectsFor = Callable[[str], ObjectStore]  # the storage of a target, by name
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


def _cursor_tag(owner: str) -> str:
    return hashlib.sha256(f"share-cursor:{owner}".encode()).hexdigest()[:16]


def encode_cursor(owner: str, last: str) -> str:
    return base64.urlsafe_b64encode(f"{_cursor_tag(owner)}.{last}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, owner: str) -> str:
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("the cursor is not valid for this listing")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not valid for this listing") from None
    tag, _, last = raw.partition(".")
    if tag != _cursor_tag(owner) or not last or not last.isascii() or not last.isprintable():
        raise InvalidCursor("the cursor is not valid for this listing")
    return last


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


class Shares:
    """The share routes over a ``ShareStore``."""

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

    # -- POST /shares ----------------------------------------------------------------------

    def create(
        self,
        request: CreateShareRequest,
        *,
        principal: Principal,
        target_name: str,
        target: Target,
        objects: ObjectsFor,
        spend: Callable[[], None],
        base_url: str,
    ) -> CreateShareResponse:
        key = normalize_key(request.key)
        if not KEY.fullmatch(key):
            raise InvalidRequest("a key must be '/'-separated segments, none empty, '.' or '..'")
        require_within(key, user_prefix(target.key_prefix, principal))
        password = request.password
        if password is not None:
            self._check_password_policy(password)
        disposition = request.disposition or "attachment"
        if request.filename and disposition == "attachment":
            # An attachment signs no type: the name keeps the key's extension (checked before
            # anything is spent); an inline one may take its HEAD's type's, below.
            check_filename(request.filename, key)
        policy = target.share
        lifetime = min(request.expires_in or policy.default_expiry, policy.max_expiry)
        spend()

        owner = self._namespace.owner(principal).digest
        self._require_complete_upload(owner, key)
        facts = objects(target_name).head(key, checksum=False)
        if facts is None:
            raise ObjectNotFound("there is no object at this key")
        if disposition == "inline":
            # The same rules as POST /downloads: inline only as a passive type of the target's,
            # which is the one the HEAD found and the one every URL of the share will sign.
            response_overrides(
                DownloadsRequest(keys=key, disposition="inline", content_type=facts.content_type), target
            )
            if request.filename:
                check_filename(request.filename, key, facts.content_type)
        password_hash = self.hasher.hash(password) if password is not None else None

        now = self._clock()
        share_id = self._new_id()
        share = Share(
            handle=handle_of(share_id),
            owner=owner,
            target=target_name,
            key=key,
            size=facts.size,
            content_type=facts.content_type,
            created_ms=int(now.timestamp() * 1000),
            expires_at=int(now.timestamp()) + lifetime,
            filename=request.filename or "",
            disposition=disposition,
            max_downloads=request.max_downloads,
            password_hash=password_hash,
            password_protected=password_hash is not None,
        )
        if not self._store.create(share, ttl=share.expires_at + self._settings.retention):
            raise Conflict("a share with this id exists already; try again")
        self._emit(AuditEvent("create", share.handle, "created", owner=owner))
        return CreateShareResponse(
            share_id=share_id,
            url=f"{base_url}/s/{share_id}",
            handle=share.handle,
            key=key,
            target=target_name,
            expires_at=iso(share.expires_at),
            max_downloads=share.max_downloads,
            password_protected=share.protected,
            size=share.size,
            content_type=share.content_type,
        )

    def _check_password_policy(self, password: str) -> None:
        low, high = self._settings.password_min_length, self._settings.password_max_length
        if len(password) < low:
            raise PasswordPolicy(f"a share's password must be at least {low} characters")
        if len(password) > high:
            raise PasswordPolicy(f"a share's password must be at most {high} characters")
        if not password.isprintable():
            raise PasswordPolicy("a share's password must not contain control or invisible characters")

    def _require_complete_upload(self, owner: str, key: str) -> None:
        """A key made by POST /uploads carries its upload id as its last folder: if that upload's
        record is this key's, the upload must be complete (a pending one may never arrive, or
        be rejected and deleted)."""
        segments = key.split("/")
        if self._uploads is None or len(segments) < 2 or not is_upload_id(segments[-2]):
            return
        record = self._uploads.get(owner, segments[-2])
        if record is not None and record.key == key and record.status != "complete":
            raise UploadNotComplete(f"the upload of this key is {record.status}, not complete")

    # -- GET /shares, GET / DELETE /shares/{share_id} -----------------------------------------

    def _owned(self, owner: str, path_id: str) -> Share:
        handle = handle_from_path(path_id)
        share = self._store.get(handle) if handle is not None else None
        # Another owner's share, a malformed id and an unknown one are the same answer; so is one
        # whose key is outside the owner's prefix (defence in depth: Namespace.holds).
        if share is None or share.owner != owner or not self._namespace.holds(owner, share.target, share.key):
            raise NotFound("no such share")
        return share

    def get(self, owner: str, path_id: str, *, spend: Callable[[], None]) -> ShareInfo:
        spend()
        return info_of(self._owned(owner, path_id), self._now())

    def revoke(self, owner: str, path_id: str, *, spend: Callable[[], None]) -> Share:
        spend()
        share = self._owned(owner, path_id)
        now = self._now()
        revoked = self._store.revoke(share.handle, owner=owner, now=now, ttl=now + self._settings.retention)
        if revoked is None:
            raise NotFound("no such share")
        self._emit(AuditEvent("revoke", share.handle, "revoke", owner=owner))
        return revoked

    def list(self, owner: str, *, limit: int, cursor: str | None, spend: Callable[[], None]) -> ShareList:
        after = decode_cursor(cursor, owner) if cursor else None
        spend()
        shares: list[Share] = []
        for _ in range(MAX_LIST_QUERIES):
            page = self._store.page(owner, limit=limit - len(shares), after=after)
            shares.extend(s for s in page.shares if self._namespace.holds(owner, s.target, s.key))
            after = page.last
            if after is None or len(shares) >= limit:
                break
        now = self._now()
        return ShareList(
            items=[info_of(s, now) for s in shares],
            cursor=encode_cursor(owner, after) if after is not None else None,
        )

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
        """Hand a visitor one short-lived URL, or say why not (every outcome is one audit line)."""
        handle = handle_of(share_id) if is_share_id(share_id) else ""
        try:
            grant = self._open(handle, password, client, limits, objects, signer)
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

    def _open(
        self,
        handle: str,
        password: str | None,
        client: str,
        limits: PublicLimits,
        objects: ObjectsFor,
        signer: Signer,
    ) -> Grant:
        limits.access(client)
        share = self._store.get(handle) if handle else None
        if share is None:
            if password is not None:
                # What a wrong password costs: the attempt limits and one Argon2 verification.
                limits.password(client, handle or "malformed")
                self.hasher.verify_nothing(password)
            raise NotFound("no such share")
        now = self._now()
        refused = refusal(share, now)
        if refused is not None:
            raise refused
        if share.password_hash is not None:
            self._check_password(share, password, client, limits, now)
        target, signing = self._signing(share, signer)
        try:
            storage = objects(share.target)
        except PresignError:
            raise ShareObjectGone("the shared file is no longer available") from None
        if storage.head(share.key, checksum=False) is None:
            raise ShareObjectGone("the shared file is no longer available")
        if share.counted:
            # The clock again: a password check and a HEAD took time, and the spend decides.
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
