"""Object-created events from the storage (S3 through EventBridge; in ``make dev`` SeaweedFS's feed,
in the same shape; MinIO and S3 direct notifications, R2 through a Queue): each upload whose key
an event names is completed through the one completion path, with ``actor = event``
(``presign.storage_events.service``), so an upload whose client never calls ``/complete`` is
``complete`` within seconds of its last byte.

Answers the counts; one log line per invocation. A storage or table failure, or an event that
claims a source's shape but lacks what that source always sends, fails the invocation: retried,
then sent to the on-failure destination (template.yaml: StorageEventsFailures).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from presign.bootstrap import load_settings
from presign.bootstrap.storage_events import build_storage_events
from presign.http.api import lambda_handler

logger = Logger()
metrics = Metrics()
environ = dict(os.environ)
settings = load_settings(environ)
events = build_storage_events(settings, environ, logger=logger, metrics=metrics)


def handle(event: Any, context: LambdaContext) -> dict[str, int]:
    counts = events.handle(event)
    logger.info("storage events", extra={"storage_events": counts})
    return counts


# Not an API Gateway event: no correlation id to read from it.
handler = lambda_handler(logger, handle, metrics=metrics, correlation_id_path=None)
