"""Replays of ``POST /uploads``: a request whose Idempotency-Key was claimed before answers the
same upload, or says why it cannot (the rules are ``presign.uploads.idempotency``'s).

Only the record is read, never the storage: a single upload's URL is the first answer's own,
signed again as at its creation (the same URL, valid until the same moment), so it costs nothing;
a multipart upload answers the same plan with part URLs signed now (its first ones may have
expired while the upload has not), one ``upload_parts`` unit each, as ``/parts`` would charge.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from presign.config.target import Target
from presign.errors import (
    Conflict,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    UploadGone,
    UploadNotPending,
)
from presign.ratelimit.spending import Spending
from presign.signing.context import SigningContext
from presign.uploads.idempotency import AWAIT_RECORD_DELAYS, STALE_CLAIM_SECONDS, WINDOW_SECONDS, Claim
from presign.uploads.issue import Issuing
from presign.uploads.ledger import epoch
from presign.uploads.parts import PartSigning
from presign.uploads.ports import ObjectsFor
from presign.uploads.records import UploadRecord
from presign.uploads.schemas import CreateUploadRequest, CreateUploadResponse

Spend = Callable[[CreateUploadRequest], None]


def _nothing(_: CreateUploadRequest) -> None:
    return None


def _in_progress() -> IdempotencyInProgress:
    return IdempotencyInProgress(
        "a request with this Idempotency-Key is still in progress; retry shortly", retry_after=1
    )


class Replaying(PartSigning):
    def _retry(
        self,
        existing: Claim,
        mine: Claim,
        issuing: Issuing,
        spend: Spend,
        spending: Spending,
        objects: ObjectsFor | None,
        *,
        claims: Mapping[str, str],
    ) -> CreateUploadResponse:
        """A request whose Idempotency-Key was claimed before: the same upload, or why not."""
        if not hmac.compare_digest(existing.fingerprint, mine.fingerprint):
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
        record = self._await_record(existing.owner, existing.upload_id)
        if record is None:
            store = self._require()
            now = epoch(self._clock())
            if now - existing.claimed_at < STALE_CLAIM_SECONDS or not store.take_over(
                existing, now=now, ttl=now + WINDOW_SECONDS
            ):
                raise _in_progress()
            # The first attempt died between its claim and its record: try again under its id.
            renewed = dataclasses.replace(existing, claimed_at=now)
            try:
                start = self._starter(objects, issuing.target_name)
                issued = issuing.issue(existing.upload_id, spend, start)
                try:
                    created = self._record(
                        existing.owner,
                        issuing.request,
                        issued,
                        existing.key_digest,
                        claims=claims,
                    )
                except BaseException:
                    self._undo_start(issued, objects)
                    raise
                if created:
                    return issued.response
                self._undo_start(issued, objects)
            except BaseException:
                self._release(renewed)
                raise
            record = store.get(existing.owner, existing.upload_id)
            if record is None:
                raise _in_progress()
        return self._resign(record, issuing, spending)

    def _await_record(self, owner: str, upload_id: str) -> UploadRecord | None:
        store = self._require()
        record = store.get(owner, upload_id)
        for delay in AWAIT_RECORD_DELAYS:
            if record is not None:
                break
            self._sleep(delay)
            record = store.get(owner, upload_id)
        return record

    def _resign(self, record: UploadRecord, issuing: Issuing, spending: Spending) -> CreateUploadResponse:
        """Sign the recorded upload again, as at its creation: the same key, URL and deadline."""
        if record.status != "pending":
            raise UploadNotPending(
                f"the upload made with this Idempotency-Key is {record.status}; use a new key for a new upload"
            )
        now = epoch(self._clock())
        if record.expires_at <= now:
            raise UploadGone("the upload made with this Idempotency-Key has expired; use a new key")
        signing = issuing.signing
        created = datetime.fromtimestamp(record.created_at, UTC)
        as_then = SigningContext(
            presigner=signing.presigner,
            credentials_expire_at=signing.credentials_expire_at,
            clock=lambda: created,
        )
        multipart = record.multipart
        grant = (
            dataclasses.replace(issuing, signing=as_then)
            .issue(
                record.upload_id,
                _nothing,
                (lambda _: multipart.storage_upload_id) if multipart is not None else None,
            )
            .response
        )
        # A threshold changed since may decide otherwise now: the record's way is the upload's.
        if grant.key != record.key or (multipart is None) != (grant.multipart is None):
            raise Conflict("the target's configuration changed since this upload began; use a new key")
        if multipart is not None:
            return self._resign_parts(record, grant, issuing.target, signing, spending)
        expires_at = epoch(datetime.fromisoformat(grant.expires_at.replace("Z", "+00:00")))
        if expires_at <= now:
            raise UploadGone("the upload made with this Idempotency-Key has expired; use a new key")
        return grant.model_copy(update={"expires_in": expires_at - now})

    def _resign_parts(
        self,
        record: UploadRecord,
        grant: CreateUploadResponse,
        target: Target,
        signing: SigningContext,
        spending: Spending,
    ) -> CreateUploadResponse:
        assert record.multipart is not None and grant.multipart is not None
        numbers = [part.part_number for part in grant.multipart.parts]
        if numbers:
            # Fresh URLs are fresh capabilities: they cost what /parts charges for them.
            spending.spend(record.target, len(numbers), action="upload_parts")
        parts, expires_at, expires_in = self._signed_parts(record, target, signing, numbers, None)
        return grant.model_copy(
            update={
                "expires_at": expires_at,
                "expires_in": expires_in,
                "multipart": grant.multipart.model_copy(update={"parts": parts}),
            }
        )
