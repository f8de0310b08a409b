"""What cleanup needs of the tables and the storage (``presign.adapters.dynamodb_cleanup`` and
``presign.adapters.s3_control`` implement it; tests use in-memory ones with the same semantics).

Every method raises ``DependencyUnavailable`` when its dependency cannot answer. The index reads
are iterators that fetch page by page, so a run that runs out of time stops between pages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from presign.uploads.ports import ObjectStore
from presign.uploads.records import Status, UploadRecord

RecordKey = tuple[str, str]  # (owner, upload id)


@dataclass(frozen=True, slots=True)
class RecordRef:
    """An upload record found through an index (the index holds its key, not the record)."""

    owner: str
    upload_id: str
    target: str = ""
    marker: str = ""  # the index's sort key as read: a removal is conditioned on it
    key: str = ""  # the removable index's: the object key and the status it was filed with
    status: str = ""


@dataclass(frozen=True, slots=True)
class ShareRef:
    handle: str
    target: str
    marker: str  # the stale index's sort key as read


@dataclass(frozen=True, slots=True)
class StorageUpload:
    """One multipart upload the storage lists: its key, the store's id, when it began (epoch s)."""

    key: str
    upload_id: str
    initiated: int


class CleanupRecords(Protocol):
    def pending_due(self, *, since: int, before: int) -> Iterator[RecordRef]:
        """Pending records whose ``expires_at`` is in [since, before), oldest day first."""
        ...

    def recheck_due(self, *, since: int, before: int) -> Iterator[RecordRef]:
        """Completed records marked for a re-check (``recheck_at``) in [since, before)."""
        ...

    def get(self, owner: str, upload_id: str) -> UploadRecord | None:
        """The record, read consistently."""
        ...

    def storage_upload_ids(self, refs: Sequence[RecordKey]) -> dict[RecordKey, str | None]:
        """For each record of ``refs`` that exists (at most 100), the storage upload id it names
        (None for a single upload); records that do not exist are absent. Read consistently."""
        ...

    def fence(
        self, ref: RecordRef, *, now: int, lease_until: int, expired_before: int
    ) -> UploadRecord | None:
        """Mark the record as being cleaned (``cleanup_at``, kept) by this run until
        ``lease_until``, if it is still pending, expired before ``expired_before`` and no other
        run's lease is running: the record as it is now, or None (and nothing written)."""
        ...

    def transition(
        self,
        record: UploadRecord,
        *,
        expected: Status,
        ttl: int | None,
        lease: int | None = None,
        etag: str | None = None,
    ) -> bool:
        """As ``presign.uploads.ports.RecordStore.transition``: conditional on ``expected``."""
        ...

    def removable_due(self, *, since: int, before: int) -> Iterator[RecordRef]:
        """Records out of ``pending`` whose retention ended in [since, before)."""
        ...

    def lease(self, ref: RecordRef, *, now: int, until: int) -> bool:
        """Take the record (still as indexed, past its retention) for this run until ``until``,
        before its key is cleaned: False if it moved, is gone, or another run holds it."""
        ...

    def remove(self, ref: RecordRef, *, now: int, lease_until: int | None) -> bool:
        """Delete the record if it is still as indexed and past its retention (and, with
        ``lease_until``, still this run's); True if this call deleted it."""
        ...

    def claim_orphan(self, target: str, upload: StorageUpload, *, now: int, ttl: int) -> bool:
        """Claim the abort of one orphaned storage upload: True for exactly one of concurrent runs."""
        ...


class CleanupShares(Protocol):
    def stale_due(self, *, since: int, before: int) -> Iterator[ShareRef]:
        """Shares that stopped working (expired, revoked, used up) in [since, before)."""
        ...

    def remove(self, ref: ShareRef, *, now: int) -> bool:
        """Delete the share if it is still as indexed; True if this call deleted it."""
        ...


class SweepStorage(ObjectStore, Protocol):
    def list_multipart(self, prefix: str) -> Iterator[StorageUpload]:
        """Every multipart upload in progress under ``prefix`` (all pages)."""
        ...
