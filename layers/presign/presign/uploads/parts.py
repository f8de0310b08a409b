"""URLs on a pending multipart upload: fresh part URLs (``POST /uploads/{upload_id}/parts``) and
the other presigned S3 requests on it (``POST /uploads/{upload_id}/sign``). Each URL lives the
target's default expiry, within the upload's lifetime, and costs one ``upload_parts`` unit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from presign.clock import isoformat_z
from presign.config.capabilities import max_expiry
from presign.config.target import Target
from presign.core.expiry import choose_expiry
from presign.errors import NotFound, NotMultipart, UnknownPart, Unprocessable, UploadGone, UploadNotPending
from presign.ratelimit.spending import Spending
from presign.signing.context import SigningContext
from presign.uploads.ledger import Ledger, epoch, target_gone
from presign.uploads.multipart.operations import METHODS, operation_url
from presign.uploads.multipart.urls import sign_parts
from presign.uploads.records import Multipart, UploadRecord
from presign.uploads.schemas import (
    PartUrl,
    RenewPartsRequest,
    RenewPartsResponse,
    SignedOperation,
    SignOperationRequest,
)


class PartSigning(Ledger):
    def renew_parts(
        self, owner: str, upload_id: str, request: RenewPartsRequest, *, spending: Spending
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
        target, signing = self._signing_of(record.target)
        spending.spend(record.target, len(request.part_numbers))
        parts, expires_at, expires_in = self._signed_parts(
            record, target, signing, list(request.part_numbers), request.checksums_sha256
        )
        return RenewPartsResponse(
            upload_id=upload_id, parts=parts, expires_at=expires_at, expires_in=expires_in
        )

    def sign_operation(
        self, owner: str, upload_id: str, request: SignOperationRequest, *, spending: Spending
    ) -> SignedOperation:
        """A presigned ListParts, CompleteMultipartUpload or AbortMultipartUpload for a pending
        multipart upload of the caller, on the server's key and storage upload; one unit.

        Why none of them gives up a bound is in ``presign.uploads.multipart.operations``. An upload
        with part checksums is completed by ``/complete`` only: a client's own completion could
        leave the parts' checksums out of the assembled object.
        """
        record, multipart = self._pending_multipart(owner, upload_id, "requests")
        if request.operation == "complete_multipart_upload" and multipart.checksums:
            raise Unprocessable(
                "this upload declared part checksums: complete it with POST /uploads/{upload_id}/complete"
            )
        target, signing = self._signing_of(record.target)
        spending.spend(record.target, 1)
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

    def _signing_of(self, name: str) -> tuple[Target, SigningContext]:
        """The record's target and its signer: 410 once the target is no longer configured."""
        targets = self._require_targets()
        _, target = targets.target(name, target_gone)
        return target, targets.signing(name, target)

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

    @staticmethod
    def _url_lifetime(record: UploadRecord, target: Target, signing: SigningContext) -> tuple[datetime, int]:
        """Now, and how long a URL on this multipart upload is good for: the policy's default
        expiry, within the upload's lifetime."""
        now = signing.now()
        remaining = record.expires_at - epoch(now)
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
