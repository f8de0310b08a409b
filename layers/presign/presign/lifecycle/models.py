"""Request and response bodies of the lifecycle routes (names from the HTTP contract)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from presign.clock import isoformat_z
from presign.lifecycle.records import Status, UploadRecord
from presign.multipart.models import MultipartStatus, StoredPartStatus
from presign.multipart.plan import MAX_PARTS
from presign.multipart.requests import CompletedPart


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
