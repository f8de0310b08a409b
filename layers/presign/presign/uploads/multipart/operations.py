"""Presigned S3 requests on one multipart upload other than its parts: ListParts,
CompleteMultipartUpload and AbortMultipartUpload, for clients (Uppy's ``@uppy/aws-s3``) that send
every S3 request themselves and ask the backend only to sign it.

Each URL is bound to the server's key and the storage upload the server started: the client
names the operation, never the key, the bucket or the ``uploadId``. What those requests can do
is no more than the part URLs allow: the parts were each signed with their planned
``Content-Length``, so a CompleteMultipartUpload the client sends can only assemble parts of the
plan, and ``POST /uploads/{upload_id}/complete`` still compares the result's HEAD (size, type,
metadata) with the record before the upload counts as complete (a proper subset of the parts
can never add up to the declared size). CreateMultipartUpload is never signed: the server starts
the storage upload in ``POST /uploads`` with the type and metadata it checked.

The query is ``uploadId`` alone and nothing but ``host`` is signed, as botocore presigns these
operations (``tests/unit/test_multipart_oracle.py`` holds each URL to botocore's, byte for byte).
"""

from __future__ import annotations

from datetime import datetime

from presign.signing.sigv4 import S3Presigner
from presign.uploads.schemas import Operation

METHODS: dict[Operation, str] = {
    "list_parts": "GET",
    "complete_multipart_upload": "POST",
    "abort_multipart_upload": "DELETE",
}


def operation_url(
    presigner: S3Presigner,
    bucket: str,
    key: str,
    *,
    storage_upload_id: str,
    operation: Operation,
    now: datetime,
    expires_in: int,
) -> str:
    """The presigned URL of ``operation`` on the storage upload ``storage_upload_id`` of ``key``."""
    return presigner.presign(
        METHODS[operation],
        bucket,
        key,
        now=now,
        expires_in=expires_in,
        query={"uploadId": storage_upload_id},
    )
