"""POST /uploads: a presigned PUT or POST for one new object under the caller's prefix."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from presign.lifecycle.idempotency import HEADER as IDEMPOTENCY_KEY
from presign.lifecycle.wiring import audit_log, build_lifecycle
from presign.models import CreateUploadRequest, CreateUploadResponse
from presign.web import Api, json_response, openapi_responses

logger = Logger()
metrics = Metrics()
api = Api(logger, metrics)
app = api.app
resolve = api.handler()
api.protect("POST /uploads", action="upload")
lifecycle = build_lifecycle(
    api.runtime,
    audit=audit_log(
        logger.info,
        lambda: str(app.current_event.request_context.request_id or ""),
        runtime=api.runtime,
        principal=api.principal,
    ),
)


@app.post("/uploads", responses=openapi_responses(201, CreateUploadResponse, "upload URL issued"))
def post_upload(request: CreateUploadRequest) -> Any:
    principal = api.principal()
    target_name, target = api.runtime.target(request.target)
    budget = api.runtime.budget(principal.sub, target_name)
    grant: CreateUploadResponse = lifecycle.begin(
        request,
        principal=principal,
        target_name=target_name,
        target=target,
        signing=api.runtime.signing(target_name, target),
        spend=lambda checked: budget.upload(checked.size),
        idempotency_key=app.current_event.headers.get(IDEMPOTENCY_KEY),
    )
    logger.append_keys(upload_id=grant.upload_id, target=target_name)
    logger.info("upload granted", extra={"method": grant.method, "size": request.size})
    metrics.add_metric(name="UploadUrlsIssued", unit=MetricUnit.Count, value=1)
    return json_response(grant, 201, headers=budget.headers())


# clear_state: keys appended for one caller must not label the next invocation's lines.
# log_event=False, explicitly: otherwise POWERTOOLS_LOGGER_LOG_EVENT=true would log every event,
# bearer token included.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(event, context)
