"""The lifecycle routes' logic: begin (POST /uploads), complete, status, abort and list, and the
multipart routes' (part URLs, parts stored, verified completion).

Handlers pass in the caller, the target, a ``spend`` callback for the rate limit and the ports
(``store.RecordStore``, ``store.ObjectStore``); nothing here knows about HTTP, DynamoDB or boto3.
Which transitions exist, and why each is safe under concurrency, is in ``records``; the rules of
Idempotency-Key are in ``idempotency``.
"""

from __future__ import annotations

import dataclasses
import hmac
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from presign.auth import Principal
from presign.clock import Clock, isoformat_z
from presign.config import Target
from presign.errors import (
    ConfigurationError,
    Conflict,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    NotFound,
    NotMultipart,
    NotUploaded,
    PartsMissing,
    UnknownPart,
    Unprocessable,
    UploadAborted,
    UploadDeleted,
    UploadGone,
    UploadMismatch,
    UploadNotPending,
)
from presign.expiry import choose_expiry
from presign.keys import Namespace
from presign.lifecycle.cursor import decode_cursor, encode_cursor
from presign.lifecycle.idempotency import (
    AWAIT_RECORD_DELAYS,
    STALE_CLAIM_SECONDS,
    WINDOW_SECONDS,
    Claim,
    fingerprint,
    key_digest,
)
from presign.lifecycle.ids import MonotonicIds, is_upload_id
from presign.lifecycle.kinds import apply_kind
from presign.lifecycle.models import CompleteUploadResponse, UploadList, completion, status_of
from presign.lifecycle.records import Multipart, Status, UploadRecord
from presign.lifecycle.settings import UploadRecordSettings
from presign.lifecycle.store import ObjectStore, RecordStore
from presign.lifecycle.verification import ObjectFacts, differences
from presign.models import CreateUploadRequest, CreateUploadResponse
from presign.multipart.checks import ClaimedPart, parts_to_complete
from presign.multipart.models import PartUrl, RenewPartsResponse, SignedOperation, StoredPartStatus
from presign.multipart.operations import METHODS, operation_url
from presign.multipart.parts import sign_parts
from presign.multipart.requests import RenewPartsRequest, SignOperationRequest
from presign.providers import max_expiry
from presign.signing_context import SigningContext
from presign.uploads import Issued, MultipartStart, StartMultipart, create_upload

CREATE_ROUTE = "POST /uploads"
COMPLETE_ROUTE = "POST /uploads/{upload_id}/complete"
# A record moved by someone else is read again and the step retried; a few rounds settle any race
# (each round sees a later status, and statuses only move forward).
MAX_ROUNDS = 3
MAX_LIST_QUERIES = 4
_ACTIONS: dict[Status, str] = {
    "pending": "create",
    "complete": "complete",
    "rejected": "reject",
    "aborted": "abort",
    "expired": "expire",
    "deleted": "delete",
}

