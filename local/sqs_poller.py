"""What Lambda's SQS event source mapping does, for ``make dev`` and the tests: receive a batch,
invoke the handler with ``{"Records": [...]}`` shaped as Lambda sends them (``messageId``,
``receiptHandle``, ``body``, ``attributes.ApproximateReceiveCount``, ``eventSource``,
``eventSourceARN``), delete what succeeded. With ``ReportBatchItemFailures`` the messages the
handler lists stay on the queue (their visibility is what the handler set, else the queue's);
a handler that raises leaves the whole batch there. The redrive policy counts receives, as SQS
does: after ``maxReceiveCount`` the message is in the dead-letter queue.

No long polling: moto_server holds every other request while one ReceiveMessage waits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("local.sqs_poller")

Handler = Callable[[dict[str, Any]], object]


class QueuePoller:
    def __init__(self, sqs: Any, queue_url: str, handler: Handler, *, batch_size: int = 5) -> None:
        self._sqs = sqs
        self.queue_url = queue_url
        self._handler = handler
        self._batch_size = batch_size
        self._arn = str(
            sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
        )

    def poll(self) -> int:
        """One receive and one invocation; answers how many messages it handed over."""
        answer = self._sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self._batch_size, AttributeNames=["All"]
        )
        messages = answer.get("Messages") or []
        if not messages:
            return 0
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes") or {}),
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": self._arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
        try:
            response = self._handler({"Records": records})
        except Exception:  # a function error: the whole batch comes back after its visibility
            log.warning("the queue's handler failed", exc_info=True)
            return len(records)
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        failed = {str(f.get("itemIdentifier")) for f in failures or [] if isinstance(f, dict)}
        for record in records:
            if record["messageId"] not in failed:
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"])
        return len(records)

    def drain(self, *, max_polls: int = 100) -> None:
        for _ in range(max_polls):
            if self.poll() == 0:
                return

    def run(self, stop: threading.Event, *, interval: float = 0.25) -> None:
        while not stop.is_set():
            try:
                busy = self.poll() > 0
            except Exception:  # moto stopping or restarting: keep polling
                log.debug("queue poll failed", exc_info=True)
                busy = False
            if not busy:
                stop.wait(interval)
