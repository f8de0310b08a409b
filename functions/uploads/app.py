"""POST /uploads: a presigned PUT or POST (or part PUTs) for one new object under the caller's
prefix; POST /uploads/{upload_id}/parts: fresh part URLs for a multipart upload.

Both sign, so both live here, with the role that may s3:PutObject (which also authorises
CreateMultipartUpload and UploadPart). boto3 is imported on the first multipart creation only.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from presign.bootstrap.runtime import build_api
from presign.bootstrap.uploads import build_uploads, upload_objects
from presign.http.api import json_response
from presign.http.openapi import link
from presign.uploads.schemas import (
    IDEMPOTENCY_KEY,
    CreateUploadRequest,
    CreateUploadResponse,
    RenewPartsRequest,
    RenewPartsResponse,
)

logger = Logger()
metrics = Metrics()
api = build_api(logger, metrics)
app = api.app
lifecycle = build_uploads(api.runtime, logger)
objects = upload_objects(api.runtime)

# Where an upload id leads (OpenAPI links: a stateful fuzzer follows them, docs show them).
UPLOAD_LINKS = {
    "GetUpload": link("/uploads/{upload_id}", "get", upload_id="upload_id"),
    "DeleteUpload": link("/uploads/{upload_id}", "delete", upload_id="upload_id"),
    "CompleteUpload": link("/uploads/{upload_id}/complete", "post", upload_id="upload_id"),
}


@api.post(
    "/uploads",
    scope="upload",
    spends="upload",
    ok=(201, CreateUploadResponse, "upload URL issued"),
    links=UPLOAD_LINKS,
)
def post_upload(request: CreateUploadRequest) -> Any:
    target_name, target = api.target(request.target)
    _, spending = api.caller()
    grant = lifecycle.begin(
        request,
        principal=api.principal(),
        target_name=target_name,
        target=target,
        spending=spending,
        idempotency_key=api.header(IDEMPOTENCY_KEY),
        objects=objects,
    )
    logger.append_keys(upload_id=grant.upload_id, target=target_name)
    logger.info(
        "upload granted",
        extra={"method": grant.method, "size": request.size, "multipart": grant.multipart is not None},
    )
    metrics.add_metric(name="UploadUrlsIssued", unit=MetricUnit.Count, value=1)
    return json_response(grant, 201, headers=spending.headers())


@api.post(
    "/uploads/{upload_id}/parts",
    scope="upload",
    spends="upload_parts",
    ok=(200, RenewPartsResponse, "fresh URLs for the parts asked for"),
)
def post_parts(upload_id: str, request: RenewPartsRequest) -> Any:
    owner, spending = api.caller()
    logger.append_keys(upload_id=upload_id)
    renewed = lifecycle.renew_parts(owner.digest, upload_id, request, spending=spending)
    metrics.add_metric(name="PartUrlsIssued", unit=MetricUnit.Count, value=len(renewed.parts))
    return json_response(renewed, headers=spending.headers())


handler = api.lambda_handler()
