"""Request bodies of the multipart routes (names from the HTTP contract)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from presign.config import MAX_PART_URLS_PER_REQUEST
from presign.models import AS_JSON_INTEGER, Checksum, _Input
from presign.multipart.operations import Operation
from presign.multipart.plan import MAX_PARTS

# How many part URLs one request may ask for (and POST /uploads answers): 100 URLs are ~60 KB,
# far below Lambda's 6 MB response limit, and a client uploads a few parts at a time anyway.
MAX_PART_URLS = MAX_PART_URLS_PER_REQUEST
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


class RenewPartsRequest(_Input):
    part_numbers: list[PartNumber] = Field(
        min_length=1,
        max_length=MAX_PART_URLS,
        description="parts of the plan to sign, each once",
        json_schema_extra={"uniqueItems": True},
    )
    checksums_sha256: list[Checksum] | None = Field(
        default=None,
        max_length=MAX_PART_URLS,
        description="with part_checksums: the base64 SHA-256 of each part, in the order of part_numbers",
    )

    # Published as uniqueItems, so a repeat is a 400 like any schema violation. That the two lists
    # are as long as each other no schema can say: the service refuses that with 422.
    @model_validator(mode="after")
    def _unique(self) -> RenewPartsRequest:
        if len(set(self.part_numbers)) != len(self.part_numbers):
            raise ValueError("part_numbers must name each part once")
        return self


class CompletedPart(_Input):
    part_number: PartNumber
    etag: Etag
    checksum_sha256: Checksum | None = Field(
        default=None, description="with part_checksums: the part's SHA-256, as its URL was signed with"
    )


class SignOperationRequest(_Input):
    operation: Operation = Field(
        description=(
            "the S3 request on this pending multipart upload to presign: ListParts (GET), "
            "CompleteMultipartUpload (POST, with the parts XML as its body) or AbortMultipartUpload "
            "(DELETE). The key and the storage's upload id are the server's"
        )
    )
