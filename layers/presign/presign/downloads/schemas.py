"""Request and response bodies of ``POST /downloads`` (the contract's field names are fixed)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from presign.core.schemas import KEY_PATTERN, ContentType, ExpiresIn, ItemError, StrictInput
from presign.limits import MAX_KEY_CHARS

MAX_KEYS_PER_REQUEST = 1000

# The per-key rules are checked key by key (a refused key of a batch gets an error item), so the
# model itself only bounds the length; the pattern is published for what a key must be to be signed.
DownloadKey = Annotated[
    str,
    Field(
        json_schema_extra={
            "pattern": KEY_PATTERN,
            "maxLength": MAX_KEY_CHARS,
            "examples": ["users/alice/2026/11/22/k3J/cat.png"],
        }
    ),
]


class DownloadsRequest(StrictInput):
    keys: DownloadKey | Annotated[list[DownloadKey], Field(min_length=1, max_length=MAX_KEYS_PER_REQUEST)] = (
        Field(
            description=(
                "one key or a list of keys, each under the caller's prefix; a key that is refused gets an "
                "error item of its own, unless no key is acceptable (then the request is refused)"
            )
        )
    )
    target: str | None = Field(default=None, min_length=1, max_length=64)
    expires_in: ExpiresIn | None = None
    disposition: Literal["attachment", "inline"] | None = Field(
        default=None,
        description=(
            "attachment (the default) or inline; inline needs content_type, one of the target's inline "
            "types (passive types: raster images, PDF, audio, video, plain text)"
        ),
    )
    filename: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description=(
            "the name to save as; implies attachment unless disposition is inline. It keeps each key's "
            "extension (or takes one of content_type's) and is never active or executable: a key it "
            "does not fit gets the error unsafe_filename (422)"
        ),
    )
    content_type: ContentType | None = Field(
        default=None,
        description=(
            "the type the storage server answers with: one the target accepts for uploads, never an "
            "active type (HTML, SVG, XML, JavaScript)"
        ),
    )

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: str | list[str]) -> str | list[str]:
        # A request-level bound only; every other rule is per key (presign.downloads).
        items = [value] if isinstance(value, str) else value
        if any(len(k) > 4 * MAX_KEY_CHARS for k in items):
            raise ValueError("a key is far too long")
        return value

    def key_list(self) -> list[str]:
        return [self.keys] if isinstance(self.keys, str) else list(self.keys)


class DownloadItem(BaseModel):
    key: str
    url: str | None = None
    expires_at: str | None = None
    error: ItemError | None = None


class DownloadsResponse(BaseModel):
    items: list[DownloadItem]
    expires_in: int
