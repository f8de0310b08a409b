"""The events' first sink: an EventBridge bus, through ``PutEvents`` (``presign.events.publisher.EventSink``).

**Entries.** One per event: ``Source`` (``presign`` unless configured), ``DetailType`` the
event's type, ``Detail`` the event's JSON (``presign.events.model``), ``Time`` the time of the
change, ``EventBusName`` the bus (a name or an ARN). A rule matches on all of them, e.g.
``{"source": ["presign"], "detail-type": ["upload.completed"], "detail": {"data": {"kind": ["photo"]}}}``.
EventBridge's envelope gets an ``id`` of its own per delivery attempt; receivers deduplicate on
``detail.id``, which is the same on every retry.

**Calls.** At most 10 entries and 256 KiB per call (EventBridge's limits; an entry's size is
counted as EventBridge counts it: its source, detail type, detail and 14 bytes for the time).
Calls go in the events' order, one after the other, and stop at the first call with a failure:
the events not sent yet are answered as not taken too, so the retry starts at the first failure
instead of sending later changes before earlier ones.

**Errors.** An entry EventBridge refuses (``ErrorCode`` in the answer, e.g. throttled or an
internal error) is not taken: its id is answered and the batch is retried from its record. A
whole call refused or unreachable (throttling after botocore's retries, 5xx, a timeout, no
connection, no credentials, a missing bus, access denied) raises ``DependencyUnavailable`` with
the cause in ``details["reason"]``: every event of the batch is retried. An event too large for
one entry (it cannot be: metadata is bounded) is not taken, so it is retried and then reaches
the event source mapping's on-failure destination rather than vanishing.

boto3 is imported when the client is built (``eventbridge_client``), never at import: only the
publisher function uses this module, and it builds one client per container.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from presign.errors import DependencyUnavailable
from presign.events.model import Event

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
TIME_BYTES = 14  # what EventBridge counts for an entry's Time
DEFAULT_SOURCE = "presign"
RETRY_AFTER_SECONDS = 2
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 3.0
MAX_ATTEMPTS = 3


class PutEventsClient(Protocol):
    """The one call of boto3's ``events`` client used here."""

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class _Entry:
    event: Event
    entry: dict[str, Any]
    size: int


class EventBridgeSink:
    """``EventSink`` on one EventBridge bus."""

    def __init__(self, client: PutEventsClient, *, bus: str, source: str = DEFAULT_SOURCE) -> None:
        self._client = client
        self._bus = bus
        self._source = source

    def put(self, events: Sequence[Event]) -> list[str]:
        not_taken: list[str] = []
        for chunk in self._chunks([self._entry(event) for event in events]):
            if not_taken:
                not_taken += [item.event.id for item in chunk]  # kept for the retry, in order
                continue
            if chunk[0].size > MAX_REQUEST_BYTES:
                not_taken.append(chunk[0].event.id)
                continue
            answer = self._call([item.entry for item in chunk])
            results = answer.get("Entries") or []
            for index, item in enumerate(chunk):
                result = results[index] if index < len(results) else {}
                if result.get("ErrorCode") or not result.get("EventId"):
                    not_taken.append(item.event.id)
        return not_taken

    def _entry(self, event: Event) -> _Entry:
        detail = event.to_json()
        entry = {
            "Source": self._source,
            "DetailType": event.type,
            "Detail": detail,
            "Time": datetime.fromisoformat(event.time),
            "EventBusName": self._bus,
        }
        size = TIME_BYTES + sum(len(text.encode()) for text in (self._source, event.type, detail))
        return _Entry(event, entry, size)

    @staticmethod
    def _chunks(entries: list[_Entry]) -> Iterator[list[_Entry]]:
        chunk: list[_Entry] = []
        size = 0
        for item in entries:
            if chunk and (len(chunk) == MAX_ENTRIES or size + item.size > MAX_REQUEST_BYTES):
                yield chunk
                chunk, size = [], 0
            chunk.append(item)
            size += item.size
        if chunk:
            yield chunk

    def _call(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self._client.put_events(Entries=entries)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code") or "ClientError")
            raise _unavailable("EventBridge refused the events", code) from exc
        except BotoCoreError as exc:  # no connection, a timeout, no credentials
            raise _unavailable("EventBridge is unreachable", type(exc).__name__) from exc


def eventbridge_client(*, region: str | None = None, endpoint_url: str | None = None) -> Any:
    """boto3's ``events`` client with short timeouts and a few retries (standard mode).

    The endpoint is boto3's own resolution unless given (``AWS_ENDPOINT_URL_EVENTS`` in make dev).
    """
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
    )
    return boto3.client("events", region_name=region, endpoint_url=endpoint_url, config=config)


def _unavailable(message: str, reason: str) -> DependencyUnavailable:
    error = DependencyUnavailable(message, retry_after=RETRY_AFTER_SECONDS)
    error.details["reason"] = reason  # for logs
    return error
