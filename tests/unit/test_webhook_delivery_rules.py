"""The delivery's decisions with in-memory parts (the real adapters: tests/integration/
test_webhook_delivery.py): what is sent, what the queue is told, what the log keeps."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from presign.errors import DependencyUnavailable
from presign.events.model import Event
from presign.webhooks.delivery import Attempt, Delivery
from presign.webhooks.endpoints import parse_settings
from presign.webhooks.messages import DeliveryMessage
from presign.webhooks.schedule import EndpointHealth, RetrySchedule
from presign.webhooks.signing import SigningSecret, generate_secret

SECRET = generate_secret()
NOW = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


@dataclass
class Answer:
    status: int | None
    latency_ms: float = 1.0
    response_bytes: int = 0
    retry_after: str | None = None
    error: str | None = None


@dataclass
class Parts:
    statuses: list[int | None]
    sent: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    visibility: list[int] = field(default_factory=list)
    lines: list[Attempt] = field(default_factory=list)
    healths: dict[str, EndpointHealth] = field(default_factory=dict)
    announced: list[Event] = field(default_factory=list)
    refuse_announce: bool = False

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        self.sent.append((body, dict(headers)))
        return Answer(self.statuses.pop(0))

    def change(self, receipt_handle: str, seconds: int) -> None:
        self.visibility.append(seconds)

    def health(self, endpoint_id: str) -> EndpointHealth:
        return self.healths.get(endpoint_id, EndpointHealth())

    def save_health(self, endpoint_id: str, health: EndpointHealth) -> None:
        self.healths[endpoint_id] = health

    def record(self, attempt: Attempt, message: DeliveryMessage) -> None:
        self.lines.append(attempt)

    def put(self, events: Sequence[Event]) -> list[str]:
        if self.refuse_announce:
            return [e.id for e in events]
        self.announced += events
        return []


def delivery(parts: Parts, now: datetime = NOW) -> Delivery:
    settings = parse_settings(
        {"endpoints": [{"id": "dev", "url": "https://hooks.example.com/h", "events": ["*"],
                        "secrets": [{"secret_id": "s"}]}]}
    )  # fmt: skip
    return Delivery(
        settings, secrets=lambda _: [SigningSecret.parse(SECRET)], sender=parts, visibility=parts, log=parts,
        announce=parts, schedule=RetrySchedule(waits=(5, 30, 120)), clock=lambda: now, rand=lambda: 0.0,
    )  # fmt: skip


def record(receive: int, endpoint: str = "dev") -> dict[str, Any]:
    body = json.dumps(
        {"type": "upload.completed", "timestamp": "2026-12-08T01:00:00Z", "data": {"id": "evt_1"}}
    )
    message = DeliveryMessage("evt_1", "upload.completed", endpoint, body)
    return {"messageId": "m1", "receiptHandle": "r1", "body": message.to_json(),
            "attributes": {"ApproximateReceiveCount": str(receive)}}  # fmt: skip


def test_a_failed_attempt_waits_its_turn_and_the_last_one_goes_to_the_dead_letter_queue() -> None:
    parts = Parts([503, 503, 503, 503])
    answers = [delivery(parts).handle({"Records": [record(n)]}) for n in (1, 2, 3, 4)]
    assert all(a == {"batchItemFailures": [{"itemIdentifier": "m1"}]} for a in answers), answers
    assert parts.visibility == [5, 30, 120, 0]  # the schedule's waits, then 0: the redrive's receive
    assert [line.verdict for line in parts.lines] == ["retry", "retry", "retry", "dead_letter"]


def test_every_attempt_is_signed_when_it_is_sent_with_the_same_webhook_id() -> None:
    parts = Parts([503, 204])
    delivery(parts, NOW - timedelta(minutes=10)).handle({"Records": [record(1)]})
    delivery(parts, datetime.now(UTC)).handle({"Records": [record(2)]})
    (first_body, first), (body, retry) = parts.sent
    assert first["webhook-id"] == retry["webhook-id"] == "evt_1" and first_body == body  # same bytes
    assert int(retry["webhook-timestamp"]) - int(first["webhook-timestamp"]) >= 600
    assert Webhook(SECRET).verify(body, retry)["data"] == {"id": "evt_1"}


def test_a_disabling_event_the_bus_refuses_fails_the_batch_and_stores_nothing() -> None:
    # Given an endpoint that answers 410, and a bus that refuses the announcement
    parts = Parts([410], refuse_announce=True)

    # When the message is delivered / Then the invocation fails, the endpoint is not marked disabled
    with pytest.raises(DependencyUnavailable):
        delivery(parts).handle({"Records": [record(1)]})
    assert parts.healths == {}

    # And the next receive makes the attempt again, disables it, and announces it once
    parts.statuses, parts.refuse_announce = [410], False
    assert delivery(parts).handle({"Records": [record(2)]}) == {"batchItemFailures": []}
    assert [(e.type, e.data["reason"]) for e in parts.announced] == [("webhook.endpoint_disabled", "gone")]
    assert parts.healths["dev"].disabled is not None


def test_a_message_for_an_endpoint_no_longer_configured_is_dropped_unsent() -> None:
    parts = Parts([])
    assert delivery(parts).handle({"Records": [record(1, endpoint="gone")]}) == {"batchItemFailures": []}
    assert parts.sent == []


def test_a_message_that_does_not_parse_fails_until_the_dead_letter_queue_takes_it() -> None:
    parts = Parts([])
    broken = {**record(1), "body": "not json"}
    assert delivery(parts).handle({"Records": [broken]}) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
