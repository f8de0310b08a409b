"""``make dev``'s webhooks, as production runs them (docs/events.md, "Webhooks"): the delivery
queue and its dead-letter queue on moto_server (the template's redrive, for a compressed retry
schedule), the signing secrets in moto's Secrets Manager, the delivery log in the template's
table, a ``local.sqs_poller.QueuePoller`` invoking ``WebhookDeliveryFunction`` through the
emulator, and a local receiver (``local.webhook_receiver``, endpoint ``dev``, every event) that
verifies each delivery with the ``standardwebhooks`` library, prints it and appends it to
``<data dir>/webhooks.jsonl``.

``make dev WEBHOOK_URL=<url>`` adds one more endpoint (``extra``, every event; loopback allowed
in dev only) and prints its ``whsec_`` secret on a line of its own.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, cast

from local.dev_events import boto, invoker
from local.sqs_poller import QueuePoller
from local.webhook_receiver import WebhookReceiver

DELIVERY = "WebhookDeliveryFunction"
WEBHOOKS_LOG = "webhooks.jsonl"
#: The dev schedule: four attempts over a few seconds instead of twelve over days.
DEV_WAITS = (1, 2, 3)
TABLE = "WebhookDeliveriesTable"


@dataclass
class Webhooks:
    endpoint_url: str
    data_dir: Path
    extra_url: str | None = None
    receiver: WebhookReceiver | None = None
    extra_secret: str | None = None
    queue_url: str = ""
    dlq_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    sqs: Any = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.data_dir / WEBHOOKS_LOG

    def prepare(self, say: Callable[[str], None], table: str) -> None:
        """Queues, secrets, the receiver; ``env`` for the functions (before they load)."""
        # presign is importable once the layer is on sys.path (the emulator's template puts it there)
        from presign.webhooks.endpoints import parse_settings
        from presign.webhooks.schedule import RetrySchedule
        from presign.webhooks.signing import generate_secret

        self.sqs = sqs = boto("sqs", self.endpoint_url)
        secrets = boto("secretsmanager", self.endpoint_url)
        schedule = RetrySchedule(waits=DEV_WAITS)
        self.dlq_url = str(sqs.create_queue(QueueName="presign-local-WebhookDeadLetterQueue")["QueueUrl"])
        dlq_arn = sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(schedule.max_receive_count)}
        self.queue_url = str(
            sqs.create_queue(
                QueueName="presign-local-WebhookQueue",
                Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "30"},
            )["QueueUrl"]
        )
        self.log_path.touch()
        dev_secret = generate_secret()
        out = cast(TextIO, _Say(say))
        self.receiver = WebhookReceiver(dev_secret, log_path=self.log_path, out=out).start()
        endpoints = [self._endpoint(secrets, "dev", self.receiver.url, dev_secret)]
        if self.extra_url:
            self.extra_secret = generate_secret()
            endpoints.append(self._endpoint(secrets, "extra", self.extra_url, self.extra_secret))
        # The functions would refuse a bad WEBHOOK_URL on their first batch: say it now instead.
        parse_settings({"endpoints": endpoints}, allow_loopback=True)
        self.env = {
            "PRESIGN_WEBHOOKS": json.dumps({"endpoints": endpoints}),
            "PRESIGN_WEBHOOKS_ALLOW_LOOPBACK": "1",
            "PRESIGN_WEBHOOK_QUEUE_URL": self.queue_url,
            "PRESIGN_WEBHOOK_DLQ_URL": self.dlq_url,
            "PRESIGN_WEBHOOK_TABLE": table,
            "PRESIGN_WEBHOOK_WAITS": ",".join(str(w) for w in DEV_WAITS),
        }

    @staticmethod
    def _endpoint(secrets: Any, name: str, url: str, secret: str) -> dict[str, Any]:
        secret_id = f"presign-local/webhooks/{name}"
        secrets.create_secret(Name=secret_id, SecretString=secret)
        return {"id": name, "url": url, "events": ["*"], "secrets": [{"secret_id": secret_id}]}

    @contextlib.contextmanager
    def running(self, base_url: str) -> Iterator[None]:
        stop = threading.Event()
        poller = QueuePoller(self.sqs, self.queue_url, invoker(base_url, DELIVERY))
        thread = threading.Thread(target=poller.run, args=(stop,), name="webhooks-queue", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)
            if self.receiver is not None:
                self.receiver.stop()


class _Say:
    """The receiver's printed lines, through make dev's own printer."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say

    def write(self, text: str) -> int:
        if text.strip():
            self._say(text.rstrip("\n"))
        return len(text)

    def flush(self) -> None:
        return None
