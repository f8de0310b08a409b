"""``POST /uploads/{upload_id}/complete``: compare what is stored with the record, and only then mark
the upload ``complete``.

A multipart upload is assembled first (ListParts checked against the plan and the client's
``parts``, then CompleteMultipartUpload); the HEAD of the result is then compared exactly like a
single upload's object. With an Idempotency-Key, a replay answers from the record alone.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Sequence

from presign.errors import (
    Conflict,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    NotMultipart,
    NotUploaded,
    PartsMissing,
    UploadGone,
    UploadMismatch,
)
from presign.ratelimit.spending import Spending
from presign.uploads.idempotency import STALE_CLAIM_SECONDS, WINDOW_SECONDS, Claim, fingerprint, key_digest
from presign.uploads.ledger import MAX_ROUNDS, Ledger, epoch
from presign.uploads.multipart.checks import ClaimedPart, parts_to_complete
from presign.uploads.ports import ObjectsFor, ObjectStore
from presign.uploads.records import UploadRecord
from presign.uploads.schemas import CompleteUploadRequest, CompleteUploadResponse, completion
from presign.uploads.verification import ObjectFacts, differences

COMPLETE_ROUTE = "POST /uploads/{upload_id}/complete"


class Completing(Ledger):
    def complete(
        self,
        owner: str,
        upload_id: str,
        *,
        objects: ObjectsFor,
        spending: Spending,
        idempotency_key: str | None = None,
        request: CompleteUploadRequest | None = None,
    ) -> CompleteUploadResponse:
        """Complete the caller's upload (one ``upload_complete`` unit); a replay of a completed one
        with the same Idempotency-Key answers from the record alone (``_claim_completion``).
        ``request``: the body, if any (a multipart upload's ``parts``)."""
        body = request.model_dump(mode="json", exclude_none=True) if request is not None else {}
        parts = (
            [ClaimedPart(p.part_number, p.etag, p.checksum_sha256) for p in request.parts]
            if request is not None and request.parts is not None
            else None
        )
        record = self._get(owner, upload_id)
        if parts is not None and record.multipart is None:
            raise NotMultipart("this upload is a single PUT or POST; complete it without parts")
        if idempotency_key is None:
            spending.spend(record.target)
            return self._complete(owner, upload_id, record, objects, parts)
        print_ = fingerprint(COMPLETE_ROUTE, {"upload_id": upload_id, "body": body})
        claim = Claim(owner, key_digest(idempotency_key), print_, upload_id, epoch(self._clock()))
        held = self._claim_completion(claim)
        if isinstance(held, CompleteUploadResponse):
            return held
        try:
            spending.spend(record.target)
            return self._complete(owner, upload_id, record, objects, parts)
        except BaseException:
            # Whatever failed, a retry must do the work again (and pay for it): free the key.
            self._release(held)
            raise

    def _claim_completion(self, claim: Claim) -> Claim | CompleteUploadResponse:
        """The claim this completion now holds, or the answer to a replay, from the record alone.

        A claim outlives its request only when the request succeeded (a failure releases it, so
        a retry does the work again and spends again). A replay that finds one therefore finds a
        completed record, answered as it is, or a request still running: 409
        ``idempotency_in_progress``, with no storage call, until the claim is stale (its request
        died without releasing it) and one retry takes it over. A record that reached another
        end meanwhile (aborted, deleted, ...) says so.
        """
        store = self._require()
        existing = store.claim(claim, ttl=claim.claimed_at + WINDOW_SECONDS)
        if existing is None:
            return claim
        if not hmac.compare_digest(existing.fingerprint, claim.fingerprint):
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
        record = self._get(claim.owner, claim.upload_id)  # again: the first may have finished since
        if record.status == "complete":
            return completion(record)
        self._require_pending(record)
        now = claim.claimed_at
        if now - existing.claimed_at < STALE_CLAIM_SECONDS or not store.take_over(
            existing, now=now, ttl=now + WINDOW_SECONDS
        ):
            raise IdempotencyInProgress(
                "a request with this Idempotency-Key is still in progress; retry shortly", retry_after=1
            )
        return dataclasses.replace(existing, claimed_at=now)

    def _complete(
        self,
        owner: str,
        upload_id: str,
        record: UploadRecord,
        objects: ObjectsFor,
        parts: Sequence[ClaimedPart] | None,
    ) -> CompleteUploadResponse:
        for _ in range(MAX_ROUNDS):
            if record.status == "complete":
                return completion(record)
            self._require_pending(record)
            if record.cleanup_at is not None:
                # The cleanup job is deleting what this stale upload stored (records.py: the fence).
                raise UploadGone("this upload expired; what it stored is being removed")
            storage = objects(record.target)
            assembled = self._assemble(storage, record, parts) if record.multipart is not None else "single"
            if assembled == "moved":
                record = self._get(owner, upload_id)
                continue
            facts = self._head(storage, record)
            now = epoch(self._clock())
            if facts is None:
                if assembled == "gone":
                    # The storage's upload is gone and left no object: aborted, by a DELETE
                    # racing this request (whose own write will say "aborted") or behind our
                    # back (a bucket's AbortIncompleteMultipartUpload rule). Which one, only the
                    # record can tell later: it expires with its lifetime, not before.
                    if now < record.expires_at:
                        raise UploadGone("the storage no longer holds this upload's parts")
                    if self._move(record.moved("expired", now=now), record):
                        raise UploadGone("the storage no longer holds this upload's parts")
                elif assembled == "assembled":
                    raise NotUploaded("the parts were assembled but the object is not visible yet; try again")
                elif now < record.expires_at:
                    raise NotUploaded(
                        "nothing is stored for this upload yet; upload the file, then complete again"
                    )
                # The URL is dead and nothing came: nothing can come any more.
                elif self._move(record.moved("expired", now=now), record):
                    raise UploadGone("this upload expired before anything was stored")
            else:
                problems = differences(record, facts)
                if problems:
                    storage.delete(record.key)  # first: a record never claims more than happened
                    if self._move(record.moved("rejected", now=now, problems=tuple(problems)), record):
                        raise UploadMismatch(
                            "the stored object differs from the upload and was deleted: "
                            + "; ".join(problems)
                        )
                else:
                    done = record.moved("complete", now=now, etag=facts.etag, completed_at=now)
                    if self._move(done, record):
                        return completion(done)
            record = self._get(owner, upload_id)  # someone moved it first: answer from what they did
        raise Conflict("the upload changed while it was being completed; try again")

    def _assemble(
        self, storage: ObjectStore, record: UploadRecord, claimed: Sequence[ClaimedPart] | None
    ) -> str:
        """CompleteMultipartUpload with the verified parts: ``"assembled"``; ``"gone"`` when the
        storage's upload no longer exists (completed by a racing request, or before an answer
        that was lost; or aborted: the HEAD tells which); ``"moved"`` when the record moved.

        Raises ``PartsMissing`` (409), ``UnknownPart`` or ``PartsMismatch`` (422), with nothing
        completed and the record still ``pending``; once the lifetime is over, missing parts
        expire the upload instead (aborted at the storage first).
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
            if now < record.expires_at:
                raise
            storage.abort_multipart(record.key, multipart.storage_upload_id)
            if self._move(record.moved("expired", now=now), record):
                raise UploadGone("this upload's lifetime ended before every part was uploaded") from None
            return "moved"
        if storage.complete_multipart(record.key, multipart.storage_upload_id, verified):
            return "assembled"
        return "gone"

    def _head(self, storage: ObjectStore, record: UploadRecord) -> ObjectFacts | None:
        checksum = record.checksum_sha256 is not None
        for attempt in range(self._settings.head_attempts):
            if attempt:
                self._sleep(self._settings.head_retry_delay * 2 ** (attempt - 1))
            facts = storage.head(record.key, checksum=checksum)
            if facts is not None:
                return facts
        return None
