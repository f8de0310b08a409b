"""Whether the storage tells presign about new objects: S3's EventBridge delivery for the bucket
(docs/storage-events.md). Only AWS S3 has it; for other providers the check is not applicable
(their events are MinIO webhooks or R2 queues, configured on their side)."""

from __future__ import annotations

from presign.doctor.probe import Probing
from presign.doctor.report import Finding, Status

WITHOUT = "uploads whose client never calls /complete wait for the cleanup (its next run after the URL died)"


class EventChecks(Probing):
    def check_events(self) -> Finding:
        if self.target.provider != "aws":
            return self._finding(
                "events",
                Status.SKIP,
                f"not applicable: EventBridge delivery is AWS S3's ({self.target.provider}: see "
                "docs/storage-events.md for its notifications)",
            )
        answer = self._storage(lambda i: i.notifications())
        if not answer.ok:
            return self._finding(
                "events",
                Status.WARN,
                f"GetBucketNotificationConfiguration: {answer.brief()}",
                "allow s3:GetBucketNotification to let the doctor check EventBridge delivery",
            )
        if "EventBridgeConfiguration" in answer.data:
            return self._finding(
                "events", Status.PASS, "EventBridge delivery is on: uploads complete from events"
            )
        return self._finding(
            "events",
            Status.WARN,
            f"EventBridge delivery is off: {WITHOUT}",
            "turn it on without replacing the bucket's other notifications: docs/storage-events.md",
        )
