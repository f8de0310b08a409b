"""The local receiver ``make dev`` runs, fed by the real sender: it verifies with the
``standardwebhooks`` library, prints one safe line per delivery, fails on request, and answers
no foreign ``Host``."""

from __future__ import annotations

import http.client
import io
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from local.webhook_receiver import WebhookReceiver
from presign.adapters.webhook_http import WebhookResponse, WebhookSender
from presign.clock import system_clock
from presign.webhooks.schedule import RetrySchedule, Verdict
from presign.webhooks.signing import SigningSecret, generate_secret, message_body, signature_headers

SECRET = generate_secret()
DATA = {
    "upload_id": "u_1",
    "key": "users/alice/a b.png",
    "size": 5,
    # what must never be printed, even if an event carried it
    "note": "https://storage.example/users/alice/a.png?X-Amz-Signature=deadbeef&token=t0k3n",
}
BODY = message_body("upload.completed", datetime(2026, 5, 1, tzinfo=UTC), DATA)


@pytest.fixture
def printed() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def receiver(printed: io.StringIO) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET, out=printed) as running:
        yield running


def send(
    receiver: WebhookReceiver, event_id: str = "evt_1", *, now: datetime | None = None
) -> WebhookResponse:
    headers = signature_headers(event_id, BODY, [SigningSecret.parse(SECRET)], now or system_clock())
    return WebhookSender(allow_loopback=True).send(receiver.url, BODY, headers)


def raw(
    receiver: WebhookReceiver, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_a_delivery_is_verified_recorded_and_printed_as_one_safe_line(
    receiver: WebhookReceiver, printed: io.StringIO
) -> None:
    response = send(receiver)

    assert (response.status, response.error) == (204, None), response
    (delivery,) = receiver.deliveries
    assert (delivery.id, delivery.type, delivery.data) == ("evt_1", "upload.completed", DATA)
    assert (
        printed.getvalue()
        == 'webhook evt_1 upload.completed upload_id="u_1" key="users/alice/a b.png" -> 204\n'
    )
    for secret_part in ("http", "Signature", "t0k3n", SECRET):
        assert secret_part not in printed.getvalue()


def test_fails_twice_then_succeeds_three_attempts_one_id_each_signed_afresh(
    receiver: WebhookReceiver,
) -> None:
    # Given a receiver that fails the next two requests, and a compressed schedule (no waits)
    receiver.fail_next(2, status=503, retry_after="1")
    schedule = RetrySchedule(waits=(0, 0, 0))
    verdicts = []

    # When the delivery loop runs as the delivery function would, attempt = receive count
    for attempt in range(1, schedule.attempts + 1):
        response = send(receiver, now=system_clock() + timedelta(seconds=attempt))
        decision = schedule.decide(
            attempt=attempt, status=response.status, retry_after=response.retry_after,
            now=system_clock(), rand=random.random,
        )  # fmt: skip
        verdicts.append((response.status, response.retry_after, decision.verdict))
        if decision.verdict is not Verdict.RETRY:
            break

    # Then three attempts with one webhook-id, the first two refused, and no more
    assert verdicts == [(503, "1", Verdict.RETRY), (503, "1", Verdict.RETRY), (204, None, Verdict.DELIVERED)]
    attempts = receiver.attempts
    assert [(a.id, a.status) for a in attempts] == [("evt_1", 503), ("evt_1", 503), ("evt_1", 204)]
    assert len({a.timestamp for a in attempts}) == 3, "each attempt is signed at its own send time"
    assert len(receiver.deliveries) == 1


def test_a_bad_signature_or_a_stale_timestamp_is_refused(
    receiver: WebhookReceiver, printed: io.StringIO
) -> None:
    stale = send(receiver, now=system_clock() - timedelta(minutes=6))
    headers = signature_headers("evt_2", BODY, [SigningSecret.parse(generate_secret())], system_clock())
    forged = WebhookSender(allow_loopback=True).send(receiver.url, BODY, headers)

    assert (stale.status, forged.status) == (401, 401)
    assert receiver.attempts == [] and receiver.refused == 2
    assert printed.getvalue().count("REFUSED") == 2


def test_a_foreign_host_is_refused_before_anything_is_read(receiver: WebhookReceiver) -> None:
    headers = signature_headers("evt_3", BODY, [SigningSecret.parse(SECRET)], system_clock())
    status, _ = raw(receiver, "POST", "/webhooks", BODY, Host=f"rebound.example:{receiver.port}", **headers)
    assert status == 421
    assert receiver.attempts == []
    assert raw(receiver, "POST", "/webhooks", BODY, Host=f"localhost:{receiver.port}", **headers)[0] == 204


def test_control_routes_for_tests_in_another_process(receiver: WebhookReceiver) -> None:
    host = {"Host": f"127.0.0.1:{receiver.port}"}
    assert raw(receiver, "POST", "/__receiver/fail", b'{"count": 1, "status": 500}', **host)[0] == 200
    assert send(receiver, "evt_4").status == 500
    assert send(receiver, "evt_4").status == 204

    status, attempts = raw(receiver, "GET", "/__receiver/attempts", **host)
    assert status == 200 and [(a["id"], a["status"]) for a in json.loads(attempts)] == [
        ("evt_4", 500),
        ("evt_4", 204),
    ]
    deliveries = json.loads(raw(receiver, "GET", "/__receiver/deliveries", **host)[1])
    assert [d["data"]["upload_id"] for d in deliveries] == ["u_1"]
    assert raw(receiver, "DELETE", "/__receiver/log", **host)[0] == 200
    assert receiver.attempts == []
    assert raw(receiver, "POST", "/__receiver/fail", b"{}", **host)[0] == 400


def test_the_command_line_receiver_prints_its_address_then_one_line_per_delivery() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "local.webhook_receiver", "--secret", SECRET],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("webhook receiver on http://127.0.0.1:"), first
        url = first.rsplit(" ", 1)[1].strip()
        headers = signature_headers("evt_cli", BODY, [SigningSecret.parse(SECRET)], system_clock())
        assert WebhookSender(allow_loopback=True).send(url, BODY, headers).status == 204
        assert (
            process.stdout.readline()
            == 'webhook evt_cli upload.completed upload_id="u_1" key="users/alice/a b.png" -> 204\n'
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
