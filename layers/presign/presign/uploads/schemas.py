"""Request and response bodies of the upload routes (the contract's field names are fixed):
POST /uploads, /uploads/{upload_id}/parts, /sign and /complete, GET and DELETE /uploads/{upload_id},
GET /uploads. Pure models, which the function modules import for their routes' signatures.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from presign.clock import isoformat_z
from presign.core.schemas import (
    AS_JSON_INTEGER,
    Checksum,
    ContentType,
    ExpiresIn,
    Metadata,
    ObjectSize,
    StrictInput,
)
from presign.limits import MAX_PART_URLS_PER_REQUEST, MAX_PARTS
from presign.uploads.records import Status as Status  # the status filter of GET /uploads, re-exported
from presign.uploads.records import UploadRecord

# The S3 requests on a multipart upload that POST /uploads/{upload_id}/sign presigns
# (presign.uploads.multipart.operations).
Operation = Literal["list_parts", "complete_multipart_upload", "abort_multipart_upload"]
OPERATIONS: tuple[Operation, ...] = ("list_parts", "complete_multipart_upload", "abort_multipart_upload")

# The request header a client repeats to retry POST /uploads or /complete safely
# (presign.uploads.idempotency), lower-case as the gate hands headers over.
IDEMPOTENCY_KEY = "idempotency-key"


class CreateUploadRequest(StrictInput):
    filename: str = Field(min_length=1, max_length=1024)
    content_type: ContentType
    size: ObjectSize
    target: str | None = Field(default=None, min_length=1, max_length=64)
    kind: str | None = Field(default=None, min_length=1, max_length=32, description="a named upload policy")
    method: Literal["PUT", "POST"] = "PUT"
    checksum_sha256: Checksum | None = None
    metadata: Metadata = Field(default_factory=dict)
    expires_in: ExpiresIn | None = None
    multipart: bool | None = Field(
        default=None,
        description=(
            "true: upload in parts (PUT only); false: one PUT or POST (at most 5 GiB); left out: in parts "
            "above the target's threshold"
        ),
    )
    part_checksums: bool = Field(
        default=False,
        description="multipart: every part will carry its SHA-256, signed into its URL (ask /parts with them)",
    )


class CreateUploadResponse(BaseModel):
    upload_id: str
    key: str
    target: str
    method: Literal["PUT", "POST"]
    url: str
    headers: dict[str, str] = Field(description="send exactly these headers with the PUT")
    fields: dict[str, str] = Field(description="for POST: form fields to send before the file")
    expires_at: str = Field(description="ISO 8601 UTC")
    expires_in: int
    multipart: MultipartGrant | None = Field(
        default=None,
        description="for a multipart upload (then url is empty): the plan and the first part URLs",
    )


class PartUrl(BaseModel):
    part_number: int
    url: str = Field(description="a presigned PUT for this part only")
    size: int = Field(description="the part's exact size in bytes; the URL accepts no other")
    headers: dict[str, str] = Field(description="send exactly these headers with the part's PUT")


class MultipartGrant(BaseModel):
    part_size: int = Field(description="every part's size but the last, which may be smaller")
    part_count: int
    parts: list[PartUrl] = Field(
        description=(
            "URLs of the first parts (or none, with part_checksums); ask POST /uploads/{upload_id}/parts "
            "for the others and for fresh ones"
        )
    )
    part_checksums: bool = Field(description="every part must carry its SHA-256 (x-amz-checksum-sha256)")
    expires_at: str = Field(
        description="ISO 8601 UTC: part URLs can be renewed, and the upload completed, until then"
    )


class RenewPartsResponse(BaseModel):
    upload_id: str
    parts: list[PartUrl]
    expires_at: str = Field(description="ISO 8601 UTC: when these URLs expire")
    expires_in: int


class SignedOperation(BaseModel):
    upload_id: str
    operation: str
    method: str = Field(description="the HTTP method to send to url: GET, POST or DELETE")
    url: str = Field(description="a presigned URL for this one S3 request on this upload")
    headers: dict[str, str] = Field(description="send exactly these headers (none are signed today)")
    expires_at: str = Field(description="ISO 8601 UTC: when the URL expires")
    expires_in: int


class StoredPartStatus(BaseModel):
    part_number: int
    size: int
    etag: str


class MultipartStatus(BaseModel):
    part_size: int
    part_count: int
    part_checksums: bool
    parts: list[StoredPartStatus] | None = Field(
        default=None, description="for a pending upload: the parts the storage has, by number"
    )


# An ETag as stores send it: printable ASCII without spaces, quoted or not.
ETAG_PATTERN = r'^"?[\x21\x23-\x7e]{1,128}"?$'
_ETAG = re.compile(ETAG_PATTERN)

PartNumber = Annotated[int, Field(ge=1, le=MAX_PARTS), AS_JSON_INTEGER]


def _etag(value: str) -> str:
    if not _ETAG.fullmatch(value):
        raise ValueError(
            "must be the part's ETag as the storage answered it (printable ASCII, quotes optional)"
        )
    return value


Etag = Annotated[
    str,
    Field(json_schema_extra={"pattern": ETAG_PATTERN, "examples": ['"5d41402abc4b2a76b9719d911017c592"']}),
    AfterValidator(_etag),
]


class RenewPartsRequest(StrictInput):
    part_numbers: list[PartNumber] = Field(
        min_length=1,
        max_length=MAX_PART_URLS_PER_REQUEST,
        description="parts of the plan to sign, each once",
        json_schema_extra={"uniqueItems": True},
    )
    checksums_sha256: list[Checksum] | None = Field(
        default=None,
        max_length=MAX_PART_URLS_PER_REQUEST,
        description="with part_checksums: the base64 SHA-256 of each part, in the order of part_numbers",
    )

    # Published as uniqueItems, so a repeat is a 400 like any schema violation. That the two lists
    # are as long as each other no schema can say: the service refuses that with 422.
    @model_validator(mode="after")
    def _unique(self) -> RenewPartsRequest:
        if len(set(self.part_numbers)) != len(self.part_numbers):
            raise ValueError("part_numbers must name each part once")
        return self


class CompletedPart(StrictInput):
    part_number: PartNumber
    etag: Etag
    checksum_sha256: Checksum | None = Field(
        default=None, description="with part_checksums: the part's SHA-256, as its URL was signed with"
    )


class SignOperationRequest(StrictInput):
    operation: Operation = Field(
        description=(
            "the S3 request on this pending multipart upload to presign: ListParts (GET), "
            "CompleteMultipartUpload (POST, with the parts XML as its body) or AbortMultipartUpload "
            "(DELETE). The key and the storage's upload id are the server's"
        )
    )


class CompleteUploadRequest(BaseModel):
    """Empty for a single PUT or POST upload; ``parts`` optional for a multipart one."""

    model_config = ConfigDict(extra="forbid", strict=True)

    parts: list[CompletedPart] | None = Field(
        default=None,
        max_length=MAX_PARTS,
        description=(
            "multipart: every part of the plan with the ETag its PUT answered; left out, the parts the "
            "storage holds are completed if they match the plan. The whole body counts against "
            "max_body_bytes (256 KiB by default, 413 above it): about 4,000 parts fit; for more, "
            "complete without a list"
        ),
    )


class CompleteUploadResponse(BaseModel):
    upload_id: str
    key: str
    size: int
    content_type: str
    etag: str = Field(description="the stored object's ETag, as the storage reports it")
    status: Literal["complete"]


class UploadStatus(BaseModel):
    upload_id: str
    status: Status
    target: str
    key: str
    kind: str | None = None
    method: Literal["PUT", "POST"]
    filename: str
    size: int
    content_type: str
    checksum_sha256: str | None = None
    metadata: dict[str, str]
    created_at: str = Field(description="ISO 8601 UTC")
    expires_at: str = Field(
        description="ISO 8601 UTC: when the upload URL expires (multipart: when the upload's lifetime ends)"
    )
    updated_at: str = Field(description="ISO 8601 UTC")
    completed_at: str | None = None
    etag: str | None = None
    problems: list[str] | None = Field(default=None, description="for a rejected upload: what differed")
    multipart: MultipartStatus | None = None


class UploadList(BaseModel):
    items: list[UploadStatus]
    cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")


def _iso(epoch: int) -> str:
    return isoformat_z(datetime.fromtimestamp(epoch, UTC))


def completion(record: UploadRecord) -> CompleteUploadResponse:
    return CompleteUploadResponse(
        upload_id=record.upload_id,
        key=record.key,
        size=record.size,
        content_type=record.content_type,
        etag=record.etag or "",
        status="complete",
    )


def status_of(record: UploadRecord, parts: list[StoredPartStatus] | None = None) -> UploadStatus:
    """The record as the API shows it; ``parts``, for a pending multipart upload, what is stored."""
    multipart = record.multipart
    return UploadStatus(
        upload_id=record.upload_id,
        status=record.status,
        target=record.target,
        key=record.key,
        kind=record.kind,
        method=record.method,
        filename=record.filename,
        size=record.size,
        content_type=record.content_type,
        checksum_sha256=record.checksum_sha256,
        metadata=dict(record.metadata),
        created_at=_iso(record.created_at),
        expires_at=_iso(record.expires_at),
        updated_at=_iso(record.updated_at),
        completed_at=_iso(record.completed_at) if record.completed_at is not None else None,
        etag=record.etag,
        problems=list(record.problems) or None,
        multipart=MultipartStatus(
            part_size=multipart.part_size,
            part_count=multipart.plan(record.size).part_count,
            part_checksums=multipart.checksums,
            parts=parts,
        )
        if multipart is not None
        else None,
    )
