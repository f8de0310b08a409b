"""The upload sections of the configuration: a target's ``upload.kinds`` and ``upload.multipart``,
and the service's ``upload_records``.

**Kinds**: named upload policies of a target, like UploadThing's file routes. A target's
``upload.kinds`` maps a name (``avatar``, ``document``) to its own rules; a request names a
``kind`` and never the rules themselves (``presign.uploads.kinds.apply_kind`` applies them)::

    "kinds": {
      "avatar": {"content_types": ["image/png", "image/jpeg"], "min_size": 1, "max_size": 2097152,
                 "key_prefix": "avatars/", "extensions": ["png", "jpg", "jpeg"], "max_expiry": 300}
    }

Fields a kind leaves out are the target's (content types, maximum size, expiries); methods and
no-overwrite are always the target's. ``key_prefix`` is a sub-prefix inside the caller's
namespace (``users/{sub}/avatars/...``): plain path segments only, so a kind can never point
outside it. ``extensions`` lists the filename extensions the kind accepts; each must agree with
the declared content type (a list uses Python's built-in extension table, a mapping names the
types itself: ``{"heic": ["image/heic"]}``), so ``virus.exe`` sent as ``image/png`` is refused.

**Multipart**: whether, from what size, in what parts, for how long::

    "upload": {"max_size": 1099511627776,
               "multipart": {"threshold": 104857600, "part_size": 16777216, "lifetime": 86400}}

``"multipart": false`` is short for ``{"enabled": false}``: for a store that cannot do multipart
(or a bucket policy that forbids it); such a target's ``max_size`` stays at most 5 GiB, what one
PUT can carry.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from presign.core.mediatypes import builtin_types, media_patterns
from presign.limits import (
    DAY,
    MAX_OBJECT_BYTES,
    MAX_PART_SIZE,
    MAX_PRESIGN_EXPIRY,
    MAX_SINGLE_PUT_BYTES,
    MIN_PART_SIZE,
    MiB,
)

_KIND_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,31}$")
# One key segment: starts with a letter or digit (never "." or ".."), no braces (the prefix joins
# the target's template, where braces are placeholders), nothing that needs escaping in a URL.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
_EXTENSION = re.compile(r"^[a-z0-9][a-z0-9_\-+]{0,15}$")


class UploadKind(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    content_types: list[str] | None = Field(default=None, min_length=1)
    min_size: int = Field(default=0, ge=0, le=MAX_OBJECT_BYTES)
    max_size: int | None = Field(default=None, gt=0, le=MAX_OBJECT_BYTES)
    key_prefix: str = ""
    extensions: dict[str, list[str]] | None = None
    default_expiry: int | None = Field(default=None, gt=0, le=MAX_PRESIGN_EXPIRY)
    max_expiry: int | None = Field(default=None, gt=0, le=MAX_PRESIGN_EXPIRY)
    # Completion reads the first bytes and rejects active content (HTML, SVG, scripts, executables)
    # declared as another type (presign.core.sniffing); `false` for a kind whose files may start so.
    content_check: bool = True

    @field_validator("content_types")
    @classmethod
    def _patterns(cls, patterns: list[str] | None) -> list[str] | None:
        return None if patterns is None else media_patterns(patterns)

    @field_validator("key_prefix")
    @classmethod
    def _sub_prefix(cls, prefix: str) -> str:
        if prefix == "":
            return prefix
        if not prefix.endswith("/"):
            raise ValueError("must end with '/' (e.g. 'avatars/')")
        segments = prefix[:-1].split("/")
        if any(not _SEGMENT.match(s) for s in segments):
            raise ValueError(
                "must be path segments of letters, digits, '.', '_' and '-', each starting with a "
                "letter or digit (no '..', no empty segments, no leading '/')"
            )
        return prefix

    @field_validator("extensions", mode="before")
    @classmethod
    def _extensions(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            known = builtin_types()
            names = [str(v).lower().lstrip(".") for v in value]
            unknown = sorted(n for n in names if n not in known)
            if unknown:
                raise ValueError(
                    f"no built-in content type for {unknown}; give them as a mapping, "
                    '{"ext": ["type/subtype"]}'
                )
            return {n: [known[n]] for n in names}
        if isinstance(value, dict):
            return {str(k).lower().lstrip("."): v for k, v in value.items()}
        return value

    @field_validator("extensions")
    @classmethod
    def _extension_names(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("must list at least one extension (or be left out)")
        bad = sorted(k for k in value if not _EXTENSION.match(k))
        if bad:
            raise ValueError(f"not filename extensions: {bad}")
        if any(not types for types in value.values()):
            raise ValueError("every extension needs at least one content type")
        return {k: [t.strip().lower() for t in types] for k, types in value.items()}

    @model_validator(mode="after")
    def _bounds(self) -> UploadKind:
        if self.max_size is not None and self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) is above max_size ({self.max_size})")
        if self.default_expiry and self.max_expiry and self.default_expiry > self.max_expiry:
            raise ValueError(
                f"default_expiry ({self.default_expiry}) is above max_expiry ({self.max_expiry})"
            )
        return self


def _names(kinds: dict[str, UploadKind]) -> dict[str, UploadKind]:
    bad = sorted(name for name in kinds if not _KIND_NAME.match(name))
    if bad:
        raise ValueError(f"kind names are 1-32 of a-z, 0-9, '_' and '-', starting with a letter: {bad}")
    return kinds


Kinds = Annotated[dict[str, UploadKind], AfterValidator(_names)]


class MultipartPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    # Above this size a PUT upload goes multipart unless the request says "multipart": false;
    # above 5 GiB it always does (one PUT cannot carry more).
    threshold: int = Field(default=100 * MiB, ge=MIN_PART_SIZE, le=MAX_SINGLE_PUT_BYTES, description="bytes")
    # The smallest part the plan uses (a whole MiB, 5 MiB to 5 GiB); larger files get larger
    # parts so that they fit in 10,000 (presign.core.partplan).
    part_size: int = Field(default=8 * MiB, ge=MIN_PART_SIZE, le=MAX_PART_SIZE, description="bytes")
    # How long the upload may take, renewals of part URLs included; then it expires and its parts
    # are the cleanup's (and the bucket's AbortIncompleteMultipartUpload rule's).
    lifetime: int = Field(default=DAY, ge=60, le=30 * DAY, description="seconds")
    # Whether the store verifies x-amz-checksum-sha256 on UploadPart (AWS S3 and SeaweedFS do,
    # checked for SeaweedFS in tests/realserver); off, a request for part checksums is refused
    # rather than signed and ignored. Turn it off for a store that ignores the header.
    checksums: bool = True

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return {"enabled": value}
        return value

    @field_validator("part_size")
    @classmethod
    def _whole_mib(cls, value: int) -> int:
        if value % MiB:
            raise ValueError("must be a whole number of MiB (a multiple of 1048576)")
        return value


class UploadRecordSettings(BaseModel):
    """Where upload records live and how long they are kept.

    ``enabled`` is off only on purpose (a local run or a test without a table): then POST /uploads
    signs without writing a record, refuses an Idempotency-Key, and the lifecycle routes' function
    does not start. A deployment sets the table (``PRESIGN_UPLOADS_TABLE``) and keeps it on.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    # Normally from PRESIGN_UPLOADS_TABLE (read by the wiring, not here).
    table_name: str | None = Field(default=None, min_length=3, max_length=255)
    # A pending record outlives its URL by this much before DynamoDB's TTL may delete it, so the
    # cleanup job (which finds stale pending uploads through the table's pending index) has time
    # to delete an object that arrived but was never completed.
    pending_retention: int = Field(default=7 * DAY, ge=3600, le=365 * DAY, description="seconds")
    # Rejected, aborted, expired and deleted records: kept this long for their owner to see.
    closed_retention: int = Field(default=30 * DAY, ge=3600, le=3650 * DAY, description="seconds")
    # Completed records: kept as long as the object (None), or this many seconds.
    completed_retention: int | None = Field(default=None, ge=DAY, le=3650 * DAY, description="seconds")
    # Completion's HEAD is retried when it finds nothing: some S3-compatible stores are not
    # read-after-write consistent for HEAD. ``head_attempts`` HEADs, waiting ``head_retry_delay``
    # seconds before the second and twice as long before each later one.
    head_attempts: int = Field(default=3, ge=1, le=5)
    head_retry_delay: float = Field(default=0.15, ge=0, le=2)
