"""The share owner's routes: ``POST /shares``, ``GET /shares``, ``GET`` and ``DELETE
/shares/{share_id}``; ``Shares`` also opens links (``presign.shares.links.Opening``, its base).

Handlers pass in the caller, the target, the storage and one ``Spending``; nothing here knows about
HTTP, DynamoDB or boto3. Which writes exist and why counting is exact is in ``records``.
"""

from __future__ import annotations

from presign.auth import Principal
from presign.config.target import Target
from presign.core.cursor import SHARES
from presign.core.filenames import check_filename
from presign.core.keys import normalize_key, require_within, user_prefix
from presign.core.schemas import KEY
from presign.downloads.schemas import DownloadsRequest
from presign.downloads.service import response_overrides
from presign.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    ObjectNotFound,
    PasswordPolicy,
    UploadNotComplete,
)
from presign.ratelimit.spending import Spending
from presign.shares.ids import handle_from_path, handle_of
from presign.shares.links import AuditEvent, Opening
from presign.shares.records import Share
from presign.shares.schemas import CreateShareRequest, CreateShareResponse, ShareInfo, ShareList, info_of, iso
from presign.uploads.ids import is_upload_id
from presign.uploads.ports import ObjectsFor

MAX_LIST_QUERIES = 4


def encode_cursor(owner: str, last: str) -> str:
    return SHARES.encode(owner, last)


def decode_cursor(cursor: str, owner: str) -> str:
    (last,) = SHARES.decode(
        cursor,
        owner,
        fields=1,
        valid=lambda found: bool(found[0]) and found[0].isascii() and found[0].isprintable(),
    )
    return last


class Shares(Opening):
    """The share routes over a ``ShareStore``: the owner's, and (from ``Opening``) the public link's."""

    # -- POST /shares ----------------------------------------------------------------------

    def link_base(self, host: str) -> str:
        """Where public links point: ``shares.public_base_url``, else the API's own ``host`` as the
        request reached it (plain http only for a local emulator on loopback)."""
        configured = self._settings.public_base_url
        if configured:
            return configured
        loopback = host.split(":")[0] in ("127.0.0.1", "localhost") or host.startswith("[::1]")
        return f"{'http' if loopback else 'https'}://{host}"

    def create(
        self,
        request: CreateShareRequest,
        *,
        principal: Principal,
        target_name: str,
        target: Target,
        objects: ObjectsFor,
        spending: Spending,
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
        spending.spend(target_name)

        who = self._namespace.owner(principal)
        owner = who.digest
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
            owner_claims=dict(who.claims),
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

    def get(self, owner: str, path_id: str, *, spending: Spending) -> ShareInfo:
        spending.spend()
        return info_of(self._owned(owner, path_id), self._now())

    def revoke(self, owner: str, path_id: str, *, spending: Spending) -> Share:
        spending.spend()
        share = self._owned(owner, path_id)
        now = self._now()
        revoked = self._store.revoke(share.handle, owner=owner, now=now, ttl=now + self._settings.retention)
        if revoked is None:
            raise NotFound("no such share")
        self._emit(AuditEvent("revoke", share.handle, "revoke", owner=owner))
        return revoked

    def list(self, owner: str, *, limit: int, cursor: str | None, spending: Spending) -> ShareList:
        after = decode_cursor(cursor, owner) if cursor else None
        spending.spend()
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
