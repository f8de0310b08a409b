"""The fan-out: each event the bus took, once per endpoint that wants it, onto the delivery queue
(an ``EventSink`` the publisher chains after the bus, ``presign.events.publisher.Chain``).

One ``DeliveryMessage`` per (event, endpoint), its body made here once: ``{type, timestamp,
data}`` (Standard Webhooks), ``timestamp`` the event's time and ``data`` the whole event as the
bus carries it (id, sequence, subject, schema_version, data), so one schema per type
(``GET /events/schemas/...``) serves both sinks and receivers order by ``data.sequence``. A stream
batch retried re-sends the same messages: the ``webhook-id`` (the event id) lets receivers drop
the second copy.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from presign.events.model import Event
from presign.webhooks.endpoints import WebhookEndpoint, endpoints_for
from presign.webhooks.messages import DeliveryMessage
from presign.webhooks.signing import message_body


class DeliveryQueue(Protocol):
    """The webhooks' queue. ``send`` answers the messages it did not take (by their index)."""

    def send(self, messages: Sequence[DeliveryMessage]) -> Collection[int]: ...


def delivery_message(event: Event, endpoint: WebhookEndpoint) -> DeliveryMessage:
    body = message_body(event.type, datetime.fromisoformat(event.time), event.as_dict())
    return DeliveryMessage(event.id, event.type, endpoint.id, body.decode("ascii"))


class WebhookFanout:
    def __init__(self, endpoints: Sequence[WebhookEndpoint], queue: DeliveryQueue) -> None:
        self._endpoints = endpoints
        self._queue = queue

    def put(self, events: Sequence[Event]) -> list[str]:
        messages = [
            delivery_message(event, endpoint)
            for event in events
            for endpoint in endpoints_for(event.type, self._endpoints)
        ]
        if not messages:
            return []
        failed = {messages[index].event_id for index in self._queue.send(messages)}
        return [event.id for event in events if event.id in failed]
