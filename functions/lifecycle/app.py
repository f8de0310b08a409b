"""The upload lifecycle after the URL: complete, status, abort or delete, and the caller's list.

POST /uploads/{upload_id}/complete, GET /uploads/{upload_id}, DELETE /uploads/{upload_id},
GET /uploads, and POST /uploads/{upload_id}/sign: a presigned ListParts, CompleteMultipartUpload or
AbortMultipartUpload for clients that send those S3 requests themselves (Uppy's @uppy/aws-s3); it
lives here because this role is the one S3 authorises those operations for. boto3 is imported on
the first request that talks to the storage (a completion, a delete, the status of a pending
multipart upload), never at cold start: a single upload's status and a list need only DynamoDB.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from presign.bootstrap.runtime import build_api
from presign.bootstrap.uploads import build_uploads, upload_objects
from presign.http.api import json_response
from presign.http.problems import NO_STORE
from presign.uploads.schemas import (
    IDEMPOTENCY_KEY,
    CompleteUploadRequest,
    CompleteUploadResponse,
    SignedOperation,
    SignOperationRequest,
    Status,
    UploadList,
    UploadStatus,
    status_of,
)

logger = Logger()
metrics = Metrics()
api = build_api(logger, metrics)
app = api.app
lifecycle = build_uploads(api.runtime, logger, required=True, metrics=metrics)
objects = upload_objects(api.runtime)


@api.post(
    "/uploads/{upload_id}/complete",
    scope="upload",
    spends="upload_complete",
    ok=(200, CompleteUploadResponse, "the stored object matched: complete"),
)
def complete_upload(upload_id: str, request: Annotated[CompleteUploadRequest | None, Body()] = None) -> Any:
    owner, spending = api.caller()
    logger.append_keys(upload_id=upload_id)
    result = lifecycle.complete(
        owner.digest,
        upload_id,
        objects=objects,
        spending=spending,
        idempotency_key=api.header(IDEMPOTENCY_KEY),
        request=request,
    )
    return json_response(result, headers=spending.headers())


@api.post(
    "/uploads/{upload_id}/sign",
    scope="upload",
    spends="upload_parts",
    ok=(200, SignedOperation, "a presigned S3 request on this multipart upload"),
)
def sign_operation(upload_id: str, request: SignOperationRequest) -> Any:
    owner, spending = api.caller()
    logger.append_keys(upload_id=upload_id)
    signed = lifecycle.sign_operation(owner.digest, upload_id, request, spending=spending)
    logger.info("multipart request signed", extra={"operation": request.operation})
    return json_response(signed, headers=spending.headers())


@api.get(
    "/uploads/{upload_id}",
    scope="upload",
    spends="upload_status",
    ok=(200, UploadStatus, "the upload's status"),
)
def get_upload(upload_id: str) -> Any:
    owner, spending = api.caller()
    record = lifecycle.status(owner.digest, upload_id, spending=spending)
    parts = lifecycle.stored_parts(record, objects=objects)
    return json_response(status_of(record, parts), headers=spending.headers())


@api.delete(
    "/uploads/{upload_id}", scope="upload", spends="upload_abort", ok=(204, None, "aborted, or deleted")
)
def delete_upload(upload_id: str) -> Any:
    owner, spending = api.caller()
    logger.append_keys(upload_id=upload_id)
    lifecycle.abort(owner.digest, upload_id, objects=objects, spending=spending)
    return Response(status_code=204, headers={**NO_STORE, **spending.headers()})


@api.get(
    "/uploads",
    scope="upload",
    spends="upload_list",
    ok=(200, UploadList, "the caller's uploads, newest first"),
)
def list_uploads(
    status: Annotated[Status | None, Query(description="only uploads in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="at most this many items")] = 20,
    cursor: Annotated[str | None, Query(max_length=128, description="from the previous page")] = None,
) -> Any:
    owner, spending = api.caller()
    page = lifecycle.list(owner.digest, status=status, limit=limit, cursor=cursor, spending=spending)
    return json_response(page, headers=spending.headers())


handler = api.lambda_handler()
