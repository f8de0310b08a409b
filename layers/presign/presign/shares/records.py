"""A share, its status, and the rules every write to it follows.

One item per share, keyed by its handle (``presign.shares.ids``). It holds where the object is
(target, key), what the HEAD at creation found (size, type), how it is served (file name,
disposition), its limits (expiry, ``max_downloads``), the Argon2id hash of its password, and
what happened to it (downloads spent, revocation, failed password attempts, a lock). Never the
id, the password, or a URL.

**Status**, derived from the item and the clock (nothing stores it)::

    revoked    revoked_at is set                       (checked first: a revocation is final)
    expired    now >= expires_at
    exhausted  downloads >= max_downloads              (count-limited shares only)
    active     otherwise

**Writes** (each one a single DynamoDB request; nothing reads, then writes):

* *create*: ``PutItem`` if no item has the handle.
* *spend* (a count-limited or password-protected share hands out a URL): ``UpdateItem downloads =
  downloads + 1`` on the condition ``revoked_at`` and ``expired_at`` absent AND ``expires_at > now``
  AND (no ``max_downloads``, or ``downloads < max_downloads``). A password-protected link without
  a count spends too, without a limit: its accesses are then committed changes (``share.accessed``
  events, docs/events.md).
  DynamoDB applies conditional writes to one item one at a time, so of any number of concurrent
  visitors exactly ``max_downloads - downloads`` succeed, and no spend succeeds once the
  revocation or the expiry is in the item: the condition and the increment are one step.
* *revoke*: ``UpdateItem SET revoked_at`` on the condition ``owner`` is the caller. After its
  answer, every spend fails its condition and every consistent read sees it.
* *fail* (a wrong password): ``ADD failed_attempts 1``; when the count it answers reaches the
  threshold, ``SET locked_until, failed_attempts = 0`` on the condition that the count is still
  at or above it, so of concurrent failures one locks the share and the count starts again.

**Invariants**, checked by ``tests/unit/test_share_counting.py`` against random interleavings:
a share never hands out more URLs than ``max_downloads``; none after its revocation was
answered, or after it expired; a wrong password never spends a download.

* *mark expired* (the cleanup, once ``expires_at`` has passed): ``SET expired_at`` on the
  condition it is absent, ``revoked_at`` is absent and ``expires_at <= now``: the committed change
  ``share.expired`` comes from, as late as the cleanup's schedule makes it.

An unlimited share without a password is never written on access: its URL is handed out on a
consistent read that shows it active, so a popular link costs one read per visitor (its limits
are per client, in the rate limiter's table, spread over many items).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ShareStatus = Literal["active", "expired", "revoked", "exhausted"]
SHARE_STATUSES: tuple[ShareStatus, ...] = ("active", "expired", "revoked", "exhausted")
Disposition = Literal["attachment", "inline"]


@dataclass(frozen=True, slots=True)
class Share:
    """One share link. Times are epoch seconds (``created_ms``: milliseconds, for ordering)."""

    handle: str
    owner: str  # the owner's digest, never their id
    target: str
    key: str
    size: int
    content_type: str | None
    created_ms: int
    expires_at: int
    filename: str  # the name it is saved as ("" for the key's last segment)
    disposition: Disposition = "attachment"
    max_downloads: int | None = None
    downloads: int = 0
    password_hash: str | None = None  # absent from listings (the owner index does not hold it)
    password_protected: bool = False
    revoked_at: int | None = None
    failed_attempts: int = 0
    locked_until: int = 0
    # The owner's sub and namespace claims, written at creation for the share's events; never a key.
    owner_claims: dict[str, str] = field(default_factory=dict)

    @property
    def created_at(self) -> int:
        return self.created_ms // 1000

    @property
    def protected(self) -> bool:
        return self.password_protected or self.password_hash is not None

    @property
    def counted(self) -> bool:
        return self.max_downloads is not None

    def status(self, now: int) -> ShareStatus:
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        if self.max_downloads is not None and self.downloads >= self.max_downloads:
            return "exhausted"
        return "active"

    def remaining(self) -> int | None:
        if self.max_downloads is None:
            return None
        return max(0, self.max_downloads - self.downloads)

    def locked(self, now: int) -> int:
        """Seconds until the password lock ends (0: not locked)."""
        return max(0, self.locked_until - now)

    def served_name(self) -> str:
        return self.filename or self.key.rsplit("/", 1)[-1]
