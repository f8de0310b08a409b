"""The webhooks' parts from a function's environment (docs/events.md, "Webhooks").

* ``PRESIGN_WEBHOOKS``: the endpoints, JSON (``{"endpoints": [...]}``, ``presign.webhooks.endpoints``);
  empty or absent: no webhooks;
* ``PRESIGN_WEBHOOK_QUEUE_URL`` / ``PRESIGN_WEBHOOK_DLQ_URL``: the delivery queue and its
  dead-letter queue; ``PRESIGN_WEBHOOK_TABLE``: the delivery log;
* ``PRESIGN_WEBHOOK_WAITS``: the retry schedule's waits in seconds, comma-separated (``make dev``
  compresses it; the template leaves the default, 12 attempts over more than 31 hours);
* ``PRESIGN_WEBHOOKS_ALLOW_LOOPBACK=1``: plain-http loopback endpoints (``make dev`` only).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from presign.errors import ConfigurationError
from presign.webhooks.endpoints import SecretRef, WebhookEndpoint, WebhookSettings, parse_settings
from presign.webhooks.schedule import DEFAULT_WAITS, RetrySchedule
from presign.webhooks.signing import SigningSecret

if TYPE_CHECKING:
    from presign.adapters.dynamodb_webhooks import DynamoDbDeliveryLog
    from presign.adapters.sqs_webhooks import SqsWebhookQueue
    from presign.adapters.webhook_http import WebhookSender
    from presign.events.publisher import EventSink
    from presign.webhooks.delivery import Delivery

SECRET_CACHE_SECONDS = 300.0


def webhook_settings(environ: Mapping[str, str]) -> WebhookSettings:
    text = environ.get("PRESIGN_WEBHOOKS", "").strip()
    if not text:
        return WebhookSettings()
    try:
        return parse_settings(json.loads(text), allow_loopback=loopback_allowed(environ))
    except (ValueError, ValidationError) as exc:
        # pydantic's messages name the field and never echo a URL (its repr is hidden)
        raise ConfigurationError(f"PRESIGN_WEBHOOKS is not valid: {_first_error(exc)}") from None


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
    return "not JSON"


def loopback_allowed(environ: Mapping[str, str]) -> bool:
    return environ.get("PRESIGN_WEBHOOKS_ALLOW_LOOPBACK", "") == "1"


def retry_schedule(environ: Mapping[str, str]) -> RetrySchedule:
    text = environ.get("PRESIGN_WEBHOOK_WAITS", "").strip()
    waits = tuple(int(part) for part in text.split(",")) if text else DEFAULT_WAITS
    return RetrySchedule(waits=waits)


def _need(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is not set (webhooks are configured)")
    return value


def _region(environ: Mapping[str, str]) -> str | None:
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")


def webhook_queue(environ: Mapping[str, str], variable: str = "PRESIGN_WEBHOOK_QUEUE_URL") -> SqsWebhookQueue:
    from presign.adapters.sqs_webhooks import SqsWebhookQueue, sqs_client

    return SqsWebhookQueue(sqs_client(region=_region(environ)), _need(environ, variable))


def delivery_log(environ: Mapping[str, str]) -> DynamoDbDeliveryLog:
    from presign.adapters.dynamodb import table_client
    from presign.adapters.dynamodb_webhooks import DynamoDbDeliveryLog

    return DynamoDbDeliveryLog(table_client(), _need(environ, "PRESIGN_WEBHOOK_TABLE"))


def fanout(environ: Mapping[str, str]) -> EventSink | None:
    """The sink the publisher chains after the bus, or None when no endpoint is configured."""
    from presign.webhooks.fanout import WebhookFanout

    endpoints = webhook_settings(environ).endpoints
    return WebhookFanout(endpoints, webhook_queue(environ)) if endpoints else None


def signing_secrets(
    fetch: Callable[[str, str | None], str] | None = None,
) -> Callable[[WebhookEndpoint], Sequence[SigningSecret]]:
    """Each endpoint's active secrets from Secrets Manager, cached ``SECRET_CACHE_SECONDS`` per
    container (a rotation reaches every container within that)."""
    if fetch is None:
        from presign.adapters.aws_parameters import fetch_secret

        fetch = fetch_secret
    cache: dict[SecretRef, tuple[float, SigningSecret]] = {}

    def read(ref: SecretRef) -> SigningSecret:
        hit = cache.get(ref)
        if hit is not None and time.monotonic() - hit[0] < SECRET_CACHE_SECONDS:
            return hit[1]
        assert fetch is not None
        secret = SigningSecret.parse(fetch(ref.secret_id, ref.version_stage).strip())
        cache[ref] = (time.monotonic(), secret)
        return secret

    return lambda endpoint: [read(ref) for ref in endpoint.secrets]


def webhook_sender(environ: Mapping[str, str]) -> WebhookSender:
    from presign.adapters.webhook_http import WebhookSender

    return WebhookSender(allow_loopback=loopback_allowed(environ))


def build_delivery(environ: Mapping[str, str], *, announce: EventSink | None = None) -> Delivery:
    from presign.webhooks.delivery import Delivery

    return Delivery(
        webhook_settings(environ),
        secrets=signing_secrets(),
        sender=webhook_sender(environ),
        visibility=webhook_queue(environ),
        log=delivery_log(environ),
        announce=announce,
        schedule=retry_schedule(environ),
        clock=lambda: datetime.now(UTC),
    )


def delivering(
    environ: Mapping[str, str], *, announce: Callable[[], EventSink | None]
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """The delivery function's body, built on its first batch (a local emulator that serves the
    routes only loads the function without a queue or a bus); ``announce`` makes the sink of the
    endpoint-disabled event (the bus and the other endpoints: ``bootstrap.events.publishing``)."""
    built: list[Delivery] = []

    def deliver(event: Mapping[str, Any]) -> dict[str, Any]:
        if not built:
            built.append(build_delivery(environ, announce=announce()))
        return dict(built[0].handle(event))

    return deliver
