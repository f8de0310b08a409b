"""``make dev``'s events, as production runs them (docs/events.md): the tables' streams on
moto_server, one ``local.streams.StreamPoller`` per table invoking ``EventsPublisherFunction``
through the emulator's Invoke endpoint (as Lambda's event source mapping would, with the
template's settings), an EventBridge bus on moto_server, and a rule sending every event of the
bus to a queue that a tap reads: it prints each event delivered and appends it to
``<data dir>/events.jsonl`` (one JSON event per line, what a test or an operator reads).

The emulator runs one invocation at a time; the pollers wait for their turn like any request,
and the publisher never calls the emulator back, so nothing here can deadlock it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.invoke import invoke
from local.stream_checkpoints import FileCheckpoints
from local.streams import EventSourceMapping, StreamPoller, latest_stream_arn, sqs_destination, streams_client

log = logging.getLogger("local.dev_events")

PUBLISHER = "EventsPublisherFunction"
BUS_NAME = "presign-local-events"
EVENTS_LOG = "events.jsonl"
_REGION = "us-east-1"
TAP_INTERVAL_SECONDS = 0.25


def boto(service: str, endpoint_url: str) -> Any:
    import boto3

    make: Any = boto3.client  # one call for several services: their overloads do not apply
    return make(
        service,
        endpoint_url=endpoint_url,
        region_name=_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@dataclass
class Bus:
    """The bus, its tap queue and the publisher's on-failure queue, made before the functions load
    (the publisher reads ``PRESIGN_EVENT_BUS`` when it is imported)."""

    endpoint_url: str
    arn: str = ""
    tap_url: str = ""
    failed_url: str = ""
    sqs: Any = field(default=None, repr=False)

    @classmethod
    def create(cls, endpoint_url: str) -> Bus:
        bus = cls(endpoint_url)
        events, bus.sqs = boto("events", endpoint_url), boto("sqs", endpoint_url)
        bus.arn = str(events.create_event_bus(Name=BUS_NAME)["EventBusArn"])
        bus.tap_url = str(bus.sqs.create_queue(QueueName="presign-local-events-tap")["QueueUrl"])
        bus.failed_url = str(bus.sqs.create_queue(QueueName="presign-local-EventsFailedQueue")["QueueUrl"])
        tap_arn = bus.sqs.get_queue_attributes(QueueUrl=bus.tap_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(Name="tap", EventBusName=BUS_NAME, EventPattern=json.dumps({"source": ["presign"]}))
        events.put_targets(Rule="tap", EventBusName=BUS_NAME, Targets=[{"Id": "tap", "Arn": tap_arn}])
        return bus

    def env(self) -> dict[str, str]:
        return {"PRESIGN_EVENT_BUS": self.arn}


def mappings(doc: Mapping[str, Any], tables: Mapping[str, str]) -> dict[str, EventSourceMapping]:
    """The publisher's DynamoDB event source mappings in the template: table name -> settings."""
    function = (doc.get("Resources") or {}).get(PUBLISHER) or {}
    found: dict[str, EventSourceMapping] = {}
    for event in ((function.get("Properties") or {}).get("Events") or {}).values():
        if not isinstance(event, Mapping) or event.get("Type") != "DynamoDB":
            continue
        props = event.get("Properties") or {}
        stream = props.get("Stream") or {}
        target = stream.get("Fn::GetAtt") if isinstance(stream, Mapping) else None
        logical_id = str(target[0]) if isinstance(target, list) and target else ""
        if logical_id not in tables:
            continue
        found[tables[logical_id]] = EventSourceMapping(
            batch_size=int(props.get("BatchSize", 100)),
            starting_position="LATEST" if props.get("StartingPosition") == "LATEST" else "TRIM_HORIZON",
            report_batch_item_failures="ReportBatchItemFailures"
            in (props.get("FunctionResponseTypes") or []),
            bisect_batch_on_function_error=bool(props.get("BisectBatchOnFunctionError", False)),
            maximum_record_age_seconds=int(props.get("MaximumRecordAgeInSeconds", -1)),
            maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
        )
    return found


class FunctionError(RuntimeError):
    """The publisher raised (Lambda's Unhandled): the poller bisects and retries, as Lambda does."""


def invoker(base_url: str, function: str = PUBLISHER) -> Callable[[dict[str, Any]], object]:
    def call(event: dict[str, Any]) -> object:
        ok, answer = invoke(base_url, function, event, timeout=120)
        if not ok:
            raise FunctionError(str(answer)[:300])
        return answer

    return call


def describe(event: Mapping[str, Any]) -> str:
    """One line for an event: its type, id, sequence and what it is about (never a URL or token:
    an event holds none)."""
    data = event.get("data") or {}
    about = " ".join(
        f"{name}={data[name]}"
        for name in ("upload_id", "handle", "key", "status")
        if data.get(name) is not None
    )
    return f"event {event.get('type')} {event.get('id')} seq={event.get('sequence')} {about}".rstrip()


@contextlib.contextmanager
def running(
    bus: Bus,
    *,
    doc: Mapping[str, Any],
    tables: Mapping[str, str],
    base_url: str,
    data_dir: Path,
    say: Callable[[str], None],
) -> Iterator[Path]:
    """Pollers and the tap, on threads, until the block exits; yields the events log's path."""
    stop = threading.Event()
    dynamodb, streams = boto("dynamodb", bus.endpoint_url), streams_client(bus.endpoint_url)
    handler = invoker(base_url)
    on_failure = sqs_destination(bus.sqs, bus.failed_url)
    threads = []
    for table, mapping in mappings(doc, tables).items():
        poller = StreamPoller(
            streams,
            latest_stream_arn(dynamodb, table),
            handler,
            mapping=mapping,
            checkpoints=FileCheckpoints(data_dir / "streams" / f"{table}.json"),
            on_failure=on_failure,
        )
        threads.append(threading.Thread(target=poller.run, args=(stop,), name=f"stream-{table}", daemon=True))
    log_path = data_dir / EVENTS_LOG
    log_path.touch()
    threads.append(
        threading.Thread(target=_tap, args=(bus, log_path, say, stop), name="events-tap", daemon=True)
    )
    for thread in threads:
        thread.start()
    try:
        yield log_path
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


def _tap(bus: Bus, log_path: Path, say: Callable[[str], None], stop: threading.Event) -> None:
    # No long polling: moto_server holds every other request while one ReceiveMessage waits.
    while not stop.wait(TAP_INTERVAL_SECONDS):
        try:
            answer = bus.sqs.receive_message(QueueUrl=bus.tap_url, MaxNumberOfMessages=10)
        except Exception:
            log.debug("the events tap could not read its queue", exc_info=True)
            continue
        for message in answer.get("Messages", []):
            envelope = json.loads(message["Body"])
            event = envelope.get("detail", envelope)
            with log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
            say(describe(event))
            bus.sqs.delete_message(QueueUrl=bus.tap_url, ReceiptHandle=message["ReceiptHandle"])
