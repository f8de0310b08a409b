"""The events publisher's parts: the EventBridge bus and, when webhooks are configured, their
delivery queue after it (``presign.bootstrap.webhooks``), from the function's environment.

``PRESIGN_EVENT_BUS`` is the bus's name or ARN (template.yaml sets it: the bus it creates, or
``EventBusArn``). boto3 finds its endpoint as the SDKs do (``AWS_ENDPOINT_URL_EVENTBRIDGE`` in
``make dev``), and is imported on first use: the publisher is the only function that needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from presign.errors import ConfigurationError
from presign.events.publisher import Chain, EventSink, handle

EVENT_BUS_VAR = "PRESIGN_EVENT_BUS"
Publisher = Callable[[Mapping[str, Any]], dict[str, Any]]


def event_bus(environ: Mapping[str, str]) -> EventSink:
    from presign.adapters.eventbridge import EventBridgeSink, eventbridge_client

    bus = environ.get(EVENT_BUS_VAR, "").strip()
    if not bus:
        raise ConfigurationError(f"{EVENT_BUS_VAR} is not set: the publisher has no bus to publish to")
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    return EventBridgeSink(eventbridge_client(region=region), bus=bus)


def publishing(environ: Mapping[str, str]) -> EventSink:
    """The bus, then, when endpoints are configured, the webhooks' queue (after the bus took an
    event, never before: ``Chain``)."""
    from presign.bootstrap.webhooks import fanout

    bus = event_bus(environ)
    queue = fanout(environ)
    return Chain(bus, queue) if queue is not None else bus


def build_publisher(environ: Mapping[str, str], *, sink: EventSink | None = None) -> Publisher:
    """The publisher function's body: a stream batch in, ``batchItemFailures`` out. The bus is
    found on the first batch, so a stack without one (a local emulator serving the routes only)
    can still load the function; a batch without it fails, and is retried."""
    sinks: list[EventSink] = [sink] if sink is not None else []

    def publish(event: Mapping[str, Any]) -> dict[str, Any]:
        if not sinks:
            sinks.append(publishing(environ))
        return handle(event, sinks[0])

    return publish
