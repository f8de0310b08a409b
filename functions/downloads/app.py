"""POST /downloads: presigned GETs for one or many of the caller's keys."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from presign.bootstrap.downloads import build_downloads
from presign.bootstrap.runtime import build_api
from presign.downloads.schemas import DownloadsRequest, DownloadsResponse
from presign.http.api import json_response

logger = Logger()
metrics = Metrics()
api = build_api(logger, metrics)
app = api.app
downloads = build_downloads(api.runtime)


@api.post(
    "/downloads", scope="download", spends="download", ok=(200, DownloadsResponse, "download URLs issued")
)
def post_downloads(request: DownloadsRequest) -> Any:
    target_name, target = api.target(request.target)
    _, spending = api.caller()
    result = downloads.issue(
        request, principal=api.principal(), target_name=target_name, target=target, spending=spending
    )
    signed = sum(1 for item in result.items if item.url)
    logger.info("downloads granted", extra={"target": target_name, "count": signed})
    metrics.add_metric(name="DownloadUrlsIssued", unit=MetricUnit.Count, value=signed)
    return json_response(result, headers=spending.headers())


handler = api.lambda_handler()
