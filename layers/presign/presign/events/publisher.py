"""The publisher: a batch of stream records in, their events out to a sink, failures reported.

It is what the publisher function does with each batch its event source mapping delivers
(``{"Records": [...]}``, one shard's records in commit order):

1. every record becomes its events (``presign.events.changes``), in the batch's order, so the
   events of one item leave in the order their changes committed;
2. the sink takes them all (``EventSink.put``) and answers which ids it could not take;
3. the answer to Lambda is ``batchItemFailures``: the record of the first event not taken and
   every record after it (``ReportBatchItemFailures``; Lambda resumes at the lowest sequence
   number listed, so nothing before it is sent again, and nothing after it is skipped).

A record that cannot be read (``MalformedChange``) stops the batch there: it and the records
after it are reported, the events before it go out. Never skipped: retried, then handed to
the mapping's on-failure destination with the rest of its batch.

Why nothing is lost and nothing invented: only committed changes are in the stream; a record
is checkpointed only after this function has answered without listing it, which it does only
once the sink has taken all its events; a crash anywhere before that answer leaves the
checkpoint where it was, and the retry computes the same events with the same ids.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

from presign.errors import DependencyUnavailable
from presign.events.changes import events_of
from presign.events.model import Event, MalformedChange

BatchItemFailure = dict[str, str]


class EventSink(Protocol):
    """Where events go. ``put`` answers the ids it did not take (empty: all taken).

    Raises ``DependencyUnavailable`` when it took none (down, throttled, refused).
    """

    def put(self, events: Sequence[Event]) -> Collection[str]: ...


class Chain:
    """Sinks one after the other: an event goes to the next only once the one before took it (the
    webhooks' queue only after the bus). Not taken: what any of them did not take, so the batch
    is retried from that event's record and the sinks that took it see it again, with its id."""

    def __init__(self, *sinks: EventSink) -> None:
        self._sinks = sinks

    def put(self, events: Sequence[Event]) -> Collection[str]:
        not_taken: set[str] = set()
        for sink in self._sinks:
            taken = [event for event in events if event.id not in not_taken]
            if not taken:
                break
            try:
                not_taken |= set(sink.put(taken))
            except DependencyUnavailable:
                not_taken |= {event.id for event in taken}
        return not_taken


def publish(
    records: Sequence[Mapping[str, Any]],
    sink: EventSink,
    *,
    read: Callable[[Mapping[str, Any]], list[Event]] = events_of,
) -> list[BatchItemFailure]:
    """Publish the events of ``records`` (commit order); answer Lambda's ``batchItemFailures``."""
    per_record: list[list[Event]] = []
    first_failed = len(records)
    for index, record in enumerate(records):
        try:
            per_record.append(read(record))
        except MalformedChange:
            first_failed = index
            break
    events = [event for events in per_record for event in events]
    if events:
        try:
            not_taken = set(sink.put(events))
        except DependencyUnavailable:
            not_taken = {event.id for event in events}
        for index, record_events in enumerate(per_record):
            if any(event.id in not_taken for event in record_events):
                first_failed = min(first_failed, index)
                break
    return [{"itemIdentifier": _sequence_number(record)} for record in records[first_failed:]]


def handle(event: Mapping[str, Any], sink: EventSink) -> dict[str, list[BatchItemFailure]]:
    """The publisher function's answer to one invocation by its event source mapping."""
    records = event.get("Records") or []
    return {"batchItemFailures": publish(records, sink)}


def _sequence_number(record: Mapping[str, Any]) -> str:
    body = record.get("dynamodb") if isinstance(record, Mapping) else None
    number = body.get("SequenceNumber") if isinstance(body, Mapping) else None
    # Lambda reads an empty identifier as "the whole batch failed": the safe answer for a record
    # so broken that it has no sequence number.
    return number if isinstance(number, str) else ""
