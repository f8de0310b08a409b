"""The webhooks' delivery log over DynamoDB (template.yaml's ``WebhookDeliveriesTable``).

Three kinds of item, all with a 30-day TTL but the health:

* an **attempt**: ``pk = "a#" + endpoint``, ``sk = <ISO time> + "#" + event id + "#" + attempt``:
  status, latency, response size, error, verdict (never the URL, the body or a header), so the
  last attempts of an endpoint are one Query newest first (``python -m presign.webhooks log``);
* a **body**, per (event, endpoint): ``pk = "m#" + event id``, ``sk = endpoint``: the exact bytes
  that were signed, kept for a replay of a chosen event; no secret or URL is in it;
* an endpoint's **health**: ``pk = "h#" + endpoint``, ``sk = "health"``: failing since, disabled
  (why, when). An operator's ``enable`` deletes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from presign.adapters.dynamodb import Table, integer, n, s, string
from presign.clock import isoformat_z
from presign.webhooks.delivery import Attempt
from presign.webhooks.messages import DeliveryMessage
from presign.webhooks.schedule import Disabled, EndpointHealth

KEEP_SECONDS = 30 * 86_400
_HEALTH = "health"


def _moment(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


class DynamoDbDeliveryLog(Table):
    title = "the webhook deliveries table"

    def health(self, endpoint_id: str) -> EndpointHealth:
        item = self.call("GetItem", {"Key": _key(f"h#{endpoint_id}", _HEALTH), "ConsistentRead": True}).get(
            "Item"
        )
        if not item:
            return EndpointHealth()
        disabled = string(item, "disabled")
        return EndpointHealth(
            failing_since=_moment(integer(item, "failing_since")),
            disabled=Disabled(disabled) if disabled in {d.value for d in Disabled} else None,
            disabled_at=_moment(integer(item, "disabled_at")),
        )

    def save_health(self, endpoint_id: str, health: EndpointHealth) -> None:
        item: dict[str, Any] = {**_key(f"h#{endpoint_id}", _HEALTH)}
        if health.failing_since is not None:
            item["failing_since"] = n(int(health.failing_since.timestamp()))
        if health.disabled is not None and health.disabled_at is not None:
            item["disabled"] = s(health.disabled.value)
            item["disabled_at"] = n(int(health.disabled_at.timestamp()))
        self.call("PutItem", {"Item": item})

    def enable(self, endpoint_id: str) -> None:
        self.call("DeleteItem", {"Key": _key(f"h#{endpoint_id}", _HEALTH)})

    def record(self, attempt: Attempt, message: DeliveryMessage) -> None:
        expires = n(int(attempt.at.timestamp()) + KEEP_SECONDS)
        item: dict[str, Any] = {
            **_key(
                f"a#{attempt.endpoint_id}",
                f"{isoformat_z(attempt.at)}#{attempt.event_id}#{attempt.attempt:02d}",
            ),
            "event_id": s(attempt.event_id),
            "event_type": s(attempt.event_type),
            "attempt": n(attempt.attempt),
            "at": n(int(attempt.at.timestamp())),
            "latency_ms": n(round(attempt.latency_ms)),
            "response_bytes": n(attempt.response_bytes),
            "verdict": s(attempt.verdict),
            "ttl": expires,
        }
        if attempt.status is not None:
            item["status"] = n(attempt.status)
        if attempt.error is not None:
            item["error"] = s(attempt.error)
        self.call("PutItem", {"Item": item})
        if attempt.attempt == 1:  # the body, once, for a replay of this event
            body = {**_key(f"m#{attempt.event_id}", attempt.endpoint_id), "body": s(message.body)}
            self.call("PutItem", {"Item": {**body, "event_type": s(message.event_type), "ttl": expires}})

    def last_attempts(self, endpoint_id: str, limit: int = 20) -> list[dict[str, Any]]:
        answer = self.call(
            "Query",
            {
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": s(f"a#{endpoint_id}")},
                "ScanIndexForward": False,
                "Limit": limit,
            },
        )
        rows = []
        for item in answer.get("Items") or []:
            at = integer(item, "at")
            rows.append(
                {
                    "time": isoformat_z(_moment(at) or datetime.now(UTC)),
                    "event_id": string(item, "event_id"),
                    "type": string(item, "event_type"),
                    "attempt": integer(item, "attempt"),
                    "status": integer(item, "status"),
                    "latency_ms": integer(item, "latency_ms"),
                    "response_bytes": integer(item, "response_bytes"),
                    "error": string(item, "error"),
                    "verdict": string(item, "verdict"),
                }
            )
        return rows

    def message(self, event_id: str, endpoint_id: str) -> DeliveryMessage | None:
        item = self.call("GetItem", {"Key": _key(f"m#{event_id}", endpoint_id), "ConsistentRead": True}).get(
            "Item"
        )
        body, event_type = (string(item, "body"), string(item, "event_type")) if item else (None, None)
        if body is None or event_type is None:
            return None
        return DeliveryMessage(event_id, event_type, endpoint_id, body)


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": s(pk), "sk": s(sk)}
