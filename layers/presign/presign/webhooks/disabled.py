"""The event an endpoint's disabling is (``webhook.endpoint_disabled``, docs/events.md).

Its id is derived like every other event's (``presign.events.model.event_id``) from the endpoint
and the moment it was disabled, which the delivery log stores before the event is published: a
delivery retried after a crash computes the same id again, so receivers deduplicate it as any
other. Its sequence is that moment in epoch seconds (it only grows: an endpoint is disabled
again only after an operator enabled it).
"""

from __future__ import annotations

from presign.clock import isoformat_z
from presign.events.model import Event, EventType, event_id
from presign.webhooks.schedule import EndpointHealth

TYPE: EventType = "webhook.endpoint_disabled"


def endpoint_disabled(endpoint_id: str, health: EndpointHealth) -> Event:
    if health.disabled is None or health.disabled_at is None:
        raise ValueError("the endpoint is not disabled")
    sequence = int(health.disabled_at.timestamp())
    since = health.failing_since or health.disabled_at
    return Event(
        id=event_id("webhooks", {"endpoint": endpoint_id}, TYPE, sequence),
        type=TYPE,
        time=isoformat_z(health.disabled_at),
        sequence=sequence,
        subject=f"webhook/{endpoint_id}",
        data={
            "endpoint_id": endpoint_id,
            "reason": health.disabled.value,
            "failing_since": isoformat_z(since),
            "disabled_at": isoformat_z(health.disabled_at),
        },
    )
