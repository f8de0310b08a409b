"""The events publisher: each batch of the uploads and shares tables' streams (new and old images)
becomes the events it holds, published in commit order (docs/events.md).

Lambda's event source mappings invoke it (template.yaml: ``ReportBatchItemFailures``,
``BisectBatchOnFunctionError``, a bounded record age and retries, an on-failure queue); its answer
lists the records to retry from (``presign.events.publisher``). A batch is all or nothing per
record: nothing here may swallow a failure, or an event would be lost.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from presign.bootstrap.events import build_publisher
from presign.http.api import lambda_handler

logger = Logger()
metrics = Metrics()
publish = build_publisher(dict(os.environ))


def on_batch(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    answer = publish(event)
    records, failed = len(event.get("Records") or []), len(answer["batchItemFailures"])
    logger.info("events batch", extra={"records": records, "records_failed": failed})
    metrics.add_metric(name="EventRecordsFailed", unit=MetricUnit.Count, value=failed)
    return answer


# Not an API Gateway event: no correlation id to read from it.
handler = lambda_handler(logger, on_batch, metrics=metrics, correlation_id_path=None)
