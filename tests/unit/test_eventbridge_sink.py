"""EventBridgeSink's calls: EventBridge's limits, order, partial failures and errors.

A fake client records the calls; moto runs the same sink for real in
tests/integration/test_stream_publisher.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from presign.adapters.eventbridge import MAX_REQUEST_BYTES, EventBridgeSink
from presign.errors import DependencyUnavailable
from presign.events.model import Event


def event(number: int, *, padding: int = 0) -> Event:
    return Event(
        id=f"evt_{number:032x}",
        type="upload.completed",
        time="2027-01-15T08:00:00Z",
        sequence=2,
        subject=f"upload/{number}",
        data={"upload_id": str(number), "metadata": {"note": "x" * padding}},
    )


class Client:
    def __init__(self, *, fail: set[str] | None = None, error: Exception | None = None) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.fail = fail or set()
        self.error = error

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        self.calls.append(Entries)
        results = []
        for entry in Entries:
            event_id = json.loads(entry["Detail"])["id"]
            failed = event_id in self.fail
            results.append(
                {"ErrorCode": "InternalFailure", "ErrorMessage": "x"} if failed else {"EventId": "e"}
            )
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def test_entries_say_what_a_rule_matches_and_carry_the_event() -> None:
    client = Client()
    assert EventBridgeSink(client, bus="arn:aws:events:us-east-1:1:event-bus/b").put([event(1)]) == []
    (entry,) = client.calls[0]
    assert entry["Source"] == "presign" and entry["DetailType"] == "upload.completed"
    assert entry["EventBusName"] == "arn:aws:events:us-east-1:1:event-bus/b"
    assert json.loads(entry["Detail"]) == event(1).as_dict()
    assert entry["Time"].isoformat() == "2027-01-15T08:00:00+00:00"


def test_at_most_ten_entries_per_call_in_order() -> None:
    client = Client()
    EventBridgeSink(client, bus="b").put([event(i) for i in range(25)])
    assert [len(call) for call in client.calls] == [10, 10, 5]
    sent = [json.loads(e["Detail"])["id"] for call in client.calls for e in call]
    assert sent == [event(i).id for i in range(25)]


def test_no_call_is_larger_than_eventbridge_takes() -> None:
    client = Client()
    EventBridgeSink(client, bus="b").put([event(i, padding=60_000) for i in range(9)])
    assert len(client.calls) > 1
    for call in client.calls:
        size = sum(14 + len(e["Source"]) + len(e["DetailType"]) + len(e["Detail"].encode()) for e in call)
        assert size <= MAX_REQUEST_BYTES, size


def test_a_refused_entry_is_not_taken_nor_are_the_calls_after_it() -> None:
    client = Client(fail={event(3).id})
    not_taken = EventBridgeSink(client, bus="b").put([event(i) for i in range(15)])
    # 4..9 were in the same call and EventBridge took them; 10..14 were never sent.
    assert not_taken == [event(i).id for i in (3, 10, 11, 12, 13, 14)]
    assert len(client.calls) == 1, "a later call went out after a failure"


def test_an_event_too_large_for_eventbridge_is_not_taken() -> None:
    client = Client()
    huge = event(1, padding=MAX_REQUEST_BYTES)
    assert EventBridgeSink(client, bus="b").put([event(0), huge, event(2)]) == [huge.id, event(2).id]
    assert [len(call) for call in client.calls] == [1]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ClientError({"Error": {"Code": "ThrottlingException"}}, "PutEvents"), "ThrottlingException"),
        (
            ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "PutEvents"),
            "ResourceNotFoundException",
        ),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "EndpointConnectionError"),
    ],
)
def test_a_refused_or_unreachable_eventbridge_is_dependency_unavailable(
    error: Exception, reason: str
) -> None:
    with pytest.raises(DependencyUnavailable) as raised:
        EventBridgeSink(Client(error=error), bus="b").put([event(1)])
    assert raised.value.details["reason"] == reason
