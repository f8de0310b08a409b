"""The publisher: commit order out, Lambda's batchItemFailures back, nothing skipped."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from presign.errors import DependencyUnavailable
from presign.events.changes import events_of
from presign.events.model import Event
from presign.events.publisher import handle, publish
from tests.support.stream_records import (
    NOW,
    SHARES_ARN,
    share,
    share_image,
    stream_record,
    upload,
    upload_image,
)


class Sink:
    """Takes events, refusing the ids in ``refuse``, or all of them while ``down``."""

    def __init__(self, *, refuse: Collection[str] = (), down: bool = False) -> None:
        self.refuse = set(refuse)
        self.down = down
        self.taken: list[Event] = []
        self.calls = 0

    def put(self, events: Sequence[Event]) -> list[str]:
        self.calls += 1
        if self.down:
            raise DependencyUnavailable("down")
        self.taken += [e for e in events if e.id not in self.refuse]
        return [e.id for e in events if e.id in self.refuse]


def batch() -> list[dict[str, Any]]:
    """A claim (no event), a creation, a completion, a share spent to its last download."""
    pending = upload_image(upload())
    claim = {"pk": {"S": "i#x#y"}, "sk": {"S": "claim"}}
    fresh, used = share(max_downloads=1), share(max_downloads=1, downloads=1)
    return [
        stream_record("INSERT", new=claim),
        stream_record("INSERT", new=pending),
        stream_record("MODIFY", old=pending, new=upload_image(upload(status="complete", updated_at=NOW + 1))),
        stream_record("MODIFY", old=share_image(fresh), new=share_image(used), arn=SHARES_ARN),
    ]


def numbers(records: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in records]


def identifiers(failures: list[dict[str, str]]) -> list[str]:
    return [f["itemIdentifier"] for f in failures]


def test_all_taken_in_commit_order_and_nothing_reported() -> None:
    sink = Sink()
    assert publish(batch(), sink) == []
    assert [e.type for e in sink.taken] == [
        "upload.created",
        "upload.completed",
        "share.accessed",
        "share.exhausted",
    ]
    assert sink.calls == 1


def test_a_refused_event_reports_its_record_and_every_record_after_it() -> None:
    records = batch()
    first = Sink()
    publish(records, first)
    refused = first.taken[1].id  # upload.completed, the third record
    failures = publish(records, Sink(refuse={refused}))
    assert identifiers(failures) == numbers(records)[2:]


def test_one_refused_event_of_two_in_a_record_fails_that_record() -> None:
    records = batch()
    probe = Sink()
    publish(records, probe)
    exhausted = probe.taken[-1].id
    assert identifiers(publish(records, Sink(refuse={exhausted}))) == numbers(records)[3:]


def test_a_sink_that_is_down_fails_from_the_first_record_with_an_event() -> None:
    records = batch()
    assert identifiers(publish(records, Sink(down=True))) == numbers(records)[1:]


def test_a_malformed_record_stops_the_batch_there_and_is_never_skipped() -> None:
    records = batch()
    del records[2]["dynamodb"]["NewImage"]["status"]
    sink = Sink()
    assert identifiers(publish(records, sink)) == numbers(records)[2:]
    assert [e.type for e in sink.taken] == ["upload.created"]  # the events before it went out


def test_a_record_without_a_sequence_number_fails_the_whole_batch() -> None:
    records = batch()
    del records[1]["dynamodb"]["SequenceNumber"]
    failures = publish(records, Sink())
    assert failures[0] == {"itemIdentifier": ""}  # Lambda: an empty identifier fails the batch


def test_a_batch_without_events_calls_no_sink() -> None:
    sink = Sink(down=True)
    assert publish(batch()[:1], sink) == [] and sink.calls == 0


def test_handle_answers_lambda_s_shape() -> None:
    assert handle({"Records": batch()}, Sink()) == {"batchItemFailures": []}
    assert handle({}, Sink()) == {"batchItemFailures": []}


def test_a_retried_batch_gives_the_same_ids() -> None:
    records = batch()
    first, second = Sink(), Sink()
    publish(records, first)
    publish(records, second)
    assert [e.id for e in first.taken] == [e.id for e in second.taken]
    assert len({e.id for e in first.taken}) == 4


def test_the_webhooks_queue_gets_only_what_the_bus_took_and_either_failing_retries_the_record() -> None:
    from presign.events.publisher import Chain

    # Given a batch whose second event the bus refuses
    records = batch()
    events = [event for record in records for event in events_of(record)]
    bus, queue = Sink(refuse={events[1].id}), Sink()

    # When it is published through the bus, then the queue
    failures = publish(records, Chain(bus, queue))

    # Then the queue never saw the refused event (nor anything the retry will send again first)
    assert events[1].id not in {e.id for e in queue.taken}
    assert failures and failures[0]["itemIdentifier"] == records[2]["dynamodb"]["SequenceNumber"], failures

    # And a queue that is down fails the batch although the bus took it all (a retry re-sends: same ids)
    bus, queue = Sink(), Sink(down=True)
    assert publish(records, Chain(bus, queue)) != []
    assert len(bus.taken) == len(events)


def test_the_fan_out_makes_one_message_per_event_and_endpoint_that_wants_it() -> None:
    from presign.webhooks.endpoints import parse_settings
    from presign.webhooks.fanout import WebhookFanout

    settings = parse_settings(
        {
            "endpoints": [
                {"id": "all", "url": "https://a.example.com/h", "events": ["*"], "secrets": [{"secret_id": "a"}]},
                {"id": "up", "url": "https://b.example.com/h", "events": ["upload.*"], "secrets": [{"secret_id": "b"}]},
                {"id": "off", "url": "https://c.example.com/h", "events": ["*"], "secrets": [{"secret_id": "c"}],
                 "enabled": False},
            ]
        }
    )  # fmt: skip
    sent: list[Any] = []

    class Queue:
        def send(self, messages: Sequence[Any]) -> list[int]:
            sent.extend(messages)
            return []

    events = [event for record in batch() for event in events_of(record)]
    assert WebhookFanout(settings.endpoints, Queue()).put(events) == []
    wanted = [(e.id, "all") for e in events] + [(e.id, "up") for e in events if e.type.startswith("upload.")]
    assert sorted((m.event_id, m.endpoint_id) for m in sent) == sorted(wanted)
    body = json.loads(sent[0].body)
    assert set(body) == {"type", "timestamp", "data"} and body["data"]["id"] == sent[0].event_id, body
