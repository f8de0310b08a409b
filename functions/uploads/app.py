"""POST /uploads: a presigned PUT or POST (or part PUTs) for one new object under the caller's
prefix; POST /uploads/{upload_id}/parts: fresh part URLs for a multipart upload.

Both sign, so both live here, with the role that may s3:PutObject (which also authorises
CreateMultipartUpload and UploadPart). boto3 is imported on the first multipart creation only.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from presign.config import Target
from presign.errors import UploadGone
from presign.lifecycle.idempotency import HEADER as IDEMPOTENCY_KEY
from presign.lifecycle.wiring import Spending, audit_log, build_lifecycle, object_stores
from presign.models import CreateUploadRequest, CreateUploadResponse
from presign.multipart.models import RenewPartsResponse
from presign.multipart.requests import RenewPartsRequest
from presign.signing_context import SigningContext
from presign.web import Api, json_response, link, openapi_responses

logger = Logger()
metrics = Metrics()
api = Api(logger, metrics)
app = api.app
resolve = api.handler()
api.protect("POST /uploads", action="upload")
api.protect("POST /uploads/{upload_id}/parts", action="upload")
lifecycle = build_lifecycle(
    api.runtime,
    audit=audit_log(
        logger.info,
        lambda: str(app.current_event.request_context.request_id or ""),
        runtime=api.runtime,
        principal=api.principal,
    ),
)
objects = object_stores(api.runtime)


# Where an upload id leads (OpenAPI links: a stateful fuzzer follows them, docs show them).
UPLOAD_LINKS = {
    "GetUpload": link("/uploads/{upload_id}", "get", upload_id="upload_id"),
    "DeleteUpload": link("/uploads/{upload_id}", "delete", upload_id="upload_id"),
    "CompleteUpload": link("/uploads/{upload_id}/complete", "post", upload_id="upload_id"),
}


@app.post(
    "/uploads",
    responses=openapi_responses(201, CreateUploadResponse, "upload URL issued", links=UPLOAD_LINKS),
)
def post_upload(request: CreateUploadRequest) -> Any:
    principal = api.principal()
    target_name, target = api.runtime.target(request.target)
    subject = api.runtime.owner(principal).subject
    budget = api.runtime.budget(subject, target_name)
    # A replay (the same Idempotency-Key) never spends the upload again; the part URLs it signs
    # anew cost what /parts charges.
    part_urls = Spending(api.runtime, subject, "upload_parts")
    grant: CreateUploadResponse = lifecycle.begin(
        request,
        principal=principal,
        target_name=target_name,
        target=target,
        signing=api.runtime.signing(target_name, target),
        spend=lambda checked: budget.upload(checked.size),
        spend_parts=part_urls,
        idempotency_key=app.current_event.headers.get(IDEMPOTENCY_KEY),
        objects=objects,
    )
    logger.append_keys(upload_id=grant.upload_id, target=target_name)
    logger.info(
        "upload granted",
        extra={"method": grant.method, "size": request.size, "multipart": grant.multipart is not None},
    )
    metrics.add_metric(name="UploadUrlsIssued", unit=MetricUnit.Count, value=1)
    return json_response(grant, 201, headers={**budget.headers(), **part_urls.headers()})


def _signing_for(name: str) -> tuple[Target, SigningContext]:
    target = api.runtime.settings.targets.get(name)
    if target is None:
        raise UploadGone("this upload's storage target is no longer configured")
    return target, api.runtime.signing(name, target)


@app.post(
    "/uploads/<upload_id>/parts",
    responses=openapi_responses(200, RenewPartsResponse, "fresh URLs for the parts asked for"),
)
def post_parts(upload_id: str, request: RenewPartsRequest) -> Any:
    owner = api.runtime.owner(api.principal())
    spending = Spending(api.runtime, owner.subject, "upload_parts")
    logger.append_keys(upload_id=upload_id)
    renewed = lifecycle.renew_parts(
        owner.digest, upload_id, request, signing_for=_signing_for, spend=spending
    )
    metrics.add_metric(name="PartUrlsIssued", unit=MetricUnit.Count, value=len(renewed.parts))
    return json_response(renewed, headers=spending.headers())


# clear_state: keys appended for one caller must not label the next invocation's lines.
# log_event=False, explicitly: otherwise POWERTOOLS_LOGGER_LOG_EVENT=true would log every event,
# bearer token included.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(event, context)
