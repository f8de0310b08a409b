"""AwsJsonClient on the wire: against a moto server, and a stub that answers what a test needs.

The stub (``tests.support.http_stubs``) speaks HTTP/1.1 keep-alive as DynamoDB does; moto's server
closes every connection, so connection reuse is checked against the stub only.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.servers import MotoServer
from presign.adapters.aws_json import AwsJsonClient, AwsServiceError, AwsUnavailable
from presign.signing.sigv4 import SigningCredentials
from tests.support.http_stubs import Reply, Seen, StubServer, aws_error

KEYS = SigningCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")
NOW = datetime(2025, 6, 7, 8, 9, 10, tzinfo=UTC)
TABLE = "lean-client"


def lean(endpoint_url: str, **kw: Any) -> AwsJsonClient:
    options: dict[str, Any] = {
        "region": "us-east-1",
        "endpoint_url": endpoint_url,
        "credentials_provider": lambda: KEYS,
        "connect_timeout": 0.3,
        "read_timeout": 0.3,
        **kw,
    }
    return AwsJsonClient(**options)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ok(body: bytes = b"{}") -> Reply:
    return Reply(200, body, {"Content-Type": "application/x-amz-json-1.0"})


# -- against moto


@pytest.fixture(scope="module")
def moto() -> Iterator[AwsJsonClient]:
    with MotoServer() as server:
        client = lean(server.endpoint_url, read_timeout=5)
        client.call(
            "CreateTable",
            {
                "TableName": TABLE,
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        yield client
        client.close()


def test_a_round_trip_reports_status_and_attempts(moto: AwsJsonClient) -> None:
    # When an item is written and read back
    put = moto.call("PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "n": {"N": "1"}}})
    got = moto.call("GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "a"}}})
    # Then the answers are DynamoDB's, with botocore's ResponseMetadata
    assert put == {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}
    assert got["Item"] == {"pk": {"S": "a"}, "n": {"N": "1"}}


def test_a_failed_condition_carries_the_old_item_and_is_not_retried(moto: AwsJsonClient) -> None:
    moto.call("PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "b"}, "rid": {"S": "first"}}})
    with pytest.raises(AwsServiceError) as failed:
        moto.call(
            "UpdateItem",
            {
                "TableName": TABLE,
                "Key": {"pk": {"S": "b"}},
                "UpdateExpression": "SET rid = :rid",
                "ConditionExpression": "attribute_not_exists(rid)",
                "ExpressionAttributeValues": {":rid": {"S": "second"}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        )
    error = failed.value
    assert (error.code, error.status, error.attempts) == ("ConditionalCheckFailedException", 400, 1)
    assert error.body["Item"] == {"pk": {"S": "b"}, "rid": {"S": "first"}}


def test_a_missing_table_is_the_services_error(moto: AwsJsonClient) -> None:
    with pytest.raises(AwsServiceError) as failed:
        moto.call("GetItem", {"TableName": "nope", "Key": {"pk": {"S": "a"}}})
    assert failed.value.code == "ResourceNotFoundException" and failed.value.attempts == 1


# -- against a stub


def test_the_request_is_signed_as_botocore_would_sign_it() -> None:
    # Given a frozen clock and a stub that records what arrives
    with StubServer(lambda seen: ok()) as stub:
        lean(stub.endpoint_url, clock=lambda: NOW).call("UpdateItem", {"TableName": "t"})
    seen = stub.seen[0]
    # Then the target, type, host and token are what DynamoDB expects
    assert seen.headers["X-Amz-Target"] == "DynamoDB_20120810.UpdateItem"
    assert seen.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert seen.headers["Host"] == stub.endpoint_url.removeprefix("http://")
    assert seen.headers["X-Amz-Security-Token"] == "session-token"
    # And botocore, signing what actually arrived, computes the same Authorization
    request = AWSRequest(
        method="POST",
        url=stub.endpoint_url + "/",
        data=seen.body,
        headers={k: seen.headers[k] for k in ("Content-Type", "X-Amz-Target")},
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(
            Credentials(KEYS.access_key_id, KEYS.secret_access_key, KEYS.session_token),
            "dynamodb",
            "us-east-1",
        ).add_auth(request)
    assert seen.headers["Authorization"] == request.headers["Authorization"]
    assert seen.headers["X-Amz-Date"] == "20250607T080910Z"


def test_credentials_are_read_per_request_so_rotation_is_picked_up() -> None:
    keys = iter([SigningCredentials("AKIAFIRST", "s1"), SigningCredentials("AKIASECOND", "s2")])
    with StubServer(lambda seen: ok()) as stub:
        client = lean(stub.endpoint_url, credentials_provider=lambda: next(keys))
        client.call("GetItem", {})
        client.call("GetItem", {})
    assert ["AKIAFIRST" in s.headers["Authorization"] for s in stub.seen] == [True, False]
    assert "AKIASECOND" in stub.seen[1].headers["Authorization"]


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"]
)
def test_throttling_is_retried_once_with_a_short_backoff_then_raised(code: str) -> None:
    with StubServer(lambda seen: aws_error(400, code, "slow down")) as stub:
        started = time.monotonic()
        with pytest.raises(AwsServiceError) as failed:
            lean(stub.endpoint_url).call("UpdateItem", {})
        elapsed = time.monotonic() - started
    assert len(stub.seen) == 2 and elapsed < 0.5
    assert (failed.value.code, failed.value.message, failed.value.attempts) == (code, "slow down", 2)


def test_a_retry_that_succeeds_says_so() -> None:
    answers = iter([aws_error(500, "InternalServerError"), ok(b'{"Attributes": {}}')])
    with StubServer(lambda seen: next(answers)) as stub:
        answer = lean(stub.endpoint_url).call("UpdateItem", {})
    assert answer == {"Attributes": {}, "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 1}}


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (aws_error(400, "ValidationException"), "ValidationException"),
        (aws_error(400, "AccessDeniedException"), "AccessDeniedException"),
        (
            Reply(400, b'{"__type": "ConditionalCheckFailedException", "Message": "capital M"}'),
            "ConditionalCheckFailedException",
        ),
        (Reply(403, b"<html>forbidden</html>"), "HTTP403"),
    ],
)
def test_a_4xx_is_an_answer_and_never_retried(reply: Reply, code: str) -> None:
    with StubServer(lambda seen: reply) as stub, pytest.raises(AwsServiceError) as failed:
        lean(stub.endpoint_url).call("UpdateItem", {})
    assert len(stub.seen) == 1
    assert (failed.value.code, failed.value.status, failed.value.attempts) == (code, reply.status, 1)
    if "capital" in reply.body.decode():
        assert failed.value.message == "capital M"


def test_a_5xx_that_is_not_the_services_is_unavailable_after_two_tries() -> None:
    with StubServer(lambda seen: Reply(502, b"Bad Gateway")) as stub, pytest.raises(AwsUnavailable) as failed:
        lean(stub.endpoint_url).call("UpdateItem", {})
    assert failed.value.reason == "HTTP502" and len(stub.seen) == 2


def test_a_refused_connection_is_unavailable_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(AwsUnavailable) as failed:
        lean(f"http://127.0.0.1:{closed_port()}").call("UpdateItem", {})
    assert failed.value.reason == "EndpointConnectionError"
    assert time.monotonic() - started < 0.2  # two refusals and one backoff of at most 50 ms


def test_a_silent_server_times_out_after_the_read_timeout_twice() -> None:
    released = threading.Event()
    with StubServer(lambda seen: ok() if released.wait(5) else None) as stub:
        started = time.monotonic()
        try:
            with pytest.raises(AwsUnavailable) as failed:
                lean(stub.endpoint_url, read_timeout=0.2).call("UpdateItem", {})
        finally:
            released.set()
        elapsed = time.monotonic() - started
    assert failed.value.reason == "ReadTimeoutError" and len(stub.seen) == 2
    assert 0.4 <= elapsed < 0.8


def test_a_dropped_connection_is_retried_on_a_new_one() -> None:
    answers: list[Callable[[], Reply | None]] = [lambda: None, ok]
    with StubServer(lambda seen: answers.pop(0)()) as stub:
        client = lean(stub.endpoint_url)
        answer = client.call("UpdateItem", {})
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert client.connections_opened == 2 and stub.seen[0].peer != stub.seen[1].peer


def test_connections_are_kept_alive_and_reused() -> None:
    with StubServer(lambda seen: ok()) as stub:
        client = lean(stub.endpoint_url)
        for _ in range(20):
            client.call("UpdateItem", {})
        client.close()
    assert client.connections_opened == 1
    assert len({seen.peer for seen in stub.seen}) == 1


def test_a_connection_idle_too_long_is_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    with StubServer(lambda seen: ok()) as stub:
        client = lean(stub.endpoint_url)
        client.call("UpdateItem", {})
        monkeypatch.setattr("presign.adapters.aws_json.MAX_IDLE_SECONDS", -1.0)
        client.call("UpdateItem", {})
    assert client.connections_opened == 2


def test_fifty_threads_share_the_client_and_every_answer_goes_to_its_caller() -> None:
    # Given a server that echoes each request's number back, slowly enough for calls to overlap
    def echo(seen: Seen) -> Reply:
        time.sleep(0.001)
        return ok(seen.body)

    threads, rounds = 50, 20
    with StubServer(echo) as stub:
        client = lean(stub.endpoint_url, max_pool_connections=threads, read_timeout=5)
        barrier = threading.Barrier(threads)
        wrong: list[tuple[int, Any]] = []

        def run(worker: int) -> None:
            barrier.wait()
            for i in range(rounds):
                n = worker * rounds + i
                try:
                    answer: Any = client.call("UpdateItem", {"n": n})
                except Exception as exc:  # noqa: BLE001 - recorded, and the test asserts there are none
                    answer = exc
                if not isinstance(answer, dict) or answer.get("n") != n:
                    wrong.append((n, answer))

        workers = [threading.Thread(target=run, args=(w,)) for w in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        client.close()
    # Then every call got its own answer, on at most one connection per thread, reused
    assert wrong == []
    assert len(stub.seen) == threads * rounds
    assert 1 <= client.connections_opened <= threads
    assert len({seen.peer for seen in stub.seen}) == client.connections_opened
