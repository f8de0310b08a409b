"""The audit log: one structured line per state change of an upload or a share, through the
function's logger (CloudWatch Logs in Lambda). Never a URL, a signature, a token or a password.

The caller appears only as a digest (``who``), and an object key only relative to its owner's
prefix (``~/2026/12/01/<upload_id>/cat.png``), since the prefix holds the ``sub`` itself
(``users/{sub}/``) and a log line must not. ``request_id`` is the API request's (the logger's
correlation id, set from ``requestContext.requestId``).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from presign.core.owners import Namespace
from presign.shares.links import AuditEvent as ShareEvent
from presign.uploads.ledger import AuditEvent as UploadEvent

# The metric of each completion outcome, one per change, with the actor (client, cleanup, event)
# as its dimension: how many uploads the server finished for clients that never said so.
OUTCOME_METRICS = {"complete": "UploadsCompleted", "rejected": "UploadsRejected"}


class UploadAudit:
    """``presign.uploads.ledger.AuditSink`` as log lines, and, with ``metrics``, one
    ``UploadsCompleted`` / ``UploadsRejected`` metric per completion, by actor."""

    def __init__(self, logger: Logger, namespace: Namespace, metrics: Metrics | None = None) -> None:
        self._logger = logger
        self._namespace = namespace
        self._metrics = metrics

    def __call__(self, event: UploadEvent) -> None:
        self._logger.info(
            "upload audit",
            extra={
                "audit": True,
                "who": event.owner,
                "action": event.action,
                "target": event.target,
                "key": self._relative(event),
                "upload_id": event.upload_id,
                "outcome": event.outcome,
                "actor": event.actor,
                "request_id": self._logger.get_correlation_id() or "",
            },
        )
        name = OUTCOME_METRICS.get(event.outcome)
        if self._metrics is not None and name is not None:
            with single_metric(
                name=name, unit=MetricUnit.Count, value=1, namespace=self._metrics.namespace
            ) as metric:
                metric.add_dimension(name="actor", value=event.actor)

    def _relative(self, event: UploadEvent) -> str:
        prefix = self._namespace.prefix_of(event.target, event.key)
        if prefix is not None:
            return "~/" + event.key[len(prefix) :]
        # Not under a prefix of the target as configured now: keep only what the server made itself.
        _, marker, tail = event.key.partition(f"/{event.upload_id}/")
        return f"~/.../{event.upload_id}/{tail}" if marker else "~/..."


class ShareAudit:
    """``presign.shares.links.AuditSink`` as log lines: the handle, never the id, a URL or a
    password. A visit is also one ``ShareAccess`` metric per outcome: a wave of wrong passwords
    and a viral link look different."""

    def __init__(self, logger: Logger, metrics: Metrics) -> None:
        self._logger = logger
        self._metrics = metrics

    def __call__(self, event: ShareEvent) -> None:
        extra = {
            "audit": True,
            "action": event.action,
            "share": event.handle,
            "outcome": event.outcome,
            "request_id": self._logger.get_correlation_id() or "",
        }
        if event.client:
            extra["client_ip"] = event.client
        if event.owner:
            extra["who"] = event.owner
        self._logger.info("share audit", extra=extra)
        if event.action == "open":
            with single_metric(
                name="ShareAccess", unit=MetricUnit.Count, value=1, namespace=self._metrics.namespace
            ) as metric:
                metric.add_dimension(name="outcome", value=event.outcome)
