"""Response bodies of multipart uploads (the request bodies are in ``presign.multipart.requests``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