Spend = Callable[[str], None]  # spends the caller's budget of a route's action on a target
SpendMany = Callable[[str, int], None]  # ... that many units of it (one per URL signed)
ObjectsFor = Callable[[str], ObjectStore]  # the storage of a target, by name
SigningFor = Callable[[str], tuple[Target, SigningContext]]  # a target and its signer, by name


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One state change: who (the owner's digest), what, where, and the status it led to."""

    action: str
    owner: str
    target: str
    key: str
    upload_id: str
    outcome: Status


AuditSink = Callable[[AuditEvent], None]


class _Claimed(Exception):
    def __init__(self, claim: Claim) -> None:
        self.claim = claim


def _nothing(_: CreateUploadRequest) -> None:
    return None


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class Lifecycle:
    """The routes' logic over a ``RecordStore``; ``store`` None means records are turned off."""

    def __init__(
        self,
        store: RecordStore | None,
        settings: UploadRecordSettings,
        *,
        clock: Clock,
        sleep: Callable[[float], None] = time.sleep,
        random_bytes: Callable[[int], bytes] = os.urandom,
        audit: AuditSink | None = None,
        namespace: Namespace | None = None,
    ) -> None:
        """``namespace``: who owns what (``Runtime.namespace``); by default ``{sub}`` alone, with no
        target's prefix known, so no record's key is checked against one (tests)."""
        self._store = store
        self._settings = settings
        self._namespace = namespace or Namespace()
        self._clock = clock
        self._sleep = sleep
        self._new_id = MonotonicIds(random_bytes)
        self._audit: AuditSink = audit or (lambda event: None)

    @property
    def records_enabled(self) -> bool:
        return self._store is not None

    # -- POST /uploads ---------------------------------------------------------------------

    def begin(
        self,
        request: CreateUploadRequest,
        *,
        principal: Principal,
        target_name: str,
        target: Target,
        signing: SigningContext,
        spend: Callable[[CreateUploadRequest], None],
        spend_parts: SpendMany,
        idempotency_key: str | None = None,
        objects: ObjectsFor | None = None,
    ) -> CreateUploadResponse:
        """Check, spend, sign and record one upload (or answer the one this key already made).

        The record is written after signing and before answering: a record that cannot be
        written means no answer (503), so a client never holds a URL the service does not know.
        A multipart upload is started at the storage (``objects``) after spending and before
        the record; if the record then fails, the storage's upload is aborted again.

        ``spend`` is the create's (the ``upload`` action), spent once per upload; a replay signs
        from the record without a storage call, and pays ``spend_parts`` (``upload_parts``, one
        unit per part URL it signs again) for a multipart upload's URLs, as ``/parts`` would.
        """
        shaped = apply_kind(target, request)
        upload_id = self._new_id(self._clock())
        store = self._store
        if store is None:
            if idempotency_key is not None:
                raise Unprocessable("Idempotency-Key needs upload records, which this deployment turned off")
            return create_upload(
                request,
                principal=principal,
                target_name=target_name,
                target=shaped,
                signing=signing,
                upload_id=upload_id,
                spend=spend,
            ).response
        owner = self._namespace.owner(principal).digest
        start = self._starter(objects, target_name)
        if idempotency_key is None:
            issued = create_upload(
                request,
                principal=principal,
                target_name=target_name,
                target=shaped,
                signing=signing,
                upload_id=upload_id,
                spend=spend,
                start_multipart=start,
            )
            self._record_or_undo(owner, request, issued, None, objects)
            return issued.response

        digest = key_digest(idempotency_key)
        body = {**request.model_dump(mode="json"), "target": target_name}
        claim = Claim(owner, digest, fingerprint(CREATE_ROUTE, body), upload_id, _epoch(signing.now()))

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
            issued = create_upload(
                request,
                principal=principal,
                target_name=target_name,
                target=shaped,
                signing=signing,
                upload_id=upload_id,
                spend=claim_then_spend,
                start_multipart=start,
            )
        except _Claimed as taken:
            return self._retry(
                taken.claim,
                claim,
                request,
                principal,
                target_name,
                shaped,
                signing,
                spend,
                spend_parts,
                objects,
            )
        try:
            self._record_or_undo(owner, request, issued, digest, objects)
        except BaseException:
            self._release(claim)
            raise
        return issued.response

    @staticmethod
    def _starter(objects: ObjectsFor | None, target_name: str) -> StartMultipart | None:
        if objects is None:
            return None

        def start(what: MultipartStart) -> str:
            return objects(target_name).start_multipart(
                what.key, content_type=what.content_type, metadata=what.metadata, checksums=what.checksums
            )

        return start

    def _record_or_undo(
        self,
        owner: str,
        request: CreateUploadRequest,
        issued: Issued,
        digest: str | None,
        objects: ObjectsFor | None,
    ) -> None:
        """Record ``issued``; if that fails, abort the multipart upload it started (best effort)."""
        try:
            created = self._record(owner, request, issued, digest)
        except BaseException:
            self._undo_start(issued, objects)
            raise
        if not created:
            self._undo_start(issued, objects)
            raise Conflict("an upload with this id exists already; try again")

    @staticmethod
    def _undo_start(issued: Issued, objects: ObjectsFor | None) -> None:
        if issued.multipart is None or objects is None:
            return
        try:
            objects(issued.response.target).abort_multipart(
                issued.response.key, issued.multipart.storage_upload_id
            )
        except Exception:  # noqa: BLE001 - the record's failure is the one to answer; cleanup aborts later
            return

    def _record(self, owner: str, request: CreateUploadRequest, issued: Issued, digest: str | None) -> bool:
        grant = issued.response
        url_expires_at = _epoch(datetime.fromisoformat(grant.expires_at.replace("Z", "+00:00")))
        created = url_expires_at - grant.expires_in
        record = UploadRecord(
            owner=owner,
            upload_id=grant.upload_id,
            target=grant.target,
            key=grant.key,
            method=grant.method,
            size=request.size,
            content_type=request.content_type,
            status="pending",
            created_at=created,
            expires_at=issued.expires_at,
            updated_at=created,
            filename=request.filename,
            kind=request.kind,
            checksum_sha256=request.checksum_sha256,
            metadata=dict(request.metadata),
            idempotency_key=digest,
            multipart=issued.multipart,
        )
        assert self._store is not None
        if not self._store.create(record, ttl=self._ttl(record)):
            return False
        self._emit(record)
        return True

    def _retry(
        self,
        existing: Claim,
        mine: Claim,
        request: CreateUploadRequest,
        principal: Principal,
        target_name: str,
        shaped: Target,
        signing: SigningContext,
        spend: Callable[[CreateUploadRequest], None],
        spend_parts: SpendMany,
        objects: ObjectsFor | None,
    ) -> CreateUploadResponse:
        """A request whose Idempotency-Key was claimed before: the same upload, or why not."""
        if not hmac.compare_digest(existing.fingerprint, mine.fingerprint):
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
        record = self._await_record(existing.owner, existing.upload_id)
        if record is None:
            store = self._require()
            now = _epoch(self._clock())
            if now - existing.claimed_at < STALE_CLAIM_SECONDS or not store.take_over(
                existing, now=now, ttl=now + WINDOW_SECONDS
            ):
                raise IdempotencyInProgress(
                    "a request with this Idempotency-Key is still in progress; retry shortly", retry_after=1
                )
            # The first attempt died between its claim and its record: try again under its id.
            renewed = dataclasses.replace(existing, claimed_at=now)
            try:
                issued = create_upload(
                    request,
                    principal=principal,
                    target_name=target_name,
                    target=shaped,
                    signing=signing,
                    upload_id=existing.upload_id,
                    spend=spend,
                    start_multipart=self._starter(objects, target_name),
                )
                try:
                    created = self._record(existing.owner, request, issued, existing.key_digest)
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
                raise IdempotencyInProgress(
                    "a request with this Idempotency-Key is still in progress; retry shortly", retry_after=1
                )
        return self._resign(record, request, principal, target_name, shaped, signing, spend_parts)

    def _await_record(self, owner: str, upload_id: str) -> UploadRecord | None:
        store = self._require()
        record = store.get(owner, upload_id)
        for delay in AWAIT_RECORD_DELAYS:
            if record is not None:
                break
            self._sleep(delay)
            record = store.get(owner, upload_id)
        return record

    def _resign(
        self,
        record: UploadRecord,
        request: CreateUploadRequest,
        principal: Principal,
        target_name: str,
        shaped: Target,
        signing: SigningContext,
        spend_parts: SpendMany,
    ) -> CreateUploadResponse:
        """Sign the recorded upload again, as at its creation: the same key, URL and deadline.

        Only the record is read: no storage call (no HEAD, no ListParts, no second
        CreateMultipartUpload). A single upload's URL is the first answer's own, signed again, so
        it costs nothing; a multipart upload answers the same plan with part URLs signed now (its
        first ones may have expired while the upload has not), one ``upload_parts`` unit each.
        """
        if record.status != "pending":
            raise UploadNotPending(
                f"the upload made with this Idempotency-Key is {record.status}; use a new key for a new upload"
            )
        now = _epoch(self._clock())
        if record.expires_at <= now:
            raise UploadGone("the upload made with this Idempotency-Key has expired; use a new key")
        created = datetime.fromtimestamp(record.created_at, UTC)
        as_then = SigningContext(
            presigner=signing.presigner,
            credentials_expire_at=signing.credentials_expire_at,
            clock=lambda: created,
        )
        multipart = record.multipart
        grant = create_upload(
            request,
            principal=principal,
            target_name=target_name,
            target=shaped,
            signing=as_then,
            upload_id=record.upload_id,
            spend=_nothing,
            start_multipart=(lambda _: multipart.storage_upload_id) if multipart is not None else None,
        ).response
        # A threshold changed since may decide otherwise now: the record's way is the upload's.
        if grant.key != record.key or (multipart is None) != (grant.multipart is None):
            raise Conflict("the target's configuration changed since this upload began; use a new key")
        if multipart is not None:
            return self._resign_parts(record, grant, shaped, signing, spend_parts)
        expires_at = _epoch(datetime.fromisoformat(grant.expires_at.replace("Z", "+00:00")))
        if expires_at <= now:
            raise UploadGone("the upload made with this Idempotency-Key has expired; use a new key")
        return grant.model_copy(update={"expires_in": expires_at - now})

    def _resign_parts(
        self,
        record: UploadRecord,
        grant: CreateUploadResponse,
        target: Target,
        signing: SigningContext,
        spend_parts: SpendMany,
    ) -> CreateUploadResponse:
        assert record.multipart is not None and grant.multipart is not None
        numbers = [part.part_number for part in grant.multipart.parts]
        if numbers:
            # Fresh URLs are fresh capabilities: they cost what /parts charges for them.
            spend_parts(record.target, len(numbers))
        parts, expires_at, expires_in = self._signed_parts(record, target, signing, numbers, None)
        return grant.model_copy(
            update={
                "expires_at": expires_at,
                "expires_in": expires_in,
                "multipart": grant.multipart.model_copy(update={"parts": parts}),
            }
        )

    def _signed_parts(
        self,
        record: UploadRecord,
        target: Target,
        signing: SigningContext,
        numbers: list[int],
        checksums: list[str] | None,
    ) -> tuple[list[PartUrl], str, int]:
        """Part URLs signed now, valid for the policy's default expiry within the upload's lifetime."""
        assert record.multipart is not None
        now, expires_in = self._url_lifetime(record, target, signing)
        parts = sign_parts(
            signing.presigner,
            target.bucket,
            record.key,
            storage_upload_id=record.multipart.storage_upload_id,
            plan=record.multipart.plan(record.size),
            numbers=numbers,
            checksums=checksums,
            now=now,
            expires_in=expires_in,
        )
        return parts, isoformat_z(now + timedelta(seconds=expires_in)), expires_in

    # -- POST /uploads/{upload_id}/parts ------------------------------------------------------

    def renew_parts(
        self,
        owner: str,
        upload_id: str,
        request: RenewPartsRequest,
        *,
        signing_for: SigningFor,
        spend: SpendMany,
    ) -> RenewPartsResponse:
        """Fresh URLs for parts of a pending multipart upload of the caller; one unit per URL."""
        record, multipart = self._pending_multipart(owner, upload_id, "parts")
        plan = multipart.plan(record.size)
        outside = [n for n in request.part_numbers if not plan.has(n)]
        if outside:
            raise UnknownPart(
                f"this upload has parts 1 to {plan.part_count}; asked for {', '.join(map(str, outside[:10]))}"
            )
        checksums = request.checksums_sha256
        if checksums is not None and len(checksums) != len(request.part_numbers):
            raise Unprocessable("checksums_sha256 must have one checksum per part number, in the same order")
        if multipart.checksums and request.checksums_sha256 is None:
            raise Unprocessable(
                "this upload declared part checksums: send checksums_sha256 with part_numbers"
            )
        if not multipart.checksums and request.checksums_sha256 is not None:
            raise Unprocessable("this upload declared no part checksums; send part_numbers only")
        target, signing = signing_for(record.target)
        spend(record.target, len(request.part_numbers))
        parts, expires_at, expires_in = self._signed_parts(
            record, target, signing, list(request.part_numbers), request.checksums_sha256
        )
        return RenewPartsResponse(
            upload_id=upload_id, parts=parts, expires_at=expires_at, expires_in=expires_in
        )

    def _pending_multipart(
        self, owner: str, upload_id: str, signed: Literal["parts", "requests"]
    ) -> tuple[UploadRecord, Multipart]:
        """The caller's pending multipart upload, whose ``signed`` (parts or requests) are asked for."""
        if self._store is None:
            raise NotFound("no such upload")  # without records there are no multipart uploads
        record = self._get(owner, upload_id)
        if record.multipart is None:
            has_none = "parts" if signed == "parts" else "multipart requests to sign"
            raise NotMultipart(f"this upload is a single PUT or POST; it has no {has_none}")
        if record.status != "pending":
            self._require_pending(record)
            raise UploadNotPending(f"this upload is {record.status}; its {signed} cannot be signed")
        return record, record.multipart

    # -- POST /uploads/{upload_id}/sign -------------------------------------------------------

    def sign_operation(
        self,
        owner: str,
        upload_id: str,
        request: SignOperationRequest,
        *,
        signing_for: SigningFor,
        spend: SpendMany,
    ) -> SignedOperation:
        """A presigned ListParts, CompleteMultipartUpload or AbortMultipartUpload for a pending
        multipart upload of the caller, on the server's key and storage upload; one unit.

        Why none of them gives up a bound is in ``presign.multipart.operations``. An upload with
        part checksums is completed by ``/complete`` only: a client's own completion could leave
        the parts' checksums out of the assembled object.
        """
        record, multipart = self._pending_multipart(owner, upload_id, "requests")
        if request.operation == "complete_multipart_upload" and multipart.checksums:
            raise Unprocessable(
                "this upload declared part checksums: complete it with POST /uploads/{upload_id}/complete"
            )
        target, signing = signing_for(record.target)
        spend(record.target, 1)
        now, expires_in = self._url_lifetime(record, target, signing)
        url = operation_url(
            signing.presigner,
            target.bucket,
            record.key,
            storage_upload_id=multipart.storage_upload_id,
            operation=request.operation,
            now=now,
            expires_in=expires_in,
        )
        return SignedOperation(
            upload_id=upload_id,
            operation=request.operation,
            method=METHODS[request.operation],
            url=url,
            headers={},
            expires_at=isoformat_z(now + timedelta(seconds=expires_in)),
            expires_in=expires_in,
        )

    @staticmethod
    def _url_lifetime(record: UploadRecord, target: Target, signing: SigningContext) -> tuple[datetime, int]:
        """Now, and how long a URL on this multipart upload is good for: the policy's default
        expiry, within the upload's lifetime."""
        now = signing.now()
        remaining = record.expires_at - _epoch(now)
        if remaining <= 0:
            raise UploadGone("this multipart upload's lifetime has ended")
        policy = target.upload
        expires_in = choose_expiry(
            None,
            default=policy.default_expiry,
            maximum=min(policy.max_expiry, max_expiry(target)),
            now=now,
            credentials_expire_at=signing.credentials_expire_at,
        )
        return now, min(expires_in, remaining)

    # -- POST /uploads/{upload_id}/complete --------------------------------------------------

    def complete(
        self,
        owner: str,
        upload_id: str,
        *,
        objects: ObjectsFor,
        spend: Spend,
        idempotency_key: str | None = None,
        body: Mapping[str, Any] | None = None,
        parts: Sequence[ClaimedPart] | None = None,
    ) -> CompleteUploadResponse:
        """Compare what is stored with the record, and only then mark the upload ``complete``.

        A multipart upload is assembled first (``_assemble``: ListParts checked against the plan
        and the client's ``parts``, then CompleteMultipartUpload); the HEAD of the result is then
        compared exactly like a single upload's object.

        With an Idempotency-Key, a replay answers from the record alone (``_claim_completion``).
        """
        record = self._get(owner, upload_id)
        if parts is not None and record.multipart is None:
            raise NotMultipart("this upload is a single PUT or POST; complete it without parts")
        if idempotency_key is None:
            spend(record.target)
            return self._complete(owner, upload_id, record, objects, parts)
        print_ = fingerprint(COMPLETE_ROUTE, {"upload_id": upload_id, "body": dict(body or {})})
        claim = Claim(owner, key_digest(idempotency_key), print_, upload_id, _epoch(self._clock()))
        held = self._claim_completion(claim)
        if isinstance(held, CompleteUploadResponse):
            return held
        try:
            spend(record.target)
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
            now = _epoch(self._clock())
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
            now = _epoch(self._clock())
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

    @staticmethod
    def _require_pending(record: UploadRecord) -> None:
        if record.status in ("rejected", "aborted"):
            raise UploadNotPending(f"this upload was {record.status}; it cannot be completed")
        if record.status == "expired":
            raise UploadGone("this upload expired before anything was stored")
        if record.status == "deleted":
            raise UploadGone("this upload was deleted")

    # -- GET / DELETE /uploads/{upload_id}, GET /uploads ---------------------------------------

    def status(self, owner: str, upload_id: str, *, spend: Spend) -> UploadRecord:
        """The caller's upload, unless a ``DELETE`` ended it: then 410, as for any deleted thing
        (its record stays in ``GET /uploads?status=aborted|deleted``, the list's business)."""
        record = self._get(owner, upload_id)
        spend(record.target)
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

    def abort(self, owner: str, upload_id: str, *, objects: ObjectsFor, spend: Spend) -> UploadRecord:
        """Abort a pending upload or delete a completed one; the object goes first, every time
        (and a multipart upload's parts before it: AbortMultipartUpload).

        A record already final is left as it is, but its key is deleted again: a URL that was
        still valid may have stored an object after the abort.
        """
        record = self._get(owner, upload_id)
        spend(record.target)
        for _ in range(MAX_ROUNDS):
            storage = objects(record.target)
            if record.multipart is not None and record.status not in ("complete", "deleted"):
                # Again for a final record too: a part still in flight may have arrived since.
                storage.abort_multipart(record.key, record.multipart.storage_upload_id)
            storage.delete(record.key)
            now = _epoch(self._clock())
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
        self, owner: str, *, status: Status | None, limit: int, cursor: str | None, spend: Callable[[], None]
    ) -> UploadList:
        store = self._require()
        after = decode_cursor(cursor, owner, status) if cursor else None
        spend()
        records: list[UploadRecord] = []
        for _ in range(MAX_LIST_QUERIES):
            page = store.page(owner, status=status, limit=limit - len(records), after=after)
            records.extend(r for r in page.records if self._namespace.holds(owner, r.target, r.key))
            after = page.last_upload_id
            if after is None or len(records) >= limit:
                break
        next_cursor = encode_cursor(owner, status, after) if after is not None else None
        return UploadList(items=[status_of(r) for r in records], cursor=next_cursor)

    # -- helpers ---------------------------------------------------------------------------

    def _require(self) -> RecordStore:
        if self._store is None:
            raise ConfigurationError("upload records are turned off (upload_records.enabled)")
        return self._store

    def _get(self, owner: str, upload_id: str) -> UploadRecord:
        # A malformed id, an unknown one and another caller's are the same answer; so is one
        # whose key is outside the caller's prefix (defence in depth: Namespace.holds).
        record = self._require().get(owner, upload_id) if is_upload_id(upload_id) else None
        if record is None or not self._namespace.holds(owner, record.target, record.key):
            raise NotFound("no such upload")
        return record

    def _move(self, moved: UploadRecord, current: UploadRecord) -> bool:
        if not self._require().transition(moved, expected=current.status, ttl=self._ttl(moved)):
            return False
        self._emit(moved)
        return True

    def _release(self, claim: Claim) -> None:
        # Best effort: a claim that stays behind only makes the retry wait STALE_CLAIM_SECONDS.
        try:
            self._require().release(claim)
        except Exception:  # noqa: BLE001 - the original error is the one to answer
            return

    def _ttl(self, record: UploadRecord) -> int | None:
        settings = self._settings
        if record.status == "pending":
            return record.expires_at + settings.pending_retention
        if record.status == "complete":
            if settings.completed_retention is None:
                return None
            return (record.completed_at or record.updated_at) + settings.completed_retention
        return record.updated_at + settings.closed_retention

    def _emit(self, record: UploadRecord) -> None:
        try:
            self._audit(
                AuditEvent(
                    action=_ACTIONS[record.status],
                    owner=record.owner,
                    target=record.target,
                    key=record.key,
                    upload_id=record.upload_id,
                    outcome=record.status,
                )
            )
        except Exception:  # noqa: BLE001 - a logging hiccup must not fail a state change that happened
            return
