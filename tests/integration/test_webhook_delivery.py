"""The webhooks' delivery as deployed (issue 23), against moto_server: the publisher's fan-out onto
the queue, the delivery function's code (``presign.webhooks.delivery`` with the real adapters:
SQS, the delivery log in template.yaml's table, Secrets Manager, the HTTP sender), driven by
``local.sqs_poller`` as Lambda's SQS mapping would, and a receiver that verifies every request
with the ``standardwebhooks`` library. The schedule is compressed to waits of 0 s (each retry is
the next receive), so nothing waits on a clock; the redrive is the schedule's own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from local.servers import MotoServer, aws_env
from local.sqs_poller import QueuePoller
from local.webhook_receiver import WebhookReceiver
from presign.adapters.dynamodb import table_client
from presign.bootstrap.webhooks import build_delivery, delivery_log
from presign.events.model import Event
from presign.webhooks import cli
from presign.webhooks.fanout import WebhookFanout
from presign.webhooks.schedule import RetrySchedule
from presign.webhooks.signing import generate_secret
from tests.support.stream_pipeline import boto, table_request

SCHEDULE = RetrySchedule(waits=(0, 0, 0))  # four attempts, each retry the next receive


class Recording:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def put(self, events: Sequence[Event]) -> list[str]:
        self.events += events
        return []


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server, pytest.MonkeyPatch.context() as env:
        for name, value in aws_env(server.endpoint_url).items():
            env.setenv(name, value)
        table_client.cache_clear()
        yield server
    table_client.cache_clear()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(generate_secret()) as running:
        yield running


@pytest.fixture
def stack(moto: MotoServer, receiver: WebhookReceiver) -> dict[str, Any]:
    """A queue with the schedule's redrive, its DLQ, the log table, the secret, the environment."""
    suffix = uuid.uuid4().hex[:8]
    sqs, secrets, dynamodb = (boto(s, moto.endpoint_url) for s in ("sqs", "secretsmanager", "dynamodb"))
    dlq = sqs.create_queue(QueueName=f"wh-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(SCHEDULE.max_receive_count)}
    queue = sqs.create_queue(QueueName=f"wh-{suffix}", Attributes={"RedrivePolicy": json.dumps(redrive)})[
        "QueueUrl"
    ]
    table = f"wh-log-{suffix}"
    request = table_request("WebhookDeliveriesTable", table)
    request.pop("StreamSpecification")
    dynamodb.create_table(**request)
    secrets.create_secret(Name=f"wh/{suffix}", SecretString=receiver.secret)
    endpoint = {"id": "dev", "url": f"{receiver.url}/hooks", "events": ["upload.*"], "secrets": [{"secret_id": f"wh/{suffix}"}]}  # fmt: skip
    environ = {
        "PRESIGN_WEBHOOKS": json.dumps({"endpoints": [endpoint]}),
        "PRESIGN_WEBHOOKS_ALLOW_LOOPBACK": "1",
        "PRESIGN_WEBHOOK_QUEUE_URL": queue,
        "PRESIGN_WEBHOOK_DLQ_URL": dlq,
        "PRESIGN_WEBHOOK_TABLE": table,
        "PRESIGN_WEBHOOK_WAITS": "0,0,0",
        "AWS_REGION": "us-east-1",
    }
    return {"sqs": sqs, "queue": queue, "dlq": dlq, "environ": environ}


def event(n: int = 1, type_: str = "upload.completed") -> Event:
    return Event(
        id=f"evt_{n:032x}", type=type_, time="2026-12-08T01:00:00Z",  # type: ignore[arg-type]
        sequence=2, subject=f"upload/u{n}", data={"upload_id": f"u{n}", "key": f"users/a/u{n}.txt"},
    )  # fmt: skip


def publish(stack: dict[str, Any], *events: Event) -> None:
    """What the publisher does after the bus took the events: the fan-out onto the queue."""
    from presign.bootstrap.webhooks import fanout

    sink = fanout(stack["environ"])
    assert isinstance(sink, WebhookFanout)
    assert sink.put(list(events)) == []


def deliver(stack: dict[str, Any], announce: Recording | None = None) -> None:
    delivery = build_delivery(stack["environ"], announce=announce)
    QueuePoller(stack["sqs"], stack["queue"], delivery.handle).drain()


def depth(stack: dict[str, Any], name: str) -> int:
    attributes = stack["sqs"].get_queue_attributes(
        QueueUrl=stack[name],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_fails_twice_then_succeeds_three_attempts_one_webhook_id_and_no_more(
    stack: dict[str, Any], receiver: WebhookReceiver
) -> None:
    # Given a receiver that fails its first two requests, and one event fanned out to it
    receiver.fail_next(2)
    publish(stack, event(1), event(2, "share.created"))  # the endpoint wants upload.* only

    # When the delivery function drains the queue
    deliver(stack)

    # Then three verified attempts of one webhook-id, the last accepted, and nothing left anywhere
    assert [(a.id, a.status) for a in receiver.attempts] == [(event(1).id, 503)] * 2 + [(event(1).id, 204)]
    assert receiver.refused == 0
    body = receiver.deliveries[0].data
    assert body["id"] == event(1).id and body["sequence"] == 2 and body["data"]["upload_id"] == "u1", body
    assert (depth(stack, "queue"), depth(stack, "dlq")) == (0, 0)
    # And the delivery log has each attempt: status, latency, response size, verdict
    rows = delivery_log(stack["environ"]).last_attempts("dev")
    assert [(r["attempt"], r["status"], r["verdict"]) for r in rows] == [
        (3, 204, "delivered"), (2, 503, "retry"), (1, 503, "retry"),
    ], rows  # fmt: skip
    assert all(r["latency_ms"] is not None and r["response_bytes"] is not None for r in rows), rows


def test_a_receiver_down_for_every_attempt_dead_letters_and_a_replay_delivers(
    stack: dict[str, Any], receiver: WebhookReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a receiver down for every attempt of the schedule
    receiver.fail_next(SCHEDULE.attempts, status=500)
    publish(stack, event(3))

    # When the queue is drained: four attempts, then the dead-letter queue
    deliver(stack)
    assert [a.status for a in receiver.attempts] == [500] * SCHEDULE.attempts
    assert (depth(stack, "queue"), depth(stack, "dlq")) == (0, 1)

    # When an operator replays the dead-letter queue, and the queue is drained again
    assert cli.main(["replay", "--dlq"], stack["environ"]) == 0
    deliver(stack)

    # Then it is delivered, with the same webhook-id, signed anew (the library verified it)
    assert [d.id for d in receiver.deliveries] == [event(3).id]
    assert (depth(stack, "queue"), depth(stack, "dlq")) == (0, 0)
    assert "replayed 1" in capsys.readouterr().out


def test_a_chosen_event_is_replayed_from_the_log(stack: dict[str, Any], receiver: WebhookReceiver) -> None:
    publish(stack, event(4))
    deliver(stack)
    assert cli.main(["replay", event(4).id, "--endpoint", "dev"], stack["environ"]) == 0
    deliver(stack)
    assert [d.id for d in receiver.deliveries] == [event(4).id] * 2  # receivers deduplicate on it


def test_410_disables_the_endpoint_announces_it_and_sends_it_nothing_more(
    stack: dict[str, Any], receiver: WebhookReceiver
) -> None:
    # Given an endpoint that answers 410 Gone
    receiver.fail_next(1, status=410)
    publish(stack, event(5))
    announced = Recording()

    # When the delivery runs, then again with another event
    deliver(stack, announced)
    publish(stack, event(6))
    deliver(stack, announced)

    # Then one attempt, the endpoint disabled, one webhook.endpoint_disabled event, nothing more sent
    assert [a.status for a in receiver.attempts] == [410]
    assert [(e.type, e.data["endpoint_id"], e.data["reason"]) for e in announced.events] == [
        ("webhook.endpoint_disabled", "dev", "gone")
    ]
    assert (depth(stack, "queue"), depth(stack, "dlq")) == (0, 0)
    # And once an operator enables it, deliveries resume
    assert cli.main(["enable", "dev"], stack["environ"]) == 0
    publish(stack, event(7))
    deliver(stack, announced)
    assert [d.id for d in receiver.deliveries] == [event(7).id]


def test_send_a_test_event(stack: dict[str, Any], receiver: WebhookReceiver) -> None:
    assert cli.main(["test-event", "dev"], stack["environ"]) == 0
    (attempt,) = receiver.deliveries
    assert attempt.type == "webhook.test" and attempt.id.startswith("evt_test_"), attempt
    assert datetime.now(UTC).timestamp() - attempt.timestamp < 60
