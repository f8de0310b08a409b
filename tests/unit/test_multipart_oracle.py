"""Multipart URLs must be byte-identical to botocore's ``generate_presigned_url``.

The same oracle as ``test_sigv4_oracle.py`` (its targets, keys and clocks), for the operations
multipart uploads sign: UploadPart with ``uploadId`` and ``partNumber`` in the query,
``Content-Length`` and, with per-part checksums, ``x-amz-checksum-sha256`` signed; and ListParts,
CompleteMultipartUpload and AbortMultipartUpload (``POST /uploads/{upload_id}/sign``) with
``uploadId`` alone.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from presign.limits import MAX_PART_SIZE, MAX_PARTS
from presign.uploads.multipart.operations import METHODS, operation_url
from presign.uploads.multipart.urls import part_headers, part_url
from presign.uploads.schemas import OPERATIONS, Operation
from tests.unit.test_sigv4_oracle import Target, _frozen, expiries, keys, moments, targets

# S3 upload ids are opaque: base64-ish on AWS, hex with '_' on SeaweedFS, anything on others.
upload_ids = st.one_of(
    st.from_regex(r"[A-Za-z0-9._\-]{1,120}", fullmatch=True),
    st.text(min_size=1, max_size=40).filter(lambda s: s.isprintable()),
)
checksums = st.none() | st.binary(min_size=32, max_size=32).map(lambda b: base64.b64encode(b).decode())


@settings(max_examples=400, deadline=None, database=None)
@given(
    target=targets,
    key=keys,
    now=moments,
    expires_in=expiries,
    upload_id=upload_ids,
    part_number=st.integers(1, MAX_PARTS),
    size=st.integers(0, MAX_PART_SIZE),
    checksum=checksums,
)
def test_part_url_matches_botocore(
    target: Target,
    key: str,
    now: datetime,
    expires_in: int,
    upload_id: str,
    part_number: int,
    size: int,
    checksum: str | None,
) -> None:
    params: dict[str, Any] = {
        "Bucket": target.bucket,
        "Key": key,
        "UploadId": upload_id,
        "PartNumber": part_number,
        "ContentLength": size,
    }
    if checksum is not None:
        params["ChecksumSHA256"] = checksum
    with _frozen(now):
        expected = target.oracle.generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_in)

    ours = part_url(
        target.ours,
        target.bucket,
        key,
        storage_upload_id=upload_id,
        part_number=part_number,
        size=size,
        checksum_sha256=checksum,
        now=now,
        expires_in=expires_in,
    )

    assert ours == expected


def test_a_part_url_signs_its_length_and_nothing_the_whole_object_binds() -> None:
    target = Target(None, "us-east-1", "http://127.0.0.1:8333", "path", "bucket")
    url = part_url(
        target.ours,
        "bucket",
        "users/alice/k/big.bin",
        storage_upload_id="abc_123",
        part_number=7,
        size=5 * 1024**2,
        checksum_sha256=None,
        now=datetime(2030, 1, 1, tzinfo=UTC),
        expires_in=900,
    )
    assert url.startswith("http://127.0.0.1:8333/bucket/users/alice/k/big.bin?uploadId=abc_123&partNumber=7&")
    assert "X-Amz-SignedHeaders=content-length%3Bhost&" in url, url
    assert part_headers(3, None) == {"Content-Length": "3"}
    assert part_headers(3, "x" * 44) == {"Content-Length": "3", "x-amz-checksum-sha256": "x" * 44}


BOTOCORE_NAMES = {
    "list_parts": "list_parts",
    "complete_multipart_upload": "complete_multipart_upload",
    "abort_multipart_upload": "abort_multipart_upload",
}


@settings(max_examples=300, deadline=None, database=None)
@given(
    target=targets,
    key=keys,
    now=moments,
    expires_in=expiries,
    upload_id=upload_ids,
    operation=st.sampled_from(OPERATIONS),
)
def test_a_multipart_operation_url_matches_botocore(
    target: Target, key: str, now: datetime, expires_in: int, upload_id: str, operation: Operation
) -> None:
    params = {"Bucket": target.bucket, "Key": key, "UploadId": upload_id}
    with _frozen(now):
        expected = target.oracle.generate_presigned_url(
            BOTOCORE_NAMES[operation], Params=params, ExpiresIn=expires_in
        )

    ours = operation_url(
        target.ours,
        target.bucket,
        key,
        storage_upload_id=upload_id,
        operation=operation,
        now=now,
        expires_in=expires_in,
    )

    assert ours == expected
    assert (
        METHODS[operation]
        == target.oracle.meta.service_model.operation_model(
            {
                "list_parts": "ListParts",
                "complete_multipart_upload": "CompleteMultipartUpload",
                "abort_multipart_upload": "AbortMultipartUpload",
            }[operation]
        ).http["method"]
    )
