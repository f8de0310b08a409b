"""The delivery message: what the fan-out queues and the delivery function reads back."""

from __future__ import annotations

import json

import pytest

from presign.webhooks.messages import MAX_BODY_BYTES, DeliveryMessage

MESSAGE = DeliveryMessage("evt_1", "upload.completed", "billing", '{"type":"upload.completed"}')


def test_round_trip_keeps_the_body_byte_for_byte() -> None:
    assert DeliveryMessage.from_json(MESSAGE.to_json()) == MESSAGE
    assert MESSAGE.body_bytes == b'{"type":"upload.completed"}'
    assert set(json.loads(MESSAGE.to_json())) == {"event_id", "event_type", "endpoint_id", "body"}


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"event_id": "e"}',
        json.dumps({"event_id": "e", "event_type": "t", "endpoint_id": "x", "body": "é"}),
        json.dumps(
            {"event_id": "e", "event_type": "t", "endpoint_id": "x", "body": "a" * (MAX_BODY_BYTES + 1)}
        ),
    ],
)
def test_a_message_that_is_not_one_of_ours_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="webhook delivery message"):
        DeliveryMessage.from_json(text)
