"""The schedule's SQS arithmetic against moto_server's SQS: the receive count is the attempt
number, ``maxReceiveCount = schedule.max_receive_count`` reaches the dead-letter queue right
after the last attempt and not before, and a replay (receive from the DLQ, send again: moto's
``StartMessageMoveTask`` answers 500) delivers the event with its original ``webhook-id``.

The waits are compressed to 0 (each visibility change is 0 s), so nothing here waits on a clock;
``drive`` is the delivery function's loop in miniature (phase 2 builds the real one).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from local.servers import MotoServer
from local.webhook_receiver import WebhookReceiver
from presign.adapters.webhook_http import WebhookSender
from presign.clock import system_clock
from presign.webhooks.messages import DeliveryMessage
from presign.webhooks.schedule import RetrySchedule, Verdict
from presign.webhooks.signing import SigningSecret, generate_secret, message_body, signature_headers

SECRET = generate_secret()
SCHEDULE = RetrySchedule(waits=(0, 0, 0))  # 4 attempts, no waiting
MESSAGE = DeliveryMessage(
    "evt_sqs_1",
    "upload.completed",
    "dev",
    message_body("upload.completed", datetime(2026, 5, 1, tzinfo=UTC), {"upload_id": "u_9"}).decode(),
)


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    with MotoServer() as moto:
        yield boto3.client(
            "sqs", endpoint_url=moto.endpoint_url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip


@pytest.fixture
def queues(sqs: Any, request: pytest.FixtureRequest) -> tuple[str, str]:
    name = request.node.name[:60].replace("[", "-").replace("]", "")
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(SCHEDULE.max_receive_count)}
    main = sqs.create_queue(
        QueueName=name, Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "60"}
    )["QueueUrl"]
    return main, dlq


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as running:
        yield running


def drive(sqs: Any, queue: str, url: str) -> list[Verdict]:
    """Receive and attempt until the queue gives nothing: what the delivery function does."""
    sender, verdicts = WebhookSender(allow_loopback=True), []
    while True:
        got = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=1, AttributeNames=["ApproximateReceiveCount"]
        )
        if not got.get("Messages"):
            return verdicts
        (received,) = got["Messages"]
        message = DeliveryMessage.from_json(received["Body"])
        headers = signature_headers(
            message.event_id, message.body_bytes, [SigningSecret.parse(SECRET)], system_clock()
        )
        response = sender.send(url, message.body_bytes, headers)
        decision = SCHEDULE.decide(
            attempt=int(received["Attributes"]["ApproximateReceiveCount"]), status=response.status,
            retry_after=response.retry_after, now=system_clock(), rand=random.random,
        )  # fmt: skip
        verdicts.append(decision.verdict)
        if decision.verdict in (Verdict.DELIVERED, Verdict.ENDPOINT_GONE):
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=received["ReceiptHandle"])
        else:  # RETRY waits ``decision.wait`` (0 here); DEAD_LETTER makes it visible for the redrive
            sqs.change_message_visibility(
                QueueUrl=queue, ReceiptHandle=received["ReceiptHandle"], VisibilityTimeout=decision.wait
            )


def depth(sqs: Any, queue: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_fails_twice_then_succeeds_three_attempts_one_id_and_no_more(
    sqs: Any, queues: tuple[str, str], receiver: WebhookReceiver
) -> None:
    main, dlq = queues
    receiver.fail_next(2)
    sqs.send_message(QueueUrl=main, MessageBody=MESSAGE.to_json())

    verdicts = drive(sqs, main, receiver.url)

    assert verdicts == [Verdict.RETRY, Verdict.RETRY, Verdict.DELIVERED], verdicts
    assert [(a.id, a.status) for a in receiver.attempts] == [("evt_sqs_1", 503)] * 2 + [("evt_sqs_1", 204)]
    assert (depth(sqs, main), depth(sqs, dlq)) == (0, 0)


def test_a_receiver_down_for_every_attempt_dead_letters_after_the_last_and_a_replay_delivers(
    sqs: Any, queues: tuple[str, str], receiver: WebhookReceiver
) -> None:
    # Given a receiver that fails every attempt of the schedule
    main, dlq = queues
    receiver.fail_next(SCHEDULE.attempts)
    sqs.send_message(QueueUrl=main, MessageBody=MESSAGE.to_json())

    # When the delivery loop runs until the queue gives nothing
    verdicts = drive(sqs, main, receiver.url)

    # Then exactly the schedule's attempts were made, and the event sits in the DLQ
    assert verdicts == [Verdict.RETRY] * (SCHEDULE.attempts - 1) + [Verdict.DEAD_LETTER], verdicts
    assert len(receiver.attempts) == SCHEDULE.attempts == SCHEDULE.max_receive_count
    assert (depth(sqs, main), depth(sqs, dlq)) == (0, 1)

    # When an operator replays it: receive from the DLQ, send again, delete
    (dead,) = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    sqs.send_message(QueueUrl=main, MessageBody=dead["Body"])
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=dead["ReceiptHandle"])
    replayed = drive(sqs, main, receiver.url)

    # Then it is delivered once more, with its original webhook-id, and both queues are empty
    assert replayed == [Verdict.DELIVERED]
    assert [d.id for d in receiver.deliveries] == ["evt_sqs_1"]
    assert (depth(sqs, main), depth(sqs, dlq)) == (0, 0)


def test_one_fewer_receive_in_the_redrive_would_lose_the_last_attempt(
    sqs: Any, receiver: WebhookReceiver
) -> None:
    # The arithmetic's other side: maxReceiveCount = attempts - 1 dead-letters before the last one
    dlq = sqs.create_queue(QueueName="short-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": arn, "maxReceiveCount": str(SCHEDULE.max_receive_count - 1)}
    main = sqs.create_queue(QueueName="short", Attributes={"RedrivePolicy": json.dumps(redrive)})["QueueUrl"]
    receiver.fail_next(SCHEDULE.attempts)
    sqs.send_message(QueueUrl=main, MessageBody=MESSAGE.to_json())

    verdicts = drive(sqs, main, receiver.url)

    assert len(verdicts) == SCHEDULE.attempts - 1 and Verdict.DEAD_LETTER not in verdicts, verdicts
    assert depth(sqs, dlq) == 1
