"""The events pipeline on moto_server, as production runs it: tables with streams, the real stores
writing to them, ``local.streams`` as the event source mapping, the publisher, an EventBridge bus
with rules delivering to SQS queues.

The tables are template.yaml's ``UploadsTable`` and ``SharesTable`` (their keys and indexes read
from the template, not written here) with the ``StreamSpecification`` phase 2 adds to them.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3

from local.cfn import load_template
from local.stream_checkpoints import Checkpoints
from local.streams import (
    EventSourceMapping,
    OnFailure,
    StreamPoller,
    latest_stream_arn,
    streams_client,
)
from presign.adapters.aws_json import AwsJsonClient
from presign.adapters.dynamodb_cleanup import DynamoDbCleanupRecords, DynamoDbCleanupShares
from presign.adapters.dynamodb_shares import DynamoDbShareStore
from presign.adapters.dynamodb_uploads import DynamoDbRecordStore
from presign.adapters.eventbridge import EventBridgeSink, eventbridge_client
from presign.adapters.role import role_credentials
from presign.cleanup.ports import ShareRef
from presign.events.model import Event
from presign.events.publisher import handle

STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
_COPIED = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")


def docs_rule() -> dict[str, Any]:
    """docs/events.md's example rule (completed uploads of one kind), read from the page itself:
    the first JSON block that is an event pattern."""
    from local.cfn import ROOT

    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    for block in re.findall(r"```json\n(.*?)\n```", text, flags=re.S):
        if '"detail-type"' in block:
            return dict(json.loads(block))
    raise AssertionError("docs/events.md shows no rule")


PHOTOS_RULE = docs_rule()
ALL_RULE = {"source": ["presign"]}


def boto(service: str, endpoint_url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def json_client(endpoint_url: str) -> AwsJsonClient:
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    return AwsJsonClient(
        region="us-east-1",
        endpoint_url=endpoint_url,
        credentials_provider=lambda: role_credentials(env),
        connect_timeout=1,
        read_timeout=3,
        max_attempts=2,
    )


def table_request(logical_id: str, name: str) -> dict[str, Any]:
    """CreateTable for one of template.yaml's tables, with a stream of new and old images."""
    props = load_template()["Resources"][logical_id]["Properties"]
    request = {key: props[key] for key in _COPIED if key in props}
    text = json.dumps(request)
    assert '"Ref"' not in text and '"Fn::' not in text, f"{logical_id} now needs the template resolver"
    return {"TableName": name, **request, "StreamSpecification": STREAM}


@dataclass
class Pipeline:
    """One set of tables, streams, bus and queues, fresh per test."""

    endpoint_url: str
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        self.dynamodb = boto("dynamodb", self.endpoint_url)
        self.sqs = boto("sqs", self.endpoint_url)
        self.events = boto("events", self.endpoint_url)
        self.streams = streams_client(self.endpoint_url)
        self.uploads_table = f"events-uploads-{self.suffix}"
        self.shares_table = f"events-shares-{self.suffix}"
        for logical_id, name in (("UploadsTable", self.uploads_table), ("SharesTable", self.shares_table)):
            self.dynamodb.create_table(**table_request(logical_id, name))
            self.dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": True}
            )
        client = json_client(self.endpoint_url)
        self.records = DynamoDbRecordStore(client, self.uploads_table)
        self.cleanup = DynamoDbCleanupRecords(client, self.uploads_table)
        self.shares = DynamoDbShareStore(client, self.shares_table)
        self.bus = f"presign-{self.suffix}"
        self.events.create_event_bus(Name=self.bus)
        self.queues = {
            name: self._queue_for(name, rule) for name, rule in (("all", ALL_RULE), ("photos", PHOTOS_RULE))
        }
        self.destination = self.sqs.create_queue(QueueName=f"events-failed-{self.suffix}")["QueueUrl"]

    def _queue_for(self, name: str, pattern: dict[str, Any]) -> str:
        url = self.sqs.create_queue(QueueName=f"events-{name}-{self.suffix}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        rule = f"{name}-{self.suffix}"
        self.events.put_rule(Name=rule, EventBusName=self.bus, EventPattern=json.dumps(pattern))
        self.events.put_targets(Rule=rule, EventBusName=self.bus, Targets=[{"Id": name, "Arn": arn}])
        return str(url)

    def sink(self, endpoint_url: str | None = None) -> EventBridgeSink:
        client = eventbridge_client(region="us-east-1", endpoint_url=endpoint_url or self.endpoint_url)
        return EventBridgeSink(client, bus=self.bus)

    def pollers(
        self,
        handler: Callable[[dict[str, Any]], object],
        *,
        checkpoints: Callable[[str], Checkpoints],
        mapping: EventSourceMapping | None = None,
        on_failure: OnFailure | None = None,
    ) -> list[StreamPoller]:
        """One event source mapping per table, both into ``handler``; ``checkpoints(table)``."""
        return [
            StreamPoller(
                self.streams,
                latest_stream_arn(self.dynamodb, table),
                handler,
                mapping=mapping,
                checkpoints=checkpoints(table),
                on_failure=on_failure,
            )
            for table in (self.uploads_table, self.shares_table)
        ]

    def received(self, queue: str = "all") -> list[dict[str, Any]]:
        """Every event the queue holds (the EventBridge envelope's ``detail``), taken off it."""
        url = self.queues.get(queue, queue)
        details = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return details
            for message in messages:
                envelope = json.loads(message["Body"])
                details.append(envelope.get("detail", envelope))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def mark_expired(self, handle_: str, *, now: int) -> bool:
        """The cleanup's write for a share past its expiry (what share.expired comes from)."""
        ref = ShareRef(handle=handle_, target="main", marker="")
        return DynamoDbCleanupShares(json_client(self.endpoint_url), self.shares_table).mark_expired(
            ref, now=now
        )


def drain(pollers: Sequence[StreamPoller]) -> None:
    for poller in pollers:
        poller.drain()


class Recording:
    """A sink in front of another that remembers what it took, in the order it took it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.taken: list[Event] = []

    def put(self, events: Sequence[Event]) -> list[str]:
        not_taken = list(self.inner.put(events))
        self.taken += [event for event in events if event.id not in set(not_taken)]
        return not_taken


def publisher(sink: Any) -> Callable[[dict[str, Any]], object]:
    """The publisher function's handler, as phase 2 wires it: the stream batch to the sink."""
    return lambda event: handle(event, sink)
