"""``POST /uploads/{upload_id}/complete``: the client's way into the one completion path
(``presign.uploads.completion``), with its Idempotency-Key and its spend.

A multipart upload's ``parts`` are the client's list, checked against ListParts and the plan. A
record someone else already decided answers as if this client had asked first: ``complete``, 200
with the record; ``rejected`` (by the cleanup or a storage event), 422 with the recorded problems
and code. With an Idempotency-Key, a replay answers from the record alone.
"""

from __future__ import annotations

import dataclasses
import hmac

from presign.errors import IdempotencyInProgress, IdempotencyKeyReused, NotMultipart
from presign.ratelimit.spending import Spending
from presign.uploads.completion import Completion, rejection
from presign.uploads.idempotency import STALE_CLAIM_SECONDS, WINDOW_SECONDS, Claim, fingerprint, key_digest
from presign.uploads.ledger import epoch
from presign.uploads.multipart.checks import ClaimedPart
from presign.uploads.ports import ObjectsFor
from presign.uploads.schemas import CompleteUploadRequest, CompleteUploadResponse, completion

COMPLETE_ROUTE = "POST /uploads/{upload_id}/complete"


class Completing(Completion):
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
            return completion(self.settle(record, objects, actor="client", parts=parts))
        print_ = fingerprint(COMPLETE_ROUTE, {"upload_id": upload_id, "body": body})
        claim = Claim(owner, key_digest(idempotency_key), print_, upload_id, epoch(self._clock()))
        held = self._claim_completion(claim)
        if isinstance(held, CompleteUploadResponse):
            return held
        try:
            spending.spend(record.target)
            return completion(self.settle(record, objects, actor="client", parts=parts))
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
        if record.status == "rejected":
            raise rejection(record)
        self._require_pending(record)
        now = claim.claimed_at
        if now - existing.claimed_at < STALE_CLAIM_SECONDS or not store.take_over(
            existing, now=now, ttl=now + WINDOW_SECONDS
        ):
            raise IdempotencyInProgress(
                "a request with this Idempotency-Key is still in progress; retry shortly", retry_after=1
            )
        return dataclasses.replace(existing, claimed_at=now)
