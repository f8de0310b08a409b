"""The uploads' ports: the records table, the storage's control calls, and the configured targets
with their signers.

Adapters implement the first two (``presign.adapters.dynamodb_uploads``,
``presign.adapters.s3_control``), the composition root the third (``presign.bootstrap.runtime``);
tests use in-memory ones with the same conditional semantics. Every method raises
``DependencyUnavailable`` when its dependency cannot answer, and nothing else of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from presign.config.target import Target
from presign.errors import PresignError
from presign.signing.context import SigningContext
from presign.uploads.idempotency import Claim
from presign.uploads.multipart.checks import StoredPart
from presign.uploads.records import Status, UploadRecord
from presign.uploads.verification import ObjectFacts


@dataclass(frozen=True, slots=True)
class Page:
    records: list[UploadRecord]
    last_upload_id: str | None  # where the next page starts; None when there is no more


class RecordStore(Protocol):
    def create(self, record: UploadRecord, *, ttl: int | None) -> bool:
        """Write a new record; False (and nothing written) if one with its id exists."""
        ...

    def get(self, owner: str, upload_id: str) -> UploadRecord | None:
        """The record, read consistently; None for an id this owner does not have."""
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
        """Write ``record``'s status and outcome fields if the stored status is ``expected``.

        False, and nothing written, when it is not (someone else moved the record first).
        ``ttl`` None removes the record's TTL (kept until deleted). A write from ``pending`` to
        ``complete`` or ``expired`` needs the cleanup's fence absent; with ``lease`` (the
        cleanup's own write) any write needs the fence absent or its lease to be this one. ``etag``:
        the stored ETag must still be this one (a re-check of an overwritten object).
        """
        ...

    def page(self, owner: str, *, status: Status | None, limit: int, after: str | None) -> Page:
        """Up to ``limit`` of the owner's records, newest first, after the id ``after``."""
        ...

    def claim(self, claim: Claim, *, ttl: int) -> Claim | None:
        """Claim an idempotency key: None if this call made the claim, else the existing one."""
        ...

    def take_over(self, stale: Claim, *, now: int, ttl: int) -> bool:
        """Renew ``stale`` for a new attempt; True for exactly one of many concurrent callers."""
        ...

    def release(self, claim: Claim) -> None:
        """Delete the claim if it is still this one (its upload id and time)."""
        ...


class ObjectStore(Protocol):
    """The storage's control calls for one target (its bucket is the adapter's business)."""

    def head(self, key: str, *, checksum: bool) -> ObjectFacts | None:
        """The object's facts, None if there is none; ``checksum`` asks for its SHA-256 too."""
        ...

    def delete(self, key: str) -> None:
        """Delete the object; deleting what is not there succeeds."""
        ...

    def first_bytes(self, key: str, length: int) -> bytes | None:
        """Up to ``length`` bytes from the object's start (one ranged GET); None if there is none."""
        ...

    # -- multipart ---------------------------------------------------------------------------

    def start_multipart(
        self, key: str, *, content_type: str, metadata: dict[str, str], checksums: bool
    ) -> str:
        """CreateMultipartUpload, binding the content type and metadata: the store's upload id.

        ``checksums`` asks the store to expect a SHA-256 on every part.
        """
        ...

    def list_parts(self, key: str, storage_upload_id: str) -> list[StoredPart] | None:
        """Every part stored so far (all pages), by number; None if the upload is gone
        (completed or aborted)."""
        ...

    def complete_multipart(self, key: str, storage_upload_id: str, parts: list[StoredPart]) -> bool:
        """CompleteMultipartUpload with exactly ``parts``; False if the upload is gone (completed by
        someone else, or aborted). Raises ``PartsMismatch`` if the store refuses the list."""
        ...

    def abort_multipart(self, key: str, storage_upload_id: str) -> None:
        """AbortMultipartUpload; aborting an upload that is gone succeeds."""
        ...


ObjectsFor = Callable[[str], ObjectStore]  # the storage of a target, by name


class Targets(Protocol):
    """The configured targets and their signers."""

    def target(
        self, name: str | None, missing: Callable[[], PresignError] | None = None
    ) -> tuple[str, Target]:
        """The target ``name`` (``presign.config.settings.Settings.target``), or ``missing()`` raised."""
        ...

    def signing(self, name: str, target: Target) -> SigningContext:
        """What signs for the target now (its credentials may rotate)."""
        ...
