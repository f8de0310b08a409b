"""What Lambda's event source mapping does with a DynamoDB stream, for ``make dev`` and the tests.

A ``StreamPoller`` reads a table's stream on moto_server (DescribeStream, GetShardIterator from
the checkpoint or the starting position, GetRecords) and invokes a handler with the batches
Lambda would send, shaped as Lambda sends them: ``{"Records": [...]}``, each record with
``eventID``, ``eventName``, ``eventVersion``, ``eventSource``, ``awsRegion``, ``eventSourceARN``
and ``dynamodb`` (``Keys``, ``NewImage``, ``OldImage``, ``SequenceNumber``, ``SizeBytes``,
``StreamViewType``, ``ApproximateCreationDateTime`` in epoch seconds), as plain JSON.

Per shard, in order, one batch at a time (a shard's next batch waits for this one), as
``EventSourceMapping`` configures it:

* **success** (no exception; no ``batchItemFailures``, or an empty or null list): the checkpoint
  moves to the batch's last record;
* **ReportBatchItemFailures**: the checkpoint moves to the record before the lowest sequence
  number listed, and the rest is retried; an identifier that is empty, null, misnamed or not in
  the batch fails the whole batch (Lambda's rules);
* **an exception** (a function error): with ``BisectBatchOnFunctionError`` a batch of more than one
  record is split in two and each half is tried on its own (a split is not a retry); a single
  record, or without bisection the batch, is retried;
* **MaximumRetryAttempts** exhausted, or records older than **MaximumRecordAgeInSeconds**: the
  records are handed to ``on_failure`` as Lambda's invocation record (``requestContext.condition``
  ``RetryAttemptsExhausted`` or ``RecordAgeExceeded``, ``DDBStreamBatchInfo`` naming the shard and
  the sequence range; the records themselves are not in it), then checkpointed past. -1 is
  "forever" for both, Lambda's default (a record then waits up to the stream's 24 hours).

**Crash-safe by construction.** The checkpoint is written after the handler has returned (and
after ``on_failure`` has taken a discarded batch), never before: a poller that dies anywhere
earlier is replaced by one that reads from the same checkpoint and delivers those records again.
Delivery is at least once, as Lambda's is; ``local.stream_checkpoints.FileCheckpoints`` replaces its file atomically.

``poll()`` makes one step per shard and returns (a retry waits for the next call), so a test
decides when the next attempt comes; ``drain()`` polls until nothing is left; ``run()`` polls
until told to stop, for a thread in ``make dev``.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from local.stream_checkpoints import Checkpoints, MemoryCheckpoints

log = logging.getLogger("local.streams")

Handler = Callable[[dict[str, Any]], object]
OnFailure = Callable[[dict[str, Any]], None]
RETRIES_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_TOO_OLD = "RecordAgeExceeded"
_GET_RECORDS_LIMIT = 1000


@dataclass(frozen=True)
class EventSourceMapping:
    """The settings of an ``AWS::Lambda::EventSourceMapping`` on a DynamoDB stream that matter here."""

    batch_size: int = 100
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    report_batch_item_failures: bool = True
    bisect_batch_on_function_error: bool = True
    maximum_record_age_seconds: int = -1
    maximum_retry_attempts: int = -1
    function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:presign-local-events"


@dataclass
class _Batch:
    records: list[dict[str, Any]]
    retries: int = 0
    invocations: int = 0


@dataclass
class _Shard:
    shard_id: str
    parent: str | None
    iterator: str | None = None
    last_read: str | None = None
    closed: bool = False
    pending: deque[_Batch] = field(default_factory=deque)


class StreamPoller:
    """One event source mapping: ``stream_arn``'s shards, read in order, delivered to ``handler``."""

    def __init__(
        self,
        client: Any,
        stream_arn: str,
        handler: Handler,
        *,
        mapping: EventSourceMapping | None = None,
        checkpoints: Checkpoints | None = None,
        on_failure: OnFailure | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.stream_arn = stream_arn
        self._handler = handler
        self.mapping = mapping or EventSourceMapping()
        self.checkpoints: Checkpoints = checkpoints if checkpoints is not None else MemoryCheckpoints()
        self._on_failure = on_failure
        self._clock = clock
        self._shards: dict[str, _Shard] = {}

    @property
    def busy(self) -> bool:
        """A batch is waiting for a retry."""
        return any(shard.pending for shard in self._shards.values())

    def poll(self) -> int:
        """One step on every shard that can move; answers how many steps were taken."""
        self._refresh_shards()
        steps = 0
        for shard in self._ready_shards():
            if not shard.pending:
                records = self._read(shard)
                if records:
                    shard.pending.append(_Batch(records))
                elif shard.closed:
                    steps += 1  # its children may start now
            if shard.pending:
                self._step(shard)
                steps += 1
        return steps

    def drain(self, *, max_polls: int = 1000) -> None:
        """Poll until a pass finds nothing to read and nothing to retry."""
        for _ in range(max_polls):
            if self.poll() == 0 and not self.busy:
                return
        raise RuntimeError(f"the stream did not settle in {max_polls} polls (a batch keeps failing?)")

    def run(self, stop: threading.Event, *, interval: float = 0.25) -> None:
        """Poll until ``stop`` is set, resting ``interval`` seconds whenever there was nothing to do
        (Lambda polls a shard four times a second)."""
        while not stop.is_set():
            try:
                moving = self.poll() > 0 and not self.busy
            except Exception:  # moto restarting, a broken record: keep polling
                log.exception("stream poll failed", extra={"stream": self.stream_arn})
                moving = False
            if not moving:  # idle, or a batch waits for its retry: rest first
                stop.wait(interval)

    # -- reading ----------------------------------------------------------------------------------

    def _refresh_shards(self) -> None:
        start: dict[str, str] = {}
        while True:
            description = self._client.describe_stream(StreamArn=self.stream_arn, **start)[
                "StreamDescription"
            ]
            for shard in description.get("Shards", []):
                if shard["ShardId"] not in self._shards:
                    self._shards[shard["ShardId"]] = _Shard(shard["ShardId"], shard.get("ParentShardId"))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return
            start = {"ExclusiveStartShardId": last}

    def _ready_shards(self) -> list[_Shard]:
        """Open shards, and closed ones still holding a batch; a child only once its parent is done."""
        ready = []
        for shard in self._shards.values():
            if shard.closed and not shard.pending:
                continue
            parent = self._shards.get(shard.parent or "")
            if parent is not None and (not parent.closed or parent.pending):
                continue
            ready.append(shard)
        return ready

    def _read(self, shard: _Shard) -> list[dict[str, Any]]:
        from botocore.exceptions import ClientError

        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        try:
            answer = self._client.get_records(
                ShardIterator=shard.iterator, Limit=min(self.mapping.batch_size, _GET_RECORDS_LIMIT)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExpiredIteratorException":
                shard.iterator = None  # a fresh one from the last record read, next time
                return []
            raise
        records = answer.get("Records", [])
        shard.iterator = answer.get("NextShardIterator")
        shard.closed = shard.iterator is None
        if records:
            shard.last_read = records[-1]["dynamodb"]["SequenceNumber"]
        return [self._as_lambda(record) for record in records]

    def _iterator(self, shard: _Shard) -> str:
        position = shard.last_read or self.checkpoints.get(shard.shard_id)
        request: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard.shard_id}
        if position is None:
            request["ShardIteratorType"] = self.mapping.starting_position
        else:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=position)
        return str(self._client.get_shard_iterator(**request)["ShardIterator"])

    def _as_lambda(self, record: Mapping[str, Any]) -> dict[str, Any]:
        body = dict(record["dynamodb"])
        moment = body.get("ApproximateCreationDateTime")
        if isinstance(moment, datetime):  # boto3 parsed it; Lambda sends epoch seconds
            body["ApproximateCreationDateTime"] = int(moment.timestamp())
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": record.get("eventSource", "aws:dynamodb"),
            "awsRegion": record.get("awsRegion", "us-east-1"),
            "dynamodb": _json_safe(body),
            "eventSourceARN": self.stream_arn,
        }

    # -- delivering -------------------------------------------------------------------------------

    def _step(self, shard: _Shard) -> None:
        batch = shard.pending[0]
        if self.mapping.maximum_record_age_seconds >= 0:
            cutoff = self._clock() - self.mapping.maximum_record_age_seconds
            old = 0
            while old < len(batch.records) and _created(batch.records[old]) < cutoff:
                old += 1
            if old:
                self._discard(shard, batch, batch.records[:old], RECORD_TOO_OLD, function_error=False)
                batch.records = batch.records[old:]
                if not batch.records:
                    shard.pending.popleft()
                    return
        failed_at, function_error = self._invoke(batch)
        if failed_at is None:
            self._checkpoint(shard, batch.records[-1])
            shard.pending.popleft()
            return
        if failed_at > 0:  # the records before the first failure are done
            self._checkpoint(shard, batch.records[failed_at - 1])
            batch.records = batch.records[failed_at:]
        if function_error and self.mapping.bisect_batch_on_function_error and len(batch.records) > 1:
            half = len(batch.records) // 2
            shard.pending.popleft()
            for part in (batch.records[half:], batch.records[:half]):
                shard.pending.appendleft(_Batch(part, retries=batch.retries, invocations=batch.invocations))
            return
        limit = self.mapping.maximum_retry_attempts
        if limit >= 0 and batch.retries >= limit:
            self._discard(shard, batch, batch.records, RETRIES_EXHAUSTED, function_error=function_error)
            shard.pending.popleft()
            return
        batch.retries += 1

    def _invoke(self, batch: _Batch) -> tuple[int | None, bool]:
        """(index of the first failed record or None, whether the function raised)."""
        batch.invocations += 1
        event = json.loads(json.dumps({"Records": batch.records}))  # plain JSON, a copy, as Lambda's
        try:
            response = self._handler(event)
        except Exception:  # a function error, as Lambda sees one
            log.warning("the stream's handler failed", exc_info=True)
            return 0, True
        if not self.mapping.report_batch_item_failures:
            return None, False
        return _first_failure(batch.records, response), False

    def _discard(
        self,
        shard: _Shard,
        batch: _Batch,
        records: list[dict[str, Any]],
        condition: str,
        *,
        function_error: bool,
    ) -> None:
        if self._on_failure is not None:
            self._on_failure(self._invocation_record(shard, batch, records, condition, function_error))
        self._checkpoint(shard, records[-1])

    def _checkpoint(self, shard: _Shard, record: Mapping[str, Any]) -> None:
        self.checkpoints.put(shard.shard_id, record["dynamodb"]["SequenceNumber"])

    def _invocation_record(
        self,
        shard: _Shard,
        batch: _Batch,
        records: list[dict[str, Any]],
        condition: str,
        function_error: bool,
    ) -> dict[str, Any]:
        """What Lambda sends an on-failure destination: where the records are, not the records."""
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if function_error:
            response["functionError"] = "Unhandled"
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.mapping.function_arn,
                "condition": condition,
                "approximateInvokeCount": batch.invocations,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": _iso(self._clock(), milliseconds=True),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(_created(records[0])),
                "approximateArrivalOfLastRecord": _iso(_created(records[-1])),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }


