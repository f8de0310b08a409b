"""The webhooks' delivery: each SQS batch of the webhooks' queue, every message signed at send time
and sent to its endpoint; what failed is retried by the queue on the schedule and dead-lettered
after it (docs/events.md, "Webhooks"; ``presign.webhooks.delivery``).

Never on a request path: the publisher puts the messages on the queue, Lambda's SQS event source
mapping (``ReportBatchItemFailures``) invokes this.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from presign.bootstrap.events import publishing
from presign.bootstrap.webhooks import delivering
from presign.http.api import lambda_handler

logger = Logger()
metrics = Metrics()
environ = dict(os.environ)
deliver = delivering(environ, announce=lambda: publishing(environ))


def on_batch(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    answer = deliver(event)
    records, failed = len(event.get("Records") or []), len(answer["batchItemFailures"])
    logger.info("webhooks batch", extra={"messages": records, "messages_not_done": failed})
    metrics.add_metric(name="WebhookMessagesNotDone", unit=MetricUnit.Count, value=failed)
    return answer


# Not an API Gateway event: no correlation id to read from it.
handler = lambda_handler(logger, on_batch, metrics=metrics, correlation_id_path=None)
