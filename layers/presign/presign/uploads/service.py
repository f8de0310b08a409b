"""``Uploads``: the upload routes' logic, the facade the function modules call.

Each job lives in a module of its own and is one base of this class: ``grant`` (POST /uploads)
with ``replay`` (its Idempotency-Key retries), ``parts`` (part URLs and presigned multipart
requests), ``complete``; ``ledger`` is what they share (reading and moving records). This module
adds status, abort and the caller's list. The ports come in at construction (the records table,
the configured targets and their signers) or per call (each target's storage, one ``Spending``);
nothing here knows about HTTP, DynamoDB or boto3. Which transitions exist, and why each is safe
under concurrency, is in ``records``.
"""

from __future__ import annotations

from presign.core.cursor import UPLOADS
from presign.errors import Conflict, UploadAborted, UploadDeleted
from presign.ratelimit.spending import Spending
from presign.uploads.complete import Completing
from presign.uploads.grant import Granting
from presign.uploads.ids import is_upload_id
from presign.uploads.ledger import MAX_ROUNDS, epoch
from presign.uploads.ports import ObjectsFor
from presign.uploads.records import Status, UploadRecord
from presign.uploads.schemas import StoredPartStatus, UploadList, status_of

MAX_LIST_QUERIES = 4


def encode_cursor(owner: str, status: str | None, last_upload_id: str) -> str:
    """``GET /uploads``' cursor: the owner's, for this status filter, after this upload."""
    return UPLOADS.encode(owner, status or "", last_upload_id)


def decode_cursor(cursor: str, owner: str, status: str | None) -> str:
    """The upload id to continue after; raises ``InvalidCursor`` for anything not ours."""
    _, upload_id = UPLOADS.decode(
        cursor, owner, fields=2, valid=lambda found: found[0] == (status or "") and is_upload_id(found[1])
    )
    return upload_id


class Uploads(Granting, Completing):
    def status(self, owner: str, upload_id: str, *, spending: Spending) -> UploadRecord:
        """The caller's upload, unless a ``DELETE`` ended it: then 410, as for any deleted thing
        (its record stays in ``GET /uploads?status=aborted|deleted``, the list's business)."""
        record = self._get(owner, upload_id)
        spending.spend(record.target)
        if record.status == "aborted":
            raise UploadAborted("this upload was aborted (DELETE); GET /uploads?status=aborted lists it")
        if record.status == "deleted":
            raise UploadDeleted("this upload was deleted (DELETE); GET /uploads?status=deleted lists it")
        return record

    @staticmethod
    def stored_parts(record: UploadRecord, *, objects: ObjectsFor) -> list[StoredPartStatus] | None:
        """For a pending multipart upload, the parts the storage holds (ListParts, every page)."""
        if record.multipart is None or record.status != "pending":
            return None
        stored = objects(record.target).list_parts(record.key, record.multipart.storage_upload_id) or []
        return [
            StoredPartStatus(part_number=part.part_number, size=part.size, etag=part.etag)
            for part in sorted(stored, key=lambda part: part.part_number)
        ]

    def abort(self, owner: str, upload_id: str, *, objects: ObjectsFor, spending: Spending) -> UploadRecord:
        """Abort a pending upload or delete a completed one; the object goes first, every time
        (and a multipart upload's parts before it: AbortMultipartUpload).

        A record already final is left as it is, but its key is deleted again: a URL that was
        still valid may have stored an object after the abort.
        """
        record = self._get(owner, upload_id)
        spending.spend(record.target)
        for _ in range(MAX_ROUNDS):
            storage = objects(record.target)
            if record.multipart is not None and record.status not in ("complete", "deleted"):
                # Again for a final record too: a part still in flight may have arrived since.
                storage.abort_multipart(record.key, record.multipart.storage_upload_id)
            storage.delete(record.key)
            now = epoch(self._clock())
            if record.status == "pending":
                moved = record.moved("aborted", now=now)
            elif record.status == "complete":
                moved = record.moved("deleted", now=now)
            else:
                return record
            if self._move(moved, record):
                return moved
            record = self._get(owner, upload_id)
        raise Conflict("the upload changed while it was being deleted; try again")

    def list(
        self, owner: str, *, status: Status | None, limit: int, cursor: str | None, spending: Spending
    ) -> UploadList:
        """The caller's uploads, newest first (on the default target's lane: a list has no target)."""
        store = self._require()
        after = decode_cursor(cursor, owner, status) if cursor else None
        spending.spend()
        records: list[UploadRecord] = []
        for _ in range(MAX_LIST_QUERIES):
            page = store.page(owner, status=status, limit=limit - len(records), after=after)
            records.extend(r for r in page.records if self._namespace.holds(owner, r.target, r.key))
            after = page.last_upload_id
            if after is None or len(records) >= limit:
                break
        next_cursor = encode_cursor(owner, status, after) if after is not None else None
        return UploadList(items=[status_of(r) for r in records], cursor=next_cursor)
