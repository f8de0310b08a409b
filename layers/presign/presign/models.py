"""Request and response bodies of the HTTP API (the contract's field names are fixed).

Handlers validate input with these models (Powertools turns them into the OpenAPI document);
domain functions take them and return the output models.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from presign.config import MAX_PRESIGN_EXPIRY

# type/subtype with optional parameters; no CR, LF or other controls can reach a signed header.
_CONTENT_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+\-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+\-]{0,126}"
    r"(\s*;\s*[A-Za-z0-9!#$&^_.+\-]+=(\"[\x20-\x21\x23-\x7e]*\"|[A-Za-z0-9!#$&^_.+\-]+))*$"
)
_META_KEY = re.compile(r"^[a-z0-9][a-z0-9\-]{0,63}$")
MAX_METADATA_BYTES = 2048  # S3's limit for all user metadata together


class _Input(BaseModel):
    # Strict: "12" is not a size and 1 is not a filename; clients learn that at once.
    model_config = ConfigDict(extra="forbid", strict=True)


def _content_type(value: str) -> str:
    if not _CONTENT_TYPE.match(value):
        raise ValueError("must be a media type such as 'image/png'")
    return value


ExpiresIn = Annotated[int, Field(gt=0, le=MAX_PRESIGN_EXPIRY, description="seconds the URL stays valid")]


class CreateUploadRequest(_Input):
    filename: str = Field(min_length=1, max_length=1024)
    content_type: str = Field(min_length=3, max_length=255)
    size: int = Field(gt=0, description="exact size in bytes; the URL only accepts this many")
    target: str | None = Field(default=None, min_length=1, max_length=64)
    kind: str | None = Field(default=None, min_length=1, max_length=32, description="a named upload policy")
    method: Literal["PUT", "POST"] = "PUT"
    checksum_sha256: str | None = Field(default=None, description="base64 SHA-256 of the content")
    metadata: dict[str, str] = Field(default_factory=dict, max_length=10)
    expires_in: ExpiresIn | None = None
    multipart: bool = False

    @field_validator("content_type")
    @classmethod
    def _ct(cls, value: str) -> str:
        return _content_type(value)

    @field_validator("checksum_sha256")
    @classmethod
    def _checksum(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            digest = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64") from None
        if len(digest) != 32:
            raise ValueError("must be the base64 of a 32-byte SHA-256 digest")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, str]) -> dict[str, str]:
        total = 0
        for key, item in value.items():
            if not _META_KEY.match(key):
                raise ValueError("metadata keys are 1-64 of a-z, 0-9 and '-'")
            if not all(0x20 <= ord(ch) < 0x7F for ch in item):
                raise ValueError("metadata values must be printable ASCII")
            total += len(key) + len(item)
        if total > MAX_METADATA_BYTES:
            raise ValueError("metadata must be at most 2 KB in total")
        return value


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


class DownloadsRequest(_Input):
    keys: str | list[str] = Field(description="one key or a list of keys")
    target: str | None = Field(default=None, min_length=1, max_length=64)
    expires_in: ExpiresIn | None = None
    disposition: Literal["attachment", "inline"] | None = None
    filename: str | None = Field(default=None, min_length=1, max_length=255)
    content_type: str | None = Field(default=None, min_length=3, max_length=255)

    @field_validator("content_type")
    @classmethod
    def _ct(cls, value: str | None) -> str | None:
        return None if value is None else _content_type(value)

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: str | list[str]) -> str | list[str]:
        items = [value] if isinstance(value, str) else value
        if not items:
            raise ValueError("at least one key is required")
        if len(items) > 1000:
            raise ValueError("at most 1000 keys per request")
        if any(len(k) > 4096 for k in items):
            raise ValueError("a key is far too long")
        return value

    def key_list(self) -> list[str]:
        return [self.keys] if isinstance(self.keys, str) else list(self.keys)


class ItemError(BaseModel):
    code: str
    message: str


class DownloadItem(BaseModel):
    key: str
    url: str | None = None
    expires_at: str | None = None
    error: ItemError | None = None


class DownloadsResponse(BaseModel):
    items: list[DownloadItem]
    expires_in: int


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str


class ErrorResponse(BaseModel):
    error: ErrorBody
