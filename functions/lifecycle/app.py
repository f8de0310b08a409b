"""The upload lifecycle after the URL: complete, status, abort or delete, and the caller's list.

POST /uploads/{upload_id}/complete, GET /uploads/{upload_id}, DELETE /uploads/{upload_id},
GET /uploads, and POST /uploads/{upload_id}/sign: a presigned ListParts, CompleteMultipartUpload or
AbortMultipartUpload for clients that send those S3 requests themselves (Uppy's @uppy/aws-s3); it
lives here because this role is the one S3 authorises those operations for. boto3 is imported on the first request that talks to the storage (a completion, a
delete, the status of a pending multipart upload), never at cold start: a single upload's status
and a list need only DynamoDB.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from presign.config import Target
from presign.errors import UploadGone
from presign.lifecycle.idempotency import HEADER as IDEMPOTENCY_KEY
from presign.lifecycle.models import (
    CompleteUploadRequest,
    CompleteUploadResponse,
    UploadList,
    UploadStatus,
    status_of,
)
from presign.lifecycle.records import Status
from presign.lifecycle.wiring import Spending, audit_log, build_lifecycle, object_stores
from presign.multipart.checks import ClaimedPart
from presign.multipart.models import SignedOperation
from presign.multipart.requests import SignOperationRequest
from presign.signing_context import SigningContext
from presign.web import NO_STORE, Api, json_response, openapi_responses

logger = Logger()
metrics = Metrics()
api = Api(logger, metrics)
app = api.app
resolve = api.handler()
for route in (
    "POST /uploads/{upload_id}/complete",
    "GET /uploads/{upload_id}",
    "DELETE /uploads/{upload_id}",
    "GET /uploads",
    "POST /uploads/{upload_id}/sign",
):
    api.protect(route, action="upload")  # the token scopes of uploads; each route spends its own limit
lifecycle = build_lifecycle(
    api.runtime,
    audit=audit_log(
        logger.info,
        lambda: str(app.current_event.request_context.request_id or ""),
        runtime=api.runtime,
        principal=api.principal,
    ),
    required=True,
)
objects = object_stores(api.runtime)


@app.post(
    "/uploads/<upload_id>/complete",
    responses=openapi_responses(200, CompleteUploadResponse, "the stored object matched: complete"),
)
def complete_upload(upload_id: str, request: Annotated[CompleteUploadRequest | None, Body()] = None) -> Any:
    owner = api.runtime.owner(api.principal())
    spending = Spending(api.runtime, owner.subject, "upload_complete")
    logger.append_keys(upload_id=upload_id)
    result = lifecycle.complete(
        owner.digest,
        upload_id,
        objects=objects,
        spend=spending,
        idempotency_key=app.current_event.headers.get(IDEMPOTENCY_KEY),
        body=request.model_dump(mode="json", exclude_none=True) if request is not None else {},
        parts=[ClaimedPart(p.part_number, p.etag, p.checksum_sha256) for p in request.parts]
        if request is not None and request.parts is not None
        else None,
    )
    metrics.add_metric(name="UploadsCompleted", unit=MetricUnit.Count, value=1)
    return json_response(result, headers=spending.headers())


def _signing_for(name: str) -> tuple[Target, SigningContext]:
    target = api.runtime.settings.targets.get(name)
    if target is None:
        raise UploadGone("this upload's storage target is no longer configured")
    return target, api.runtime.signing(name, target)


@app.post(
    "/uploads/<upload_id>/sign",
    responses=openapi_responses(200, SignedOperation, "a presigned S3 request on this multipart upload"),
)
def sign_operation(upload_id: str, request: SignOperationRequest) -> Any:
    owner = api.runtime.owner(api.principal())
    spending = Spending(api.runtime, owner.subject, "upload_parts")
    logger.append_keys(upload_id=upload_id)
    signed = lifecycle.sign_operation(
        owner.digest, upload_id, request, signing_for=_signing_for, spend=spending
    )
    logger.info("multipart request signed", extra={"operation": request.operation})
    return json_response(signed, headers=spending.headers())


@app.get("/uploads/<upload_id>", responses=openapi_responses(200, UploadStatus, "the upload's status"))
def get_upload(upload_id: str) -> Any:
    owner = api.runtime.owner(api.principal())
    spending = Spending(api.runtime, owner.subject, "upload_status")
    record = lifecycle.status(owner.digest, upload_id, spend=spending)
    parts = lifecycle.stored_parts(record, objects=objects)
    return json_response(status_of(record, parts), headers=spending.headers())


@app.delete("/uploads/<upload_id>", responses=openapi_responses(204, None, "aborted, or deleted"))
def delete_upload(upload_id: str) -> Any:
    owner = api.runtime.owner(api.principal())
    spending = Spending(api.runtime, owner.subject, "upload_abort")
    logger.append_keys(upload_id=upload_id)
    lifecycle.abort(owner.digest, upload_id, objects=objects, spend=spending)
    return Response(status_code=204, headers={**NO_STORE, **spending.headers()})


@app.get("/uploads", responses=openapi_responses(200, UploadList, "the caller's uploads, newest first"))
def list_uploads(
    status: Annotated[Status | None, Query(description="only uploads in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="at most this many items")] = 20,
    cursor: Annotated[str | None, Query(max_length=128, description="from the previous page")] = None,
) -> Any:
    owner = api.runtime.owner(api.principal())
    spending = Spending(api.runtime, owner.subject, "upload_list")
    page = lifecycle.list(
        owner.digest,
        status=status,
        limit=limit,
        cursor=cursor,
        spend=lambda: spending(api.runtime.settings.default_target),
    )
    return json_response(page, headers=spending.headers())


# clear_state: the caller's hash and upload id must not label the next invocation's lines.
# log_event=False, explicitly: POWERTOOLS_LOGGER_LOG_EVENT=true would log the bearer token.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(event, context)
