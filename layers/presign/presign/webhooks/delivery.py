"""The delivery function's work: one SQS batch of ``DeliveryMessage`` in, each attempt signed at
send time and sent, the queue told when to try again, Lambda told which messages failed.

Per message (``ApproximateReceiveCount`` is the attempt number):

1. the endpoint by its id in the configuration; gone from it, disabled there or disabled by the
   delivery log: dropped (deleted, logged), never sent;
2. signed now (``signing.signature_headers``: a fresh ``webhook-timestamp``, the same
   ``webhook-id``, one signature per active secret) and sent (``Sender``: one resolution, the
   checked address, no redirects, capped answer and time);
3. ``schedule.RetrySchedule.decide``: delivered or 410 -> done (deleted); otherwise
   ``ChangeMessageVisibility(wait)`` and reported failed, so SQS hands it over again after the
   wait; after the last attempt visibility 0 and failed, so the next receive passes
   ``maxReceiveCount`` and SQS moves it to the dead-letter queue;
4. the attempt goes to the delivery log (status, time, latency, response size; never the URL,
   the body or a header), and the endpoint's health after it; an endpoint this attempt disabled
   (410, or failing for ``disable_after``) is announced by a ``webhook.endpoint_disabled`` event.

Every message not done is reported in ``batchItemFailures``; a message that does not parse
too (it reaches the dead-letter queue after ``maxReceiveCount`` receives).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from presign.errors import DependencyUnavailable
from presign.events.publisher import EventSink
from presign.webhooks.disabled import endpoint_disabled
from presign.webhooks.endpoints import WebhookEndpoint, WebhookSettings
from presign.webhooks.messages import DeliveryMessage
from presign.webhooks.schedule import EndpointHealth, RetrySchedule, Verdict
from presign.webhooks.signing import SigningSecret, signature_headers


class Answer(Protocol):
    """What one attempt got (``presign.adapters.webhook_http.WebhookResponse``)."""

    @property
    def status(self) -> int | None: ...
    @property
    def latency_ms(self) -> float: ...
    @property
    def response_bytes(self) -> int: ...
    @property
    def retry_after(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...


class Sender(Protocol):
    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> Answer: ...


class Visibility(Protocol):
    def change(self, receipt_handle: str, seconds: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Attempt:
    """One line of the delivery log."""

    endpoint_id: str
    event_id: str
    event_type: str
    attempt: int
    at: datetime
    status: int | None
    latency_ms: float
    response_bytes: int
    error: str | None
    verdict: str


class DeliveryLog(Protocol):
    def health(self, endpoint_id: str) -> EndpointHealth: ...
    def save_health(self, endpoint_id: str, health: EndpointHealth) -> None: ...
    def record(self, attempt: Attempt, message: DeliveryMessage) -> None: ...


Secrets = Callable[[WebhookEndpoint], Sequence[SigningSecret]]


class Delivery:
    def __init__(
        self,
        settings: WebhookSettings,
        *,
        secrets: Secrets,
        sender: Sender,
        visibility: Visibility,
        log: DeliveryLog,
        announce: EventSink | None = None,
        schedule: RetrySchedule | None = None,
        clock: Callable[[], datetime],
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._endpoints = {endpoint.id: endpoint for endpoint in settings.endpoints}
        self._secrets = secrets
        self._sender = sender
        self._visibility = visibility
        self._log = log
        self._announce = announce
        self._schedule = schedule or RetrySchedule()
        self._clock = clock
        self._rand = rand

    def handle(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        """An SQS batch (Lambda's event) -> ``batchItemFailures``."""
        failures = []
        for record in event.get("Records") or []:
            if not self.deliver(record):
                failures.append({"itemIdentifier": str(record.get("messageId", ""))})
        return {"batchItemFailures": failures}

    def deliver(self, record: Mapping[str, Any]) -> bool:
        """True when the message is done with (delivered, gone, or for no endpoint)."""
        try:
            message = DeliveryMessage.from_json(str(record.get("body", "")))
        except ValueError:
            return False
        endpoint = self._endpoints.get(message.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            return True
        before = self._log.health(endpoint.id)
        if before.disabled is not None:
            return True
        attempt = _receive_count(record)
        now = self._clock()
        headers = {
            **signature_headers(message.event_id, message.body_bytes, self._secrets(endpoint), now),
            "content-type": "application/json",
        }
        answer = self._sender.send(endpoint.url, message.body_bytes, headers)
        decision = self._schedule.decide(
            attempt=attempt, status=answer.status, retry_after=answer.retry_after, now=now, rand=self._rand
        )
        line = Attempt(
            endpoint.id, message.event_id, message.event_type, attempt, now, answer.status,
            answer.latency_ms, answer.response_bytes, answer.error, decision.verdict.value,
        )  # fmt: skip
        self._log.record(line, message)
        gone = decision.verdict is Verdict.ENDPOINT_GONE
        after = before.after(delivered=decision.verdict is Verdict.DELIVERED, gone=gone, now=now)
        # Published before the health is stored: if the bus does not take it, the batch fails, the
        # message comes back, and the attempt that disables the endpoint is made again (an event
        # lost after a stored "disabled" would never be sent).
        announce = self._announce if after.newly_disabled(before) else None
        if announce is not None and announce.put([endpoint_disabled(endpoint.id, after)]):
            raise DependencyUnavailable("the endpoint-disabled event was not published")
        if after != before:
            self._log.save_health(endpoint.id, after)
        receipt = str(record.get("receiptHandle", ""))
        if decision.verdict is Verdict.RETRY:
            self._visibility.change(receipt, decision.wait)
            return False
        if decision.verdict is Verdict.DEAD_LETTER:
            self._visibility.change(receipt, 0)
            return False
        return True


def _receive_count(record: Mapping[str, Any]) -> int:
    attributes = record.get("attributes") or {}
    try:
        return max(1, int(attributes.get("ApproximateReceiveCount", 1)))
    except (TypeError, ValueError):
        return 1
