"""``POST /uploads``: check, spend, sign and record one upload, or answer the one an
Idempotency-Key already made (``presign.uploads.replay``).

The record is written after signing and before answering: a record that cannot be written means
no answer (503), so a client never holds a URL the service does not know. A multipart upload is
started at the storage after spending and before the record; if the record then fails, the
storage's upload is aborted again.
"""

from __future__ import annotations

from presign.auth import Principal
from presign.config.target import Target
from presign.errors import Unprocessable
from presign.ratelimit.spending import Spending
from presign.uploads.idempotency import WINDOW_SECONDS, Claim, fingerprint, key_digest
from presign.uploads.issue import Issuing
from presign.uploads.kinds import apply_kind
from presign.uploads.ledger import epoch
from presign.uploads.ports import ObjectsFor
from presign.uploads.replay import Replaying
from presign.uploads.schemas import CreateUploadRequest, CreateUploadResponse

CREATE_ROUTE = "POST /uploads"


class _Claimed(Exception):
    def __init__(self, claim: Claim) -> None:
        self.claim = claim


class Granting(Replaying):
    def begin(
        self,
        request: CreateUploadRequest,
        *,
        principal: Principal,
        target_name: str,
        target: Target,
        spending: Spending,
        idempotency_key: str | None = None,
        objects: ObjectsFor | None = None,
    ) -> CreateUploadResponse:
        """Check, spend, sign and record one upload (or answer the one this key already made).

        ``spending`` pays the ``upload`` action once per upload (with its bytes, against the daily
        quota); a replay signs from the record without a storage call, and pays ``upload_parts``
        (one unit per part URL it signs again) for a multipart upload's URLs, as ``/parts`` would.
        """
        signing = self._require_targets().signing(target_name, target)
        issuing = Issuing(request, principal, target_name, apply_kind(target, request), signing)
        upload_id = self._new_id(self._clock())

        def spend(checked: CreateUploadRequest) -> None:
            spending.upload(target_name, checked.size)

        store = self._store
        if store is None:
            if idempotency_key is not None:
                raise Unprocessable("Idempotency-Key needs upload records, which this deployment turned off")
            return issuing.issue(upload_id, spend).response
        who = self._namespace.owner(principal)
        owner = who.digest
        start = self._starter(objects, target_name)
        if idempotency_key is None:
            issued = issuing.issue(upload_id, spend, start)
            self._record_or_undo(owner, request, issued, None, objects, claims=who.claims)
            return issued.response

        digest = key_digest(idempotency_key)
        body = {**request.model_dump(mode="json"), "target": target_name}
        claim = Claim(owner, digest, fingerprint(CREATE_ROUTE, body), upload_id, epoch(signing.now()))

        def claim_then_spend(checked: CreateUploadRequest) -> None:
            # After the request's own checks, before any spending: only the winner spends.
            existing = store.claim(claim, ttl=claim.claimed_at + WINDOW_SECONDS)
            if existing is not None:
                raise _Claimed(existing)
            try:
                spend(checked)
            except BaseException:
                self._release(claim)
                raise

        try:
            issued = issuing.issue(upload_id, claim_then_spend, start)
        except _Claimed as taken:
            return self._retry(taken.claim, claim, issuing, spend, spending, objects, claims=who.claims)
        try:
            self._record_or_undo(owner, request, issued, digest, objects, claims=who.claims)
        except BaseException:
            self._release(claim)
            raise
        return issued.response
