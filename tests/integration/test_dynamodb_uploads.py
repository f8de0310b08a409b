"""The uploads table adapter against template.yaml's table in a moto server over HTTP.

The pending index the cleanup job will query, and resends of writes whose answers were lost
(the network failure a client must survive, made on purpose by a stub in front of moto).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.servers import MotoServer
from presign.adapters.aws_json import AwsJsonClient
from presign.adapters.dynamodb_upload_items import pending_keys
from presign.adapters.dynamodb_uploads import DynamoDbRecordStore
from presign.adapters.role import role_credentials
from presign.uploads.idempotency import Claim
from presign.uploads.ids import MonotonicIds
from presign.uploads.records import UploadRecord
from tests.support.http_stubs import Reply, Seen, StubServer, forward
from tests.support.lifecycle import UPLOADS_TABLE, moto_with_tables

NOW = int(time.time())
ids = MonotonicIds(lambda n: b"\x07" * n)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from moto_with_tables()


def client(endpoint: str) -> AwsJsonClient:
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    return AwsJsonClient(
        region="us-east-1",
        endpoint_url=endpoint,
        credentials_provider=lambda: role_credentials(env),
        connect_timeout=1,
        read_timeout=2,
        max_attempts=2,
    )


def record(owner: str = "a" * 32) -> UploadRecord:
    from datetime import UTC, datetime

    return UploadRecord(
        owner=owner,
        upload_id=ids(datetime.now(UTC)),
        target="main",
        key="users/a/k",
        method="PUT",
        size=5,
        content_type="text/plain",
        status="pending",
        created_at=NOW,
        expires_at=NOW + 900,
        updated_at=NOW,
        metadata={"a": "b"},
    )


def pending_index(moto: MotoServer, record: UploadRecord) -> list[dict[str, Any]]:
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=moto.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pk, _ = pending_keys(record)
    answer = dynamodb.query(
        TableName=UPLOADS_TABLE,
        IndexName="pending",
        KeyConditionExpression="pending_pk = :pk AND pending_sk < :before",
        ExpressionAttributeValues={":pk": {"S": pk}, ":before": {"S": f"{NOW + 901:010d}"}},
    )
    items: list[dict[str, Any]] = answer["Items"]
    return [i for i in items if i["sk"]["S"] == f"up#{record.upload_id}"]


def test_a_pending_upload_is_in_the_pending_index_until_it_moves(moto: MotoServer) -> None:
    store = DynamoDbRecordStore(client(moto.endpoint_url), UPLOADS_TABLE)
    made = record()
    assert store.create(made, ttl=NOW + 900 + 86_400)

    # The cleanup job finds it by expiry day and shard, without a Scan, with what it needs to act
    (found,) = pending_index(moto, made)
    assert {found["target"]["S"], found["object_key"]["S"], found["expires_at"]["N"]} == {
        "main",
        "users/a/k",
        str(NOW + 900),
    }
    # And the record round-trips
    assert store.get(made.owner, made.upload_id) == made

    done = made.moved("complete", now=NOW + 1, etag='"e"', completed_at=NOW + 1)
    assert store.transition(done, expected="pending", ttl=None)
    assert pending_index(moto, made) == []
    assert store.get(made.owner, made.upload_id) == done
    # A second, stale transition from pending is refused
    assert not store.transition(made.moved("aborted", now=NOW + 2), expected="pending", ttl=None)


def losing_the_first_answer_to(operation: str, moto: MotoServer) -> Any:
    lost: list[str] = []

    def behaviour(seen: Seen) -> Reply | None:
        reply = forward(moto.endpoint_url, seen)  # applied by moto...
        if seen.operation == operation and not lost:
            lost.append(operation)
            return None  # ...but the answer never arrives, so the client sends it again
        return reply

    return behaviour


@pytest.mark.parametrize("operation", ["PutItem", "UpdateItem"])
def test_a_resent_write_whose_first_answer_was_lost_is_recognised_as_ours(
    moto: MotoServer, operation: str
) -> None:
    made = record()
    with StubServer(losing_the_first_answer_to(operation, moto)) as stub:
        store = DynamoDbRecordStore(client(stub.endpoint_url), UPLOADS_TABLE)
        if operation == "PutItem":
            assert store.create(made, ttl=None)  # the resend finds its own item: created, once
        else:
            DynamoDbRecordStore(client(moto.endpoint_url), UPLOADS_TABLE).create(made, ttl=None)
            done = made.moved("complete", now=NOW + 1, etag='"e"', completed_at=NOW + 1)
            assert store.transition(done, expected="pending", ttl=None)  # moved by this very write
        assert stub.operations().count(operation) == 2


def test_a_resent_claim_is_ours_but_anothers_identical_claim_is_not(moto: MotoServer) -> None:
    claim = Claim("c" * 32, "d" * 64, "f" * 64, "01k0b7m3q8r9s4t5v6w7x8y9za", NOW)
    with StubServer(losing_the_first_answer_to("UpdateItem", moto)) as stub:
        store = DynamoDbRecordStore(client(stub.endpoint_url), UPLOADS_TABLE)
        assert store.claim(claim, ttl=NOW + 60) is None  # won, though its first answer was lost
    # The same claim again, from another request in the same second: it is someone else's
    again = DynamoDbRecordStore(client(moto.endpoint_url), UPLOADS_TABLE).claim(claim, ttl=NOW + 60)
    assert again == claim


def test_a_released_claim_is_free_and_a_taken_over_one_is_not_released(moto: MotoServer) -> None:
    store = DynamoDbRecordStore(client(moto.endpoint_url), UPLOADS_TABLE)
    claim = Claim("e" * 32, "d" * 64, "f" * 64, "01k0b7m3q8r9s4t5v6w7x8y9zb", NOW)
    assert store.claim(claim, ttl=NOW + 60) is None
    store.release(claim)
    assert store.claim(dataclasses.replace(claim, claimed_at=NOW + 1), ttl=NOW + 61) is None

    renewed = dataclasses.replace(claim, claimed_at=NOW + 1)
    assert store.take_over(renewed, now=NOW + 40, ttl=NOW + 100)
    assert not store.take_over(renewed, now=NOW + 41, ttl=NOW + 101)  # only one taker
    store.release(renewed)  # stale: the taker's now, so nothing is released
    assert store.claim(dataclasses.replace(claim, claimed_at=NOW + 42), ttl=NOW + 102) is not None
