"""Request and response bodies of the share routes (names from the HTTP contract)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from presign.clock import isoformat_z
from presign.core.schemas import AS_JSON_INTEGER, KEY_PATTERN, StrictInput
from presign.limits import DAY, MAX_KEY_CHARS
from presign.shares.records import Share, ShareStatus

MAX_DOWNLOADS = 1_000_000
# The schema's bounds; the deployment's own (shares.password_min_length / _max_length) are
# checked by the service, 422 password_policy.
MAX_PASSWORD_CHARS = 1024


class CreateShareRequest(StrictInput):
    key: str = Field(
        min_length=1,
        max_length=MAX_KEY_CHARS,
        json_schema_extra={"pattern": KEY_PATTERN, "examples": ["users/alice/2026/11/22/k3J/cat.png"]},
        description="a key under the caller's prefix, with an object stored behind it",
    )
    target: str | None = Field(default=None, min_length=1, max_length=64)
    expires_in: (
        Annotated[
            int,
            Field(
                gt=0,
                le=365 * DAY,
                description="seconds the link lives (at most the target's share.max_expiry)",
            ),
            AS_JSON_INTEGER,
        ]
        | None
    ) = None
    max_downloads: (
        Annotated[
            int,
            Field(ge=1, le=MAX_DOWNLOADS, description="URLs the link hands out; none: unlimited"),
            AS_JSON_INTEGER,
        ]
        | None
    ) = None
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PASSWORD_CHARS,
        description="visitors must send it in a POST body; stored only as an Argon2id hash",
    )
    filename: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description=(
            "the name to save as: it keeps the key's extension (inline: or takes one of the stored "
            "type's) and is never active or executable, else 422 unsafe_filename"
        ),
    )
    disposition: Literal["attachment", "inline"] | None = Field(
        default=None,
        description="attachment (the default), or inline for a stored type among the target's inline types",
    )


class CreateShareResponse(BaseModel):
    share_id: str = Field(description="the secret part of the link; shown once, never stored")
    url: str = Field(description="the public link")
    handle: str = Field(description="names the share in the owner's list and routes (not a link)")
    key: str
    target: str
    expires_at: str = Field(description="ISO 8601 UTC")
    max_downloads: int | None
    password_protected: bool
    size: int
    content_type: str | None = None


class ShareInfo(BaseModel):
    handle: str
    status: ShareStatus
    key: str
    target: str
    filename: str
    disposition: Literal["attachment", "inline"]
    size: int
    content_type: str | None = None
    created_at: str = Field(description="ISO 8601 UTC")
    expires_at: str = Field(description="ISO 8601 UTC")
    max_downloads: int | None
    downloads_used: int
    downloads_remaining: int | None = Field(description="none for an unlimited share")
    password_protected: bool
    revoked_at: str | None = None


class ShareList(BaseModel):
    items: list[ShareInfo]
    cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")


class OpenShareRequest(StrictInput):
    """``POST /s/{share_id}``: as JSON, or as an HTML form (application/x-www-form-urlencoded)."""

    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


class ShareGrant(BaseModel):
    url: str = Field(description="a presigned GET, valid for at most 60 seconds")
    expires_at: str = Field(description="ISO 8601 UTC")


def iso(epoch: int) -> str:
    return isoformat_z(datetime.fromtimestamp(epoch, UTC))


def info_of(share: Share, now: int) -> ShareInfo:
    return ShareInfo(
        handle=share.handle,
        status=share.status(now),
        key=share.key,
        target=share.target,
        filename=share.served_name(),
        disposition=share.disposition,
        size=share.size,
        content_type=share.content_type,
        created_at=iso(share.created_at),
        expires_at=iso(share.expires_at),
        max_downloads=share.max_downloads,
        downloads_used=share.downloads,
        downloads_remaining=share.remaining(),
        password_protected=share.protected,
        revoked_at=iso(share.revoked_at) if share.revoked_at is not None else None,
    )
