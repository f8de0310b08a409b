"""POST /downloads: presigned GETs for one or many of the caller's keys."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from presign.downloads import issue_download_urls
from presign.models import DownloadsRequest, DownloadsResponse
from presign.web import Api, json_response, openapi_responses

logger = Logger()
metrics = Metrics()
api = Api(logger, metrics)
app = api.app
resolve = api.handler()
api.protect("POST /downloads", action="download")


@app.post("/downloads", responses=openapi_responses(200, DownloadsResponse, "download URLs issued"))
def post_downloads(request: DownloadsRequest) -> Any:
    principal = api.principal()
    target_name, target = api.runtime.target(request.target)
    budget = api.runtime.budget(api.runtime.owner(principal).subject, target_name)
    result = issue_download_urls(
        request,
        principal=principal,
        target=target,
        signing=api.runtime.download_signing(target_name, target),
        spend=lambda urls: budget.spend("download", cost=urls),
    )
    signed = sum(1 for item in result.items if item.url)
    logger.info("downloads granted", extra={"target": target_name, "count": signed})
    metrics.add_metric(name="DownloadUrlsIssued", unit=MetricUnit.Count, value=signed)
    return json_response(result, headers=budget.headers())


# clear_state: keys appended for one caller must not label the next invocation's lines.
# log_event=False, explicitly: otherwise POWERTOOLS_LOGGER_LOG_EVENT=true would log every event,
# bearer token included.
@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(event, context)
