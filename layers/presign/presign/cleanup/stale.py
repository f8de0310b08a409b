"""The cleanup's uploads: stale pending ones finished where they can be, the others expired, and
completions whose URL could still overwrite the object checked once more after it died.

**A stale pending upload** (step 1 of ``presign.cleanup.runner``): the record is fenced first
(``cleanup_at`` with this run's lease). Then, unless its target opts out (``upload.completion:
"client"``), the one completion path (``presign.uploads.completion``) runs under that fence
(``actor="cleanup"``, its writes name the lease): an object that matches ends ``complete``
(``completed_by_cleanup``), one that does not is deleted and ``rejected``
(``rejected_by_cleanup``); a multipart upload with every planned part at its planned size is
completed from ListParts first. What cannot be completed (nothing stored, parts missing, parts
that are not the plan's) is expired as before: the storage's multipart upload aborted, anything
at the key deleted, then ``pending -> expired``.

**A completion to check again** (step 1b): a single upload completed while its URL was still
valid may have been overwritten with that URL since. The completion marked it (``recheck_at``,
the ``recheck`` index); once the URL is dead, one HEAD: the same ETag removes the mark, another
one is verified again (``Completion.recheck``: kept with the new ETag, or deleted and
``complete -> rejected``, counted ``rejected_by_cleanup``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from presign.cleanup.ports import CleanupRecords, RecordRef, SweepStorage
from presign.cleanup.report import Kind, Report
from presign.config.target import Target
from presign.errors import (
    Conflict,
    NotFound,
    NotUploaded,
    PartsMismatch,
    PartsMissing,
    UnknownPart,
    UploadGone,
    UploadMismatch,
)
from presign.uploads.completion import Completion
from presign.uploads.records import UploadRecord

# One run at a time works on a stale upload: its fence is a lease longer than any Lambda run (15
# minutes), so a live run's is never taken over, and a dead run's frees the upload after it.
FENCE_LEASE_SECONDS = 1200
StorageFor = Callable[[str], SweepStorage]
# What stops a completion without deciding the upload: nothing (or not all of it) arrived, or
# the parts are not the plan's. The cleanup then expires it, as it always has.
_NOT_THERE = (NotUploaded, PartsMissing, PartsMismatch, UnknownPart, UploadGone)


class StaleUploads:
    def __init__(
        self,
        records: CleanupRecords,
        *,
        targets: Mapping[str, Target],
        storage: StorageFor,
        completion: Completion | None,
        closed_retention: int,
    ) -> None:
        self._records = records
        self._targets = targets
        self._storage = storage
        self._completion = completion
        self._closed_retention = closed_retention

    def _completes(self, target: str) -> Completion | None:
        configured = self._targets.get(target)
        if configured is None or configured.upload.completion != "server":
            return None
        return self._completion

    def stale(self, ref: RecordRef, report: Report, *, now: int, due: int, dry_run: bool) -> None:
        records = self._records
        if dry_run:
            found = records.get(ref.owner, ref.upload_id)
            if found is None or found.status != "pending" or found.expires_at >= due:
                return  # moved since the index was read
            stored = self._storage(found.target).head(found.key, checksum=False) is not None
            if stored and self._completes(found.target) is not None:
                report.add(found.target, "completed_by_cleanup")  # if it verifies
                return
            report.add(found.target, _kind(found))
            if stored:
                report.add(found.target, "objects_deleted")
            return
        lease = now + FENCE_LEASE_SECONDS
        record = records.fence(ref, now=now, lease_until=lease, expired_before=due)
        if record is None:
            return  # completed, aborted or expired meanwhile, or another run is on it
        completion = self._completes(record.target)
        if completion is not None:
            try:
                done = completion.settle(record, self._storage, actor="cleanup", lease=lease)
            except UploadMismatch as rejected:
                if rejected.details.get("written"):
                    report.add(record.target, "rejected_by_cleanup")
                return
            except _NOT_THERE:
                pass
            except (Conflict, NotFound):
                return  # moved by someone else (an abort): theirs
            else:
                if done.status == "complete":
                    report.add(record.target, "completed_by_cleanup")
                return
        stored = self._clean_storage(self._storage(record.target), record)
        expired = record.moved("expired", now=now)
        if records.transition(expired, expected="pending", ttl=now + self._closed_retention, lease=lease):
            report.add(record.target, _kind(record))
            if stored:
                report.add(record.target, "objects_deleted")

    @staticmethod
    def _clean_storage(storage: SweepStorage, record: UploadRecord) -> bool:
        """Abort the multipart upload, delete any object at the key: whether one was there."""
        if record.multipart is not None:
            storage.abort_multipart(record.key, record.multipart.storage_upload_id)
        if storage.head(record.key, checksum=False) is None:
            return False
        storage.delete(record.key)
        return True

    def recheck(self, ref: RecordRef, report: Report, *, now: int, dry_run: bool) -> None:
        record = self._records.get(ref.owner, ref.upload_id)
        if record is None or record.status != "complete" or record.recheck_at is None:
            return
        if record.recheck_at > now or self._completion is None or dry_run:
            return
        after = self._completion.recheck(record, self._storage, actor="cleanup")
        if after.status == "rejected":
            report.add(record.target, "rejected_by_cleanup")


def _kind(record: UploadRecord) -> Kind:
    return "multipart_expired" if record.multipart is not None else "single_expired"
