"""A target's ``upload.multipart`` section: whether, from what size, in what parts, for how long.

::

    "upload": {"max_size": 1099511627776,
               "multipart": {"threshold": 104857600, "part_size": 16777216, "lifetime": 86400}}

``"multipart": false`` is short for ``{"enabled": false}``: for a store that cannot do multipart
(or a bucket policy that forbids it); such a target's ``max_size`` stays at most 5 GiB, what one
PUT can carry.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from presign.multipart.plan import MAX_PART_SIZE, MIN_PART_SIZE, MiB

MAX_SINGLE_PUT_BYTES = 5 * 1024**3
DAY = 86_400


class MultipartPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    # Above this size a PUT upload goes multipart unless the request says "multipart": false;
    # above 5 GiB it always does (one PUT cannot carry more).
    threshold: int = Field(default=100 * MiB, ge=MIN_PART_SIZE, le=MAX_SINGLE_PUT_BYTES, description="bytes")
    # The smallest part the plan uses (a whole MiB, 5 MiB to 5 GiB); larger files get larger
    # parts so that they fit in 10,000 (presign.multipart.plan).
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
