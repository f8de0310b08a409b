"""The queue message of one delivery: one event for one endpoint, its body already made.

The fan-out (one message per (event, endpoint)) writes it; the delivery function reads it,
signs ``body`` at send time and sends it. The body is made once (``signing.message_body``) so
every attempt and every replay sends the same bytes; no secret and no URL is in the message
(the endpoint is named by its id and looked up in the settings at send time, so a URL or a
secret rotated meanwhile takes effect on the next attempt). A message that does not parse
raises ``ValueError``: the delivery function reports it failed, and the redrive policy takes
it to the dead-letter queue like any message that cannot be delivered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

#: SQS's limit for a message is 256 KiB; an event is far smaller, the rest is headroom.
MAX_BODY_BYTES = 200 * 1024


@dataclass(frozen=True, slots=True)
class DeliveryMessage:
    event_id: str  # the webhook-id
    event_type: str
    endpoint_id: str
    body: str  # ASCII JSON, exactly the bytes signed and sent

    def to_json(self) -> str:
        return json.dumps(
            {"event_id": self.event_id, "event_type": self.event_type, "endpoint_id": self.endpoint_id,
             "body": self.body},
            separators=(",", ":"),
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> DeliveryMessage:
        try:
            document = json.loads(text)
            message = cls(
                str(document["event_id"]),
                str(document["event_type"]),
                str(document["endpoint_id"]),
                str(document["body"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError("not a webhook delivery message") from exc
        if len(message.body) > MAX_BODY_BYTES or not message.body.isascii():
            raise ValueError("a webhook delivery message's body must be ASCII JSON under 200 KiB")
        return message

    @property
    def body_bytes(self) -> bytes:
        return self.body.encode("ascii")
