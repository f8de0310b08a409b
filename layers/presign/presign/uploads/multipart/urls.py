"""One part's presigned URL: an UploadPart PUT that accepts exactly that part.

The URL signs ``Content-Length`` (the part's planned size), so the storage refuses a part of any
other size and the parts together can never exceed the declared size; with per-part checksums
it signs ``x-amz-checksum-sha256`` too, which the storage verifies against the bytes. The content
type and metadata are not the part's business: CreateMultipartUpload bound them for the whole
object. The query is ``uploadId`` then ``partNumber``, as botocore's ``upload_part`` presigns it
(``tests/unit/test_multipart_oracle.py`` holds the URL to botocore's, byte for byte).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from presign.core.partplan import PartPlan
from presign.signing.sigv4 import S3Presigner
from presign.uploads.schemas import PartUrl


def part_headers(size: int, checksum_sha256: str | None) -> dict[str, str]:
    """Exactly the headers the client sends with the part (browsers set Content-Length themselves)."""
    headers = {"Content-Length": str(size)}
    if checksum_sha256 is not None:
        headers["x-amz-checksum-sha256"] = checksum_sha256
    return headers


def part_url(
    presigner: S3Presigner,
    bucket: str,
    key: str,
    *,
    storage_upload_id: str,
    part_number: int,
    size: int,
    checksum_sha256: str | None,
    now: datetime,
    expires_in: int,
) -> str:
    return presigner.presign(
        "PUT",
        bucket,
        key,
        now=now,
        expires_in=expires_in,
        headers=part_headers(size, checksum_sha256),
        query={"uploadId": storage_upload_id, "partNumber": str(part_number)},
    )


def sign_parts(
    presigner: S3Presigner,
    bucket: str,
    key: str,
    *,
    storage_upload_id: str,
    plan: PartPlan,
    numbers: Sequence[int],
    checksums: Sequence[str] | None,
    now: datetime,
    expires_in: int,
) -> list[PartUrl]:
    """URLs for the parts ``numbers`` of ``plan`` (each in the plan), with their checksums if given."""
    signed = []
    for index, number in enumerate(numbers):
        size = plan.size_of(number)
        checksum = checksums[index] if checksums is not None else None
        url = part_url(
            presigner,
            bucket,
            key,
            storage_upload_id=storage_upload_id,
            part_number=number,
            size=size,
            checksum_sha256=checksum,
            now=now,
            expires_in=expires_in,
        )
        signed.append(PartUrl(part_number=number, url=url, size=size, headers=part_headers(size, checksum)))
    return signed
