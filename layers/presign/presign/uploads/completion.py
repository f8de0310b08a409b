"""The one completion path: whoever asks (the client, the cleanup, a storage event), the stored
object is compared with the record the same way and the record moves the same way.

``settle`` verifies a pending upload: a multipart upload is assembled first (ListParts against
the plan, and the client's ``parts`` when it sent them; without them every planned part stored at
its planned size completes it), then the object's HEAD is compared with what was declared
(``presign.uploads.verification``) and its first bytes with the declared type
(``presign.core.sniffing``, one ranged GET, unless the kind turns it off). It ends ``complete``,
or ``rejected`` with the object deleted first, or raises what stands in the way (nothing stored
yet, parts missing, the cleanup's fence), and only the client's path expires an upload whose
lifetime ended with nothing stored: the cleanup does that itself, under its fence.

``recheck`` verifies a completed upload again when its object changed (another ETag): the
overwrite of item 5 of issue 20 (``presign.uploads.records``: ``complete -> rejected``).

Every change is one conditional write and one audit line naming its actor; a write that loses
(someone else moved the record) reads the record again and answers from what it finds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

from presign.config.target import Target
from presign.core.sniffing import HEAD_BYTES, contradiction
from presign.errors import (
    Conflict,
    ContentMismatch,
    NotFound,
    NotUploaded,
    PartsMissing,
    PresignError,
    UploadGone,
    UploadMismatch,
)
from presign.uploads.ledger import MAX_ROUNDS, Actor, Ledger, epoch
from presign.uploads.multipart.checks import ClaimedPart, parts_to_complete
from presign.uploads.ports import ObjectsFor, ObjectStore
from presign.uploads.records import UploadRecord
from presign.uploads.verification import ObjectFacts, differences

RECHECK_MARGIN = 60  # seconds after the URL died before the cleanup re-checks (clock skew, a slow PUT)
RejectionCode = Literal["upload_mismatch", "content_mismatch"]


def rejection(record: UploadRecord, *, written: bool = False) -> UploadMismatch:
    """What a client hears about a rejected upload, whoever rejected it: the recorded problems.
    ``details["written"]``: this call made the rejection (the cleanup counts only its own)."""
    message = "the stored object differs from the upload and was deleted: " + "; ".join(record.problems)
    kind = ContentMismatch if record.rejected_code == "content_mismatch" else UploadMismatch
    return kind(message, details={"written": written})


class Completion(Ledger):
    def settle(
        self,
        record: UploadRecord,
        objects: ObjectsFor,
        *,
        actor: Actor,
        parts: Sequence[ClaimedPart] | None = None,
        lease: int | None = None,
    ) -> UploadRecord:
        """Verify ``record``'s upload and move it: the record ``complete``; ``rejected`` raises
        ``UploadMismatch`` / ``ContentMismatch`` (also for a record someone else rejected).

        ``lease``: the cleanup's, when it holds the record's fence (its writes name it); without
        it a fenced record raises ``UploadGone``. Raises ``NotUploaded`` or ``PartsMissing`` when
        the upload is not all there (yet); for the ``client``, once the lifetime is over, that
        expires the upload (``UploadGone``).
        """
        return self._settle(record, objects, actor=actor, parts=parts, lease=lease)[0]

    def _settle(
        self,
        record: UploadRecord,
        objects: ObjectsFor,
        *,
        actor: Actor,
        parts: Sequence[ClaimedPart] | None = None,
        lease: int | None = None,
    ) -> tuple[UploadRecord, bool]:
        """``settle``, and whether this call wrote the ``complete`` it answers."""
        for _ in range(MAX_ROUNDS):
            if record.status == "complete":
                return record, False
            if record.status == "rejected":
                raise rejection(record)
            self._require_pending(record)
            if record.cleanup_at is not None and lease is None:
                # The cleanup holds this stale upload (records.py: the fence).
                raise UploadGone("this upload expired; what it stored is being removed")
            storage = objects(record.target)
            assembled = (
                self._assemble(storage, record, parts, actor) if record.multipart is not None else "single"
            )
            if assembled != "moved":
                facts = self._head(storage, record, actor)
                if facts is None:
                    self._absent(record, assembled, actor)
                else:
                    moved = self._verify(storage, record, facts, actor, lease)
                    if moved is not None:
                        if moved.status == "rejected":
                            raise rejection(moved, written=True)
                        return moved, True
            record = self._reread(record)
        raise Conflict("the upload changed while it was being completed; try again")

    def arrived(self, record: UploadRecord, objects: ObjectsFor, *, actor: Actor) -> UploadRecord:
        """An object was written at ``record``'s key (a storage event): the record afterwards.

        Pending: ``settle`` (a rejection is answered as the rejected record). When someone else
        completed it meanwhile, and for a record already complete, ``recheck``: an object written
        after that completion's HEAD (an overwrite racing it) is verified once the completion is
        visible, never missed. Any other
        status: left as it is (the object, if any, belongs to a decided record; the cleanup
        removes it with the record).
        """
        if record.status == "pending":
            try:
                record, wrote = self._settle(record, objects, actor=actor)
            except UploadMismatch:
                return self._reread(record)
            if wrote:
                return record  # its HEAD saw this object; a later write brings its own event
        if record.status == "complete":
            return self.recheck(record, objects, actor=actor)
        return record

    def recheck(
        self,
        record: UploadRecord,
        objects: ObjectsFor,
        *,
        actor: Actor,
        deleted: tuple[list[str], RejectionCode] | None = None,
    ) -> UploadRecord:
        """A ``complete`` record whose object may have been replaced: the record afterwards.

        Same ETag: unchanged (the cleanup's re-check mark removed). Another ETag: verified as a
        new upload would be; it passes: ``complete`` with the new ETag; it fails: the object is
        deleted, then ``complete -> rejected``. Both writes are conditioned on the ETag read
        here, so of two re-checks racing (an event and the cleanup) one writes. No object: left
        as it is (deleted at the storage by someone with access to it; nothing to verify),
        unless ``deleted``: this caller deleted it, having found it different (those problems):
        then ``complete -> rejected``.
        """
        for _ in range(MAX_ROUNDS):
            if record.status != "complete":
                return record
            storage = objects(record.target)
            facts = storage.head(record.key, checksum=record.checksum_sha256 is not None)
            now = epoch(self._clock())
            if facts is None:
                if deleted is None:
                    return record
                # This caller deleted the object the record confirms (it had been replaced):
                why, why_code = deleted
                kept = record.moved("rejected", now=now, problems=tuple(why), rejected_code=why_code)
            elif facts.etag == record.etag:
                if record.recheck_at is None or actor != "cleanup":
                    return record
                kept = dataclasses.replace(record, updated_at=now, recheck_at=None)
            else:
                problems, code = self._problems(storage, record, facts)
                if problems is None:
                    return record  # gone between the HEAD and the GET
                if problems:
                    storage.delete(record.key)
                    kept = record.moved("rejected", now=now, problems=tuple(problems), rejected_code=code)
                else:
                    kept = dataclasses.replace(record, updated_at=now, etag=facts.etag, recheck_at=None)
            if self._move(kept, record, actor=actor, etag=record.etag):
                return kept
            record = self._reread(record)
        raise Conflict("the upload changed while it was being checked again; try again")

    # -- the steps ------------------------------------------------------------------------------

    def _verify(
        self, storage: ObjectStore, record: UploadRecord, facts: ObjectFacts, actor: Actor, lease: int | None
    ) -> UploadRecord | None:
        """Compare, then move: the record as written, or None when someone moved it first."""
        problems, code = self._problems(storage, record, facts)
        if problems is None:
            raise NotUploaded("the object is not readable yet; try again")
        now = epoch(self._clock())
        if problems:
            storage.delete(record.key)  # first: a record never claims more than happened
            moved = record.moved("rejected", now=now, problems=tuple(problems), rejected_code=code)
            if self._move(moved, record, actor=actor, lease=lease):
                return moved
            current = self._reread(record)
            if current.status == "complete":
                # A completion won the race, of an object this one replaced (and the delete just
                # removed) or of one stored after that delete: check what is there now.
                return self.recheck(current, lambda _: storage, actor=actor, deleted=(problems, code))
            return None
        else:
            moved = record.moved(
                "complete",
                now=now,
                etag=facts.etag,
                completed_at=now,
                recheck_at=self._recheck_at(record, now),
            )
        return moved if self._move(moved, record, actor=actor, lease=lease) else None

    def _problems(
        self, storage: ObjectStore, record: UploadRecord, facts: ObjectFacts
    ) -> tuple[list[str] | None, RejectionCode]:
        """What differs (the HEAD first; then the first bytes, if that passed and the kind checks
        content); None when the object vanished before its first bytes were read."""
        problems = differences(record, facts)
        if problems or not self._checks_content(record):
            return problems, "upload_mismatch"
        head = storage.first_bytes(record.key, HEAD_BYTES)
        if head is None:
            return None, "upload_mismatch"
        found = contradiction(record.content_type, head)
        return ([found], "content_mismatch") if found else ([], "upload_mismatch")

    def _absent(self, record: UploadRecord, assembled: str, actor: Actor) -> None:
        """Nothing at the key: raise what the caller can do about it (expiring it, for a client
        past the lifetime; the cleanup expires under its fence, an event waits for its object).
        Returns only when someone else moved the record first."""
        now = epoch(self._clock())
        if assembled == "gone":
            # The storage's upload is gone and left no object: aborted, by a DELETE racing this
            # request (whose own write will say "aborted") or behind our back (a bucket's
            # AbortIncompleteMultipartUpload rule). Which one, only the record can tell later: it
            # expires with its lifetime, not before.
            if now < record.expires_at or actor != "client":
                raise UploadGone("the storage no longer holds this upload's parts")
            if self._move(record.moved("expired", now=now), record, actor=actor):
                raise UploadGone("the storage no longer holds this upload's parts")
            return  # moved by someone else: read again
        if assembled == "assembled":
            raise NotUploaded("the parts were assembled but the object is not visible yet; try again")
        if now < record.expires_at or actor != "client":
            raise NotUploaded("nothing is stored for this upload yet; upload the file, then complete again")
        # The URL is dead and nothing came: nothing can come any more.
        if self._move(record.moved("expired", now=now), record, actor=actor):
            raise UploadGone("this upload expired before anything was stored")

    def _assemble(
        self, storage: ObjectStore, record: UploadRecord, claimed: Sequence[ClaimedPart] | None, actor: Actor
    ) -> str:
        """CompleteMultipartUpload with the verified parts: ``"assembled"``; ``"gone"`` when the
        storage's upload no longer exists (completed by a racing request, at the storage by the
        client, or before an answer that was lost; or aborted: the HEAD tells which); ``"moved"``
        when the record moved.

        Raises ``PartsMissing`` (409), ``UnknownPart`` or ``PartsMismatch`` (422), with nothing
        completed and the record still ``pending``; for the client, once the lifetime is over,
        missing parts expire the upload instead (aborted at the storage first).
        """
        multipart = record.multipart
        assert multipart is not None
        stored = storage.list_parts(record.key, multipart.storage_upload_id)
        if stored is None:
            return "gone"
        try:
            verified = parts_to_complete(
                multipart.plan(record.size), stored, claimed, checksums=multipart.checksums
            )
        except PartsMissing:
            now = epoch(self._clock())
            if now < record.expires_at or actor != "client":
                raise
            storage.abort_multipart(record.key, multipart.storage_upload_id)
            if self._move(record.moved("expired", now=now), record, actor=actor):
                raise UploadGone("this upload's lifetime ended before every part was uploaded") from None
            return "moved"
        if storage.complete_multipart(record.key, multipart.storage_upload_id, verified):
            return "assembled"
        return "gone"

    def _head(self, storage: ObjectStore, record: UploadRecord, actor: Actor) -> ObjectFacts | None:
        """The HEAD; a client's is retried briefly (it may ask the moment its PUT returned, and
        some stores are not read-after-write consistent for HEAD); the cleanup's upload is stale
        and an event's object was written already, so theirs is one HEAD."""
        checksum = record.checksum_sha256 is not None
        attempts = self._settings.head_attempts if actor == "client" else 1
        for attempt in range(attempts):
            if attempt:
                self._sleep(self._settings.head_retry_delay * 2 ** (attempt - 1))
            facts = storage.head(record.key, checksum=checksum)
            if facts is not None:
                return facts
        return None

    def _reread(self, record: UploadRecord) -> UploadRecord:
        found = self._require().get(record.owner, record.upload_id)
        if found is None:
            raise NotFound("no such upload")
        return found

    # -- the target's rules ------------------------------------------------------------------------

    def _target_of(self, record: UploadRecord) -> Target | None:
        found = self._target_settings.get(record.target)
        if found is None and self._targets is not None:
            try:
                found = self._targets.target(record.target)[1]
            except PresignError:
                return None
        return found

    def _checks_content(self, record: UploadRecord) -> bool:
        target = self._target_of(record)
        kind = target.upload.kinds.get(record.kind) if target is not None and record.kind else None
        return kind.content_check if kind is not None else True

    def _recheck_at(self, record: UploadRecord, now: int) -> int | None:
        """When the cleanup re-checks this completion, if its URL can still overwrite the object:
        a single upload completed before its URL died, unless its PUT signs If-None-Match."""
        if record.multipart is not None or now >= record.expires_at:
            return None
        target = self._target_of(record)
        if record.method == "PUT" and target is not None and target.upload.no_overwrite:
            return None
        return record.expires_at + RECHECK_MARGIN
