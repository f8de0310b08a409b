"""local.streams.StreamPoller against a stream in memory: Lambda's event source mapping rules.

The moto-backed run is tests/integration/test_stream_publisher.py; here each rule of the mapping
(partial failures, bisection, retries, record age, checkpoints, shard lineage) is driven exactly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.stream_checkpoints import FileCheckpoints, MemoryCheckpoints
from local.streams import EventSourceMapping, StreamPoller

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"
T0 = 1_800_000_000


class Killed(BaseException):
    """The process dying: nothing catches it, nothing after it runs."""


def boto_record(number: int, *, at: int = T0) -> dict[str, Any]:
    """A record as boto3's GetRecords parses it (a datetime, binary as bytes)."""
    return {
        "eventID": f"{number:032x}",
        "eventName": "INSERT",
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime.fromtimestamp(at, UTC),
            "Keys": {"pk": {"S": f"k{number}"}},
            "NewImage": {"pk": {"S": f"k{number}"}, "blob": {"B": b"\x00\xff"}},
            "SequenceNumber": str(1000 + number),
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


class FakeStreams:
    """DescribeStream, GetShardIterator and GetRecords over lists of records per shard."""

    def __init__(
        self, shards: dict[str, list[dict[str, Any]]], *, parents: dict[str, str] | None = None
    ) -> None:
        self.shards = shards
        self.parents = parents or {}
        self.closed: set[str] = set()

    def describe_stream(self, **request: Any) -> dict[str, Any]:
        shards = [
            {"ShardId": s, **({"ParentShardId": self.parents[s]} if s in self.parents else {})}
            for s in self.shards
        ]
        return {"StreamDescription": {"StreamArn": request["StreamArn"], "Shards": shards}}

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        records = self.shards[request["ShardId"]]
        kind = request["ShardIteratorType"]
        if kind == "TRIM_HORIZON":
            index = 0
        elif kind == "LATEST":
            index = len(records)
        else:
            assert kind == "AFTER_SEQUENCE_NUMBER"
            index = 1 + [r["dynamodb"]["SequenceNumber"] for r in records].index(request["SequenceNumber"])
        return {"ShardIterator": f"{request['ShardId']}|{index}"}

    def get_records(self, *, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard, _, index = ShardIterator.partition("|")
        records = self.shards[shard][int(index) : int(index) + Limit]
        after = int(index) + len(records)
        answer: dict[str, Any] = {"Records": records}
        if not (shard in self.closed and after == len(self.shards[shard])):
            answer["NextShardIterator"] = f"{shard}|{after}"
        return answer


class Function:
    """A handler that records each batch (by record number) and answers as told."""

    def __init__(self, answer: Any = None) -> None:
        self.batches: list[list[int]] = []
        self.answer = answer
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        numbers = [int(r["dynamodb"]["SequenceNumber"]) - 1000 for r in event["Records"]]
        self.batches.append(numbers)
        return self.answer(numbers) if callable(self.answer) else self.answer


def seq(number: int) -> str:
    return str(1000 + number)


def poller(stream: FakeStreams, function: Any, **kw: Any) -> StreamPoller:
    return StreamPoller(stream, ARN, function, **kw)


def test_a_batch_is_delivered_as_lambda_delivers_it_and_checkpointed() -> None:
    stream = FakeStreams({"s1": [boto_record(1), boto_record(2)]})
    function = Function()
    consumer = poller(stream, function)
    consumer.drain()
    assert function.batches == [[1, 2]]
    assert consumer.checkpoints.get("s1") == seq(2)
    record = function.events[0]["Records"][0]
    assert record["eventSourceARN"] == ARN
    assert record["dynamodb"]["ApproximateCreationDateTime"] == T0
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AP8="}
    json.dumps(function.events[0])  # plain JSON, as Lambda sends
    consumer.drain()
    assert function.batches == [[1, 2]], "a checkpointed record came again"


def test_batch_size_bounds_each_invocation() -> None:
    stream = FakeStreams({"s1": [boto_record(i) for i in range(1, 6)]})
    function = Function()
    poller(stream, function, mapping=EventSourceMapping(batch_size=2)).drain()
    assert function.batches == [[1, 2], [3, 4], [5]]


def test_reported_failures_resume_at_the_lowest_sequence_number() -> None:
    stream = FakeStreams({"s1": [boto_record(i) for i in range(1, 6)]})
    answers = iter([{"batchItemFailures": [{"itemIdentifier": seq(4)}, {"itemIdentifier": seq(3)}]}, None])
    function = Function(lambda _: next(answers))
    consumer = poller(stream, function)
    consumer.poll()
    assert consumer.checkpoints.get("s1") == seq(2)
    consumer.drain()
    assert function.batches == [[1, 2, 3, 4, 5], [3, 4, 5]]
    assert consumer.checkpoints.get("s1") == seq(5)


@pytest.mark.parametrize(
    "failures",
    [
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{"id": seq(2)}],
        [{"itemIdentifier": "999"}],
        "x",
    ],
)
def test_a_response_lambda_cannot_read_fails_the_whole_batch(failures: Any) -> None:
    stream = FakeStreams({"s1": [boto_record(1), boto_record(2)]})
    answers = iter([{"batchItemFailures": failures}, None])
    function = Function(lambda _: next(answers))
    consumer = poller(stream, function)
    consumer.poll()
    assert consumer.checkpoints.get("s1") is None
    consumer.drain()
    assert function.batches == [[1, 2], [1, 2]]


def test_a_function_error_bisects_then_retries_then_hands_the_record_to_the_destination() -> None:
    stream = FakeStreams({"s1": [boto_record(i) for i in range(1, 5)]})
    discarded: list[dict[str, Any]] = []

    def poison(numbers: list[int]) -> None:
        if 3 in numbers:
            raise RuntimeError("cannot publish record 3")

    function = Function(poison)
    mapping = EventSourceMapping(maximum_retry_attempts=2)
    consumer = poller(stream, function, mapping=mapping, on_failure=discarded.append)
    consumer.drain()
    assert function.batches == [[1, 2, 3, 4], [1, 2], [3, 4], [3], [3], [3], [4]]
    assert consumer.checkpoints.get("s1") == seq(4)
    (record,) = discarded
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 5  # [1-4], [3,4], [3] three times
    assert record["responseContext"]["functionError"] == "Unhandled"
    info = record["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (seq(3), seq(3), 1)
    assert (info["shardId"], info["streamArn"]) == ("s1", ARN)


def test_without_bisection_the_whole_batch_is_retried_and_discarded() -> None:
    stream = FakeStreams({"s1": [boto_record(1), boto_record(2)]})
    discarded: list[dict[str, Any]] = []
    function = Function(lambda _: (_ for _ in ()).throw(RuntimeError("down")))
    mapping = EventSourceMapping(bisect_batch_on_function_error=False, maximum_retry_attempts=1)
    poller(stream, function, mapping=mapping, on_failure=discarded.append).drain()
    assert function.batches == [[1, 2], [1, 2]]
    assert [d["DDBStreamBatchInfo"]["batchSize"] for d in discarded] == [2]


def test_records_older_than_the_maximum_age_go_to_the_destination_uninvoked() -> None:
    stream = FakeStreams({"s1": [boto_record(1, at=T0), boto_record(2, at=T0 + 100)]})
    discarded: list[dict[str, Any]] = []
    function = Function()
    mapping = EventSourceMapping(maximum_record_age_seconds=60)
    consumer = poller(
        stream, function, mapping=mapping, on_failure=discarded.append, clock=lambda: T0 + 120.0
    )
    consumer.drain()
    assert function.batches == [[2]]
    assert [d["requestContext"]["condition"] for d in discarded] == ["RecordAgeExceeded"]
    assert discarded[0]["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] == "2027-01-15T08:00:00Z"
    assert consumer.checkpoints.get("s1") == seq(2)


def test_a_crash_before_the_handler_returns_leaves_the_checkpoint_and_the_records_come_again() -> None:
    stream = FakeStreams({"s1": [boto_record(1), boto_record(2)]})
    checkpoints = MemoryCheckpoints()

    def die(numbers: list[int]) -> None:
        raise Killed

    with pytest.raises(Killed):
        poller(stream, Function(die), checkpoints=checkpoints).poll()
    assert checkpoints.get("s1") is None
    survivor = Function()
    poller(stream, survivor, checkpoints=checkpoints).drain()
    assert survivor.batches == [[1, 2]]


def test_a_crash_after_the_handler_before_the_checkpoint_delivers_again() -> None:
    stream = FakeStreams({"s1": [boto_record(1), boto_record(2)]})

    class DyingCheckpoints(MemoryCheckpoints):
        def put(self, shard_id: str, sequence_number: str) -> None:
            raise Killed

    first = Function()
    with pytest.raises(Killed):
        poller(stream, first, checkpoints=DyingCheckpoints()).poll()
    second = Function()
    poller(stream, second, checkpoints=MemoryCheckpoints()).drain()
    assert first.batches == second.batches == [[1, 2]]


def test_file_checkpoints_survive_a_new_process(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "checkpoints.json"
    FileCheckpoints(path).put("s1", seq(7))
    FileCheckpoints(path).put("s2", seq(9))
    assert FileCheckpoints(path).positions == {"s1": seq(7), "s2": seq(9)}
    assert sorted(p.name for p in path.parent.iterdir()) == ["checkpoints.json"], "a temporary file was left"


def test_a_restart_resumes_after_the_checkpoint(tmp_path: Path) -> None:
    stream = FakeStreams({"s1": [boto_record(i) for i in range(1, 4)]})
    path = tmp_path / "cp.json"
    poller(
        stream, Function(), checkpoints=FileCheckpoints(path), mapping=EventSourceMapping(batch_size=2)
    ).poll()
    later = Function()
    poller(stream, later, checkpoints=FileCheckpoints(path)).drain()
    assert later.batches == [[3]]


def test_a_child_shard_waits_for_its_parent() -> None:
    stream = FakeStreams({"parent": [boto_record(1)], "child": [boto_record(2)]}, parents={"child": "parent"})
    function = Function()
    consumer = poller(stream, function)
    consumer.drain()
    assert function.batches == [[1]], "the child was read before its parent closed"
    stream.closed.add("parent")
    consumer.drain()
    assert function.batches == [[1], [2]]


def test_latest_reads_only_what_comes_after_the_start() -> None:
    stream = FakeStreams({"s1": [boto_record(1)]})
    function = Function()
    consumer = poller(stream, function, mapping=EventSourceMapping(starting_position="LATEST"))
    consumer.drain()
    stream.shards["s1"].append(boto_record(2))
    consumer.drain()
    assert function.batches == [[2]]
