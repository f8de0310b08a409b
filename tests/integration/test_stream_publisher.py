"""Events end to end on moto_server: the stores write, the streams carry, ``local.streams`` plays the
event source mapping, the publisher publishes to an EventBridge bus, rules deliver to SQS.

What is checked, each against what actually committed in the tables:
* every change is exactly its events (none for the writes that are not transitions), each valid
  against its schema and holding no URL, token, password or share id;
* crashes of the publisher at each step lose nothing and invent nothing; a duplicate carries its
  original id;
* a table write that fails (or whose answer is lost) makes no event (or exactly one);
* EventBridge down, then up; EventBridge refusing one entry of a call;
* the docs' rule delivers exactly the completed uploads of one kind;
* sequence numbers grow per item at publication over a burst of concurrent writes.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.servers import MotoServer
from local.stream_checkpoints import FileCheckpoints, MemoryCheckpoints
from local.streams import EventSourceMapping, sqs_destination
from presign.adapters.dynamodb_uploads import DynamoDbRecordStore
from presign.cleanup.ports import RecordRef
from presign.errors import DependencyUnavailable
from presign.uploads.records import UploadRecord
from tests.support.event_checks import schema_errors, secrets_in
from tests.support.http_stubs import Reply, Seen, StubServer, aws_error, forward
from tests.support.stream_pipeline import Pipeline, Recording, drain, json_client, publisher
from tests.support.stream_walk import OWNER, assert_exactly, move, new_share, new_upload, now, walk


class Killed(BaseException):
    """The publisher's process dying: nothing catches it, nothing after it runs."""


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def pipeline(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    # The EventBridge client is the publisher's own (eventbridge_client): boto3's credential chain.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return Pipeline(moto.endpoint_url)


def test_every_change_is_exactly_its_events_valid_and_without_secrets(pipeline: Pipeline) -> None:
    expected, secrets = walk(pipeline)
    drain(pipeline.pollers(publisher(pipeline.sink()), checkpoints=lambda _: MemoryCheckpoints()))
    received = pipeline.received()
    assert len(received) == len(expected), "a duplicate without any failure"
    assert_exactly(received, expected)
    for event in received:
        assert schema_errors(event) == [], json.dumps(event, indent=1)
        assert secrets_in(event, *secrets) == [], json.dumps(event, indent=1)


STEPS = ("after reading, before publishing", "after publishing, before answering", "while checkpointing")


@pytest.mark.parametrize("step", STEPS)
def test_a_publisher_killed_at_any_step_loses_nothing_and_repeats_only_ids(
    pipeline: Pipeline, tmp_path: Path, step: str
) -> None:
    expected, _ = walk(pipeline)
    handler = publisher(pipeline.sink())

    def dying(event: dict[str, Any]) -> object:
        if step == STEPS[0]:
            raise Killed
        answer = handler(event)
        if step == STEPS[1]:
            raise Killed
        return answer

    class DyingCheckpoints(FileCheckpoints):
        def put(self, shard_id: str, sequence_number: str) -> None:
            raise Killed

    def path(table: str) -> Path:
        return tmp_path / f"{table}.json"

    dying_checkpoints = step == STEPS[2]
    first = pipeline.pollers(
        handler if dying_checkpoints else dying,
        checkpoints=lambda t: DyingCheckpoints(path(t)) if dying_checkpoints else FileCheckpoints(path(t)),
    )
    for poller in first:
        with pytest.raises(Killed):
            poller.poll()
    assert not any(path(t).exists() for t in (pipeline.uploads_table, pipeline.shares_table)), "checkpointed"
    # A new process, from the checkpoints on disk.
    drain(pipeline.pollers(handler, checkpoints=lambda t: FileCheckpoints(path(t))))
    received = pipeline.received()
    assert_exactly(received, expected)
    if step == STEPS[0]:
        assert len(received) == len(expected), "published before it was told to"
    else:
        assert len(received) == 2 * len(expected), "the batch published before the crash was not repeated"


def test_a_table_write_that_fails_is_no_event_and_one_whose_answer_is_lost_is_one(
    pipeline: Pipeline, moto: MotoServer
) -> None:
    record = new_upload()
    assert pipeline.records.create(record, ttl=None)
    with StubServer(lambda seen: aws_error(500, "InternalServerError")) as stub:
        broken = DynamoDbRecordStore(json_client(stub.endpoint_url), pipeline.uploads_table)
        with pytest.raises(DependencyUnavailable):
            broken.transition(record.moved("complete", now=now()), expected="pending", ttl=None)

    seen_writes: list[Seen] = []

    def lose_the_first_answer(seen: Seen) -> Reply | None:
        seen_writes.append(seen)
        answer = forward(moto.endpoint_url, seen)  # committed either way
        return None if len(seen_writes) == 1 else answer

    with StubServer(lose_the_first_answer) as stub:
        flaky = DynamoDbRecordStore(json_client(stub.endpoint_url), pipeline.uploads_table)
        assert flaky.transition(record.moved("aborted", now=now()), expected="pending", ttl=None)
        assert len(seen_writes) == 2, "the write was not resent"
    drain(pipeline.pollers(publisher(pipeline.sink()), checkpoints=lambda _: MemoryCheckpoints()))
    subject = f"upload/{record.upload_id}"
    assert [(e["subject"], e["type"]) for e in pipeline.received()] == [
        (subject, "upload.created"),
        (subject, "upload.deleted"),
    ]


def test_eventbridge_down_then_up_delivers_everything_once_checkpointed(
    pipeline: Pipeline, moto: MotoServer
) -> None:
    expected, _ = walk(pipeline)
    mode = {"down": True}

    def eventbridge(seen: Seen) -> Reply:
        if mode["down"]:
            return aws_error(500, "InternalException", "EventBridge is having a bad day")
        return forward(moto.endpoint_url, seen)

    with StubServer(eventbridge) as stub:
        pollers = pipeline.pollers(
            publisher(pipeline.sink(stub.endpoint_url)), checkpoints=lambda _: MemoryCheckpoints()
        )
        for poller in pollers:
            poller.poll()
            assert poller.busy, "a batch EventBridge refused was not kept for a retry"
            assert poller.checkpoints.positions == {}  # MemoryCheckpoints: nothing checkpointed
        assert pipeline.received() == []
        assert stub.operations().count("PutEvents") >= 2
        mode["down"] = False
        drain(pollers)
    received = pipeline.received()
    assert len(received) == len(expected)
    assert_exactly(received, expected)


def test_an_entry_eventbridge_refuses_is_retried_from_its_record(
    pipeline: Pipeline, moto: MotoServer
) -> None:
    expected, _ = walk(pipeline)
    refused: list[str] = []

    def refuse_the_third_entry_once(seen: Seen) -> Reply:
        body = seen.json()
        if refused or len(body["Entries"]) < 3:
            return forward(moto.endpoint_url, seen)
        third = body["Entries"].pop(2)
        refused.append(json.loads(third["Detail"])["id"])
        shorter = json.dumps(body).encode()
        headers = {k: v for k, v in seen.headers.items() if k.lower() != "content-length"}
        headers["Content-Length"] = str(len(shorter))
        reply = forward(moto.endpoint_url, dataclasses.replace(seen, body=shorter, headers=headers))
        answer = json.loads(reply.body)
        answer["Entries"].insert(2, {"ErrorCode": "InternalFailure", "ErrorMessage": "injected"})
        answer["FailedEntryCount"] = 1
        return Reply(200, json.dumps(answer).encode(), reply.headers)

    with StubServer(refuse_the_third_entry_once) as stub:
        drain(
            pipeline.pollers(
                publisher(pipeline.sink(stub.endpoint_url)), checkpoints=lambda _: MemoryCheckpoints()
            )
        )
    received = pipeline.received()
    assert refused, "no call had three entries"
    assert_exactly(received, expected)
    repeated = [event_id for event_id, count in Counter(e["id"] for e in received).items() if count > 1]
    assert refused[0] not in repeated and len(received) == len(expected) + len(repeated)


def test_the_docs_rule_delivers_exactly_the_completed_uploads_of_its_kind(pipeline: Pipeline) -> None:
    wanted = []
    for kind, outcome in [
        ("photo", "complete"),
        ("doc", "complete"),
        ("photo", "rejected"),
        ("photo", "complete"),
    ]:
        record = new_upload(kind)
        assert pipeline.records.create(record, ttl=None)
        assert move(pipeline, record, outcome)[1]
        if kind == "photo" and outcome == "complete":
            wanted.append(record.upload_id)
    drain(pipeline.pollers(publisher(pipeline.sink()), checkpoints=lambda _: MemoryCheckpoints()))
    photos = pipeline.received("photos")
    assert sorted((e["type"], e["data"]["upload_id"]) for e in photos) == sorted(
        ("upload.completed", u) for u in wanted
    )
    assert len(pipeline.received("all")) == 8  # four created, four completed or rejected


def test_sequence_numbers_grow_per_item_over_a_burst_of_concurrent_writes(pipeline: Pipeline) -> None:
    uploads = [new_upload(expires_in=-60) for _ in range(6)]
    for record in uploads:
        assert pipeline.records.create(record, ttl=None)
    _, counted = new_share(pipeline, max_downloads=4)
    committed: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()

    def race(record: UploadRecord) -> None:
        def complete() -> None:
            moved, ok = move(pipeline, record, "complete", etag='"e"', completed_at=now())
            if ok:
                with lock:
                    committed[record.upload_id].append("upload.completed")
                if move(pipeline, moved, "deleted")[1]:
                    with lock:
                        committed[record.upload_id].append("upload.deleted")

        def abort() -> None:
            if move(pipeline, record, "aborted")[1]:
                with lock:
                    committed[record.upload_id].append("upload.deleted")

        def clean() -> None:
            ref = RecordRef(owner=OWNER, upload_id=record.upload_id)
            fenced = pipeline.cleanup.fence(ref, now=now(), lease_until=now() + 60, expired_before=now())
            if fenced is not None and move(pipeline, record, "expired")[1]:
                with lock:
                    committed[record.upload_id].append("upload.expired")

        workers = [threading.Thread(target=f) for f in (complete, abort, clean, complete)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    spends = [
        threading.Thread(target=lambda: pipeline.shares.spend(counted.handle, now=now())) for _ in range(8)
    ]
    racers = [threading.Thread(target=race, args=(record,)) for record in uploads]
    for thread in [*racers, *spends]:
        thread.start()
    for thread in [*racers, *spends]:
        thread.join()
    recording = Recording(pipeline.sink())
    drain(pipeline.pollers(publisher(recording), checkpoints=lambda _: MemoryCheckpoints()))

    published: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for event in recording.taken:
        published[event.subject].append((event.sequence, event.type))
    for record in uploads:
        events = published[f"upload/{record.upload_id}"]
        assert [t for _, t in events] == ["upload.created", *committed[record.upload_id]], (
            record.upload_id,
            events,
        )
        assert [s for s, _ in events] == sorted({s for s, _ in events}), f"sequence did not grow: {events}"
    share_events = published[f"share/{counted.handle}"]
    assert [t for _, t in share_events].count("share.accessed") == 4
    assert [s for s, t in share_events if t != "share.exhausted"] == [1, 2, 3, 4, 5], share_events
    assert share_events[-1] == (5, "share.exhausted")


def test_a_batch_that_keeps_failing_reaches_the_on_failure_queue(pipeline: Pipeline) -> None:
    record = new_upload()
    assert pipeline.records.create(record, ttl=None)

    def broken(event: dict[str, Any]) -> object:
        raise RuntimeError("the publisher cannot start")

    mapping = EventSourceMapping(maximum_retry_attempts=1)
    destination = sqs_destination(pipeline.sqs, pipeline.destination)
    uploads_poller = pipeline.pollers(
        broken, checkpoints=lambda _: MemoryCheckpoints(), mapping=mapping, on_failure=destination
    )[0]
    uploads_poller.drain()
    (invocation,) = pipeline.received(pipeline.destination)
    assert invocation["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert invocation["DDBStreamBatchInfo"]["streamArn"] == uploads_poller.stream_arn
    assert invocation["DDBStreamBatchInfo"]["batchSize"] == 1