def _first_failure(records: list[dict[str, Any]], response: object) -> int | None:
    """Lambda's reading of a ``StreamsEventResponse``: None is success, an index is where to resume."""
    if not isinstance(response, Mapping):
        return None
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    if not isinstance(failures, list):
        return 0
    positions = {record["dynamodb"]["SequenceNumber"]: index for index, record in enumerate(records)}
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(identifier, str) or identifier not in positions:
            return 0  # empty, null, misnamed or foreign: the whole batch failed
        indexes.append(positions[identifier])
    return min(indexes)


def _created(record: Mapping[str, Any]) -> float:
    return float(record["dynamodb"].get("ApproximateCreationDateTime") or 0)


def _iso(epoch: float, *, milliseconds: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    if milliseconds:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_safe(value: Any) -> Any:
    """boto3's parsed values back to the JSON Lambda sends: binary as base64, sets as lists."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    return value


# -- wiring for make dev and the tests ----------------------------------------------------------------


def streams_client(endpoint_url: str, *, region: str = "us-east-1") -> Any:
    """boto3's ``dynamodbstreams`` client on moto_server. ``account_id_endpoint_mode`` off: with it
    on, botocore sends DescribeStream to an account-id host that in-process moto does not serve."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodbstreams",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(account_id_endpoint_mode="disabled"),
    )


def latest_stream_arn(dynamodb: Any, table: str) -> str:
    arn = dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
    if not arn:
        raise RuntimeError(f"table {table} has no stream (StreamSpecification)")
    return str(arn)


def sqs_destination(sqs: Any, queue_url: str) -> OnFailure:
    """An on-failure destination on an SQS queue, as the template's would be."""

    def send(invocation_record: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(invocation_record))

    return send
