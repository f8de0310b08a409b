"""In-memory ports of the lifecycle, with the same conditional semantics as the adapters.

``MemoryRecords`` is a ``RecordStore`` whose every method is atomic (one lock), as DynamoDB's
conditional writes are per item; ``MemoryObjects`` is an ``ObjectStore`` for one bucket. Both
accept a ``before`` hook, called before each operation: the state-machine property test uses it
to interleave requests at every call a real adapter would make over the network.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from presign.uploads.idempotency import Claim
from presign.uploads.multipart.checks import StoredPart
from presign.uploads.ports import Page
from presign.uploads.records import Status, UploadRecord, allowed
from presign.uploads.verification import ObjectFacts

Hook = Callable[[str], None]


def _nothing(operation: str) -> None:
    return None


class MemoryRecords:
    def __init__(self, before: Hook = _nothing) -> None:
        self.records: dict[tuple[str, str], UploadRecord] = {}
        self.ttls: dict[tuple[str, str], int | None] = {}
        self.claims: dict[tuple[str, str], tuple[Claim, int]] = {}
        self.leases: dict[tuple[str, str], int] = {}  # the cleanup job's fence leases
        self.history: list[tuple[str, Status, Status]] = []  # (upload id, from, to)
        self.before = before
        self._lock = threading.Lock()

    def create(self, record: UploadRecord, *, ttl: int | None) -> bool:
        self.before("create")
        with self._lock:
            slot = (record.owner, record.upload_id)
            if slot in self.records:
                return False
            self.records[slot] = record
            self.ttls[slot] = ttl
            return True

    def get(self, owner: str, upload_id: str) -> UploadRecord | None:
        self.before("get")
        with self._lock:
            return self.records.get((owner, upload_id))

    def transition(
        self,
        record: UploadRecord,
        *,
        expected: Status,
        ttl: int | None,
        lease: int | None = None,
        etag: str | None = None,
    ) -> bool:
        self.before("transition")
        with self._lock:
            slot = (record.owner, record.upload_id)
            current = self.records.get(slot)
            if current is None or current.status != expected:
                return False
            if lease is not None and current.cleanup_at is not None and self.leases.get(slot) != lease:
                return False  # the cleanup's write, but its lease is no longer the one held
            fenced = current.cleanup_at is not None and record.status in ("complete", "expired")
            if lease is None and fenced and expected == "pending":
                return False  # fenced by the cleanup job, as the adapter's condition says
            if etag is not None and current.etag != etag:
                return False  # re-checked by someone else first
            same = current.status == record.status == "complete" and etag is not None
            assert same or allowed(current.status, record.status), (current.status, record.status)
            self.records[slot] = dataclasses.replace(record, cleanup_at=current.cleanup_at)
            self.ttls[slot] = ttl
            self.history.append((record.upload_id, current.status, record.status))
            return True

    def fence(
        self, owner: str, upload_id: str, *, now: int, lease_until: int, expired_before: int
    ) -> UploadRecord | None:
        """The cleanup job's fence (``presign.cleanup.ports.CleanupRecords.fence``), with its lease."""
        self.before("fence")
        with self._lock:
            slot = (owner, upload_id)
            current = self.records.get(slot)
            if current is None or current.status != "pending" or current.expires_at >= expired_before:
                return None
            if self.leases.get(slot, 0) >= now:
                return None
            self.leases[slot] = lease_until
            if current.cleanup_at is None:
                current = dataclasses.replace(current, cleanup_at=now)
                self.records[slot] = current
            return current

    def page(self, owner: str, *, status: Status | None, limit: int, after: str | None) -> Page:
        self.before("page")
        with self._lock:
            ids = sorted((i for o, i in self.records if o == owner), reverse=True)
            if after is not None:
                ids = [i for i in ids if i < after]
            examined = ids[:limit]
            found = [self.records[(owner, i)] for i in examined]
            found = [r for r in found if status is None or r.status == status]
            more = len(ids) > limit
            return Page(records=found, last_upload_id=examined[-1] if more and examined else None)

    def claim(self, claim: Claim, *, ttl: int) -> Claim | None:
        self.before("claim")
        with self._lock:
            slot = (claim.owner, claim.key_digest)
            held = self.claims.get(slot)
            if held is not None and held[1] >= claim.claimed_at:
                return held[0]
            self.claims[slot] = (claim, ttl)
            return None

    def take_over(self, stale: Claim, *, now: int, ttl: int) -> bool:
        self.before("take_over")
        with self._lock:
            slot = (stale.owner, stale.key_digest)
            held = self.claims.get(slot)
            if held is None or held[0] != stale:
                return False
            self.claims[slot] = (dataclasses.replace(stale, claimed_at=now), ttl)
            return True

    def release(self, claim: Claim) -> None:
        self.before("release")
        with self._lock:
            slot = (claim.owner, claim.key_digest)
            held = self.claims.get(slot)
            if held is not None and held[0] == claim:
                self.claims[slot] = (claim, 0)


