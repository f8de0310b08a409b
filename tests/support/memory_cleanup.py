"""In-memory ports of the cleanup (``presign.cleanup.ports``), with the adapters' semantics.

``MemoryCleanupRecords`` wraps a ``MemoryRecords`` (so the lifecycle and the cleanup share one
table); its index reads look at the records as the sparse indexes would hold them. ``SweepObjects``
is a ``MemoryObjects`` that also lists its multipart uploads, with when each began.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from presign.cleanup.ports import RecordRef, ShareRef, StorageUpload
from presign.uploads.records import Status, UploadRecord
from tests.support.memory import MemoryObjects, MemoryRecords


class MemoryCleanupRecords:
    def __init__(self, records: MemoryRecords) -> None:
        self.records = records
        self.orphan_claims: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()

    def pending_due(self, *, since: int, before: int) -> Iterator[RecordRef]:
        self.records.before("query")
        found = sorted(
            (r.expires_at, r.owner, r.upload_id, r.target)
            for r in list(self.records.records.values())
            if r.status == "pending" and since <= r.expires_at < before
        )
        for _, owner, upload_id, target in found:
            yield RecordRef(owner, upload_id, target)

    def removable_due(self, *, since: int, before: int) -> Iterator[RecordRef]:
        self.records.before("query")
        found = []
        for slot, record in list(self.records.records.items()):
            ttl = self.records.ttls.get(slot)
            if record.status != "pending" and ttl is not None and since <= ttl < before:
                found.append(
                    RecordRef(
                        record.owner,
                        record.upload_id,
                        record.target,
                        f"{ttl:010d}",
                        record.key,
                        record.status,
                    )
                )
        yield from found

    def recheck_due(self, *, since: int, before: int) -> Iterator[RecordRef]:
        self.records.before("query")
        found = sorted(
            (r.recheck_at, r.owner, r.upload_id, r.target)
            for r in list(self.records.records.values())
            if r.status == "complete" and r.recheck_at is not None and since <= r.recheck_at < before
        )
        for _, owner, upload_id, target in found:
            yield RecordRef(owner, upload_id, target)

    def get(self, owner: str, upload_id: str) -> UploadRecord | None:
        return self.records.get(owner, upload_id)

    def storage_upload_ids(self, refs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        self.records.before("batch_get")
        found: dict[tuple[str, str], str | None] = {}
        for ref in refs:
            record = self.records.records.get(ref)
            if record is not None:
                found[ref] = record.multipart.storage_upload_id if record.multipart is not None else None
        return found

    def fence(
        self, ref: RecordRef, *, now: int, lease_until: int, expired_before: int
    ) -> UploadRecord | None:
        return self.records.fence(
            ref.owner, ref.upload_id, now=now, lease_until=lease_until, expired_before=expired_before
        )

    def transition(
        self,
        record: UploadRecord,
        *,
        expected: Status,
        ttl: int | None,
        lease: int | None = None,
        etag: str | None = None,
    ) -> bool:
        return self.records.transition(record, expected=expected, ttl=ttl, lease=lease, etag=etag)

    def _removable(self, ref: RecordRef, now: int) -> bool:
        slot = (ref.owner, ref.upload_id)
        record, ttl = self.records.records.get(slot), self.records.ttls.get(slot)
        return not (
            record is None
            or record.status == "pending"
            or ttl is None
            or f"{ttl:010d}" != ref.marker
            or ttl > now
        )

    def lease(self, ref: RecordRef, *, now: int, until: int) -> bool:
        self.records.before("lease")
        with self.records._lock:
            slot = (ref.owner, ref.upload_id)
            if not self._removable(ref, now) or self.records.leases.get(slot, 0) >= now:
                return False
            self.records.leases[slot] = until
            return True

    def remove(self, ref: RecordRef, *, now: int, lease_until: int | None) -> bool:
        self.records.before("remove")
        with self.records._lock:
            slot = (ref.owner, ref.upload_id)
            if not self._removable(ref, now):
                return False
            if lease_until is not None and self.records.leases.get(slot) != lease_until:
                return False
            del self.records.records[slot]
            return True

    def claim_orphan(self, target: str, upload: StorageUpload, *, now: int, ttl: int) -> bool:
        self.records.before("claim_orphan")
        with self._lock:
            slot = (target, upload.key, upload.upload_id)
            if self.orphan_claims.get(slot, 0) >= now:
                return False
            self.orphan_claims[slot] = ttl
            return True


class NoShares:
    def stale_due(self, *, since: int, before: int) -> Iterator[ShareRef]:
        return iter(())

    def remove(self, ref: ShareRef, *, now: int) -> bool:
        return False


class SweepObjects(MemoryObjects):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.initiated: dict[str, int] = {}

    def list_multipart(self, prefix: str) -> Iterator[StorageUpload]:
        self.before("list_multipart")
        self._check()
        for storage_id, upload in sorted(self.uploads.items()):
            if upload.key.startswith(prefix):
                yield StorageUpload(upload.key, storage_id, self.initiated.get(storage_id, 0))
