"""The webhooks' queue and its dead-letter queue on SQS: the fan-out's ``SendMessageBatch``, the
delivery's ``ChangeMessageVisibility``, and what operators do (replay from the dead-letter queue,
send one message).

boto3 is imported when the client is built, never at import: the publisher and the delivery
function build one client per container (not a request path). The endpoint is boto3's own
resolution (``AWS_ENDPOINT_URL_SQS`` in ``make dev``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from presign.errors import DependencyUnavailable
from presign.webhooks.messages import DeliveryMessage
from presign.webhooks.schedule import delay_seconds, visibility_timeout

MAX_BATCH = 10  # SendMessageBatch's limit


def sqs_client(*, region: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=1.0, read_timeout=5.0, retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("sqs", region_name=region, config=config)


def _unavailable(exc: Exception) -> DependencyUnavailable:
    error = DependencyUnavailable("the webhooks' queue is unavailable", retry_after=2)
    error.details["reason"] = type(exc).__name__
    return error


class SqsWebhookQueue:
    """``DeliveryQueue`` and ``Visibility`` on one queue."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self.queue_url = queue_url

    def send(self, messages: Sequence[DeliveryMessage], *, delay: int = 0) -> list[int]:
        """Answers the indexes of the messages SQS did not take."""
        from botocore.exceptions import BotoCoreError, ClientError

        failed: list[int] = []
        for start in range(0, len(messages), MAX_BATCH):
            chunk = messages[start : start + MAX_BATCH]
            entries = [
                {"Id": str(i), "MessageBody": m.to_json(), "DelaySeconds": delay_seconds(delay)}
                for i, m in enumerate(chunk)
            ]
            try:
                answer = self._client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except (BotoCoreError, ClientError) as exc:
                raise _unavailable(exc) from exc
            failed += [start + int(entry["Id"]) for entry in answer.get("Failed") or []]
        return failed

    def change(self, receipt_handle: str, seconds: int) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=receipt_handle,
                VisibilityTimeout=visibility_timeout(seconds),
            )
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc) from exc

    def take(self, limit: int = 10) -> list[tuple[DeliveryMessage | None, str, str]]:
        """Up to ``limit`` messages off the queue (an operator's replay from the dead-letter queue):
        (the message, or None when it does not parse; its raw body; its receipt handle)."""
        answer = self._client.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=max(1, min(10, limit)), VisibilityTimeout=60
        )
        taken: list[tuple[DeliveryMessage | None, str, str]] = []
        for item in answer.get("Messages") or []:
            try:
                message: DeliveryMessage | None = DeliveryMessage.from_json(item["Body"])
            except ValueError:
                message = None
            taken.append((message, item["Body"], item["ReceiptHandle"]))
        return taken

    def delete(self, receipt_handle: str) -> None:
        self._client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle)