@dataclasses.dataclass
class MemoryUpload:
    key: str
    content_type: str
    metadata: dict[str, str]
    checksums: bool
    parts: dict[int, StoredPart] = dataclasses.field(default_factory=dict)


class MemoryObjects:
    def __init__(self, before: Hook = _nothing) -> None:
        self.objects: dict[str, ObjectFacts] = {}
        self.bodies: dict[str, bytes] = {}  # an object's first bytes, where a test gives them
        self.uploads: dict[str, MemoryUpload] = {}  # multipart uploads in progress, by storage id
        self.completions: list[tuple[str, list[StoredPart]]] = []
        self.before = before
        self.down = False
        self.heads = 0
        self._ids = 0

    # -- multipart: parts are stored by ``put_part`` (the test plays the client) -------------

    def start_multipart(
        self, key: str, *, content_type: str, metadata: dict[str, str], checksums: bool
    ) -> str:
        self.before("start_multipart")
        self._check()
        self._ids += 1
        storage_id = f"mpu-{self._ids}"
        self.uploads[storage_id] = MemoryUpload(key, content_type, dict(metadata), checksums)
        return storage_id

    def put_part(self, storage_id: str, number: int, size: int, etag: str | None = None) -> str | None:
        """A part PUT as the storage takes it; None (NoSuchUpload) once completed or aborted."""
        upload = self.uploads.get(storage_id)
        if upload is None:
            return None
        tag = etag or f'"etag-{storage_id}-{number}-{size}"'
        upload.parts[number] = StoredPart(number, size, tag)
        return tag

    def list_parts(self, key: str, storage_upload_id: str) -> list[StoredPart] | None:
        self.before("list_parts")
        self._check()
        upload = self.uploads.get(storage_upload_id)
        return None if upload is None else sorted(upload.parts.values(), key=lambda p: p.part_number)

    def complete_multipart(self, key: str, storage_upload_id: str, parts: list[StoredPart]) -> bool:
        self.before("complete_multipart")
        self._check()
        upload = self.uploads.pop(storage_upload_id, None)
        if upload is None:
            return False
        self.completions.append((storage_upload_id, list(parts)))
        self.objects[key] = ObjectFacts(
            size=sum(p.size for p in parts),
            content_type=upload.content_type,
            etag=f'"assembled-{len(parts)}"',
            metadata=upload.metadata,
        )
        return True

    def abort_multipart(self, key: str, storage_upload_id: str) -> None:
        self.before("abort_multipart")
        self._check()
        self.uploads.pop(storage_upload_id, None)

    def head(self, key: str, *, checksum: bool) -> ObjectFacts | None:
        self.before("head")
        self._check()
        self.heads += 1
        facts = self.objects.get(key)
        if facts is not None and not checksum:
            facts = dataclasses.replace(facts, checksum_sha256=None)
        return facts

    def first_bytes(self, key: str, length: int) -> bytes | None:
        self.before("first_bytes")
        self._check()
        if key not in self.objects:
            return None
        return self.bodies.get(key, b"\x89PNG\r\n\x1a\n")[:length]

    def delete(self, key: str) -> None:
        self.before("delete")
        self._check()
        self.objects.pop(key, None)
        self.bodies.pop(key, None)

    def _check(self) -> None:
        if self.down:
            from presign.errors import DependencyUnavailable

            raise DependencyUnavailable("storage down (test)", retry_after=2)
