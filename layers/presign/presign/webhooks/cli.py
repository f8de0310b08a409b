"""``python -m presign.webhooks``: what an operator sees and does (docs/events.md, "Operators").

    python -m presign.webhooks log [--endpoint ID] [--limit 20]   the last attempts per endpoint
    python -m presign.webhooks replay --dlq [--max 100]           dead-lettered messages, sent again
    python -m presign.webhooks replay EVENT_ID --endpoint ID      one event again, from the log
    python -m presign.webhooks test-event ENDPOINT                a signed webhook.test now
    python -m presign.webhooks enable ENDPOINT                    forget a disabled endpoint's health
    python -m presign.webhooks secret                             a fresh whsec_ secret

It reads the delivery function's environment (``presign.bootstrap.webhooks``: the endpoints, the
queues, the log table) and the operator's AWS credentials; ``make webhooks ARGS=...`` runs it
against ``make dev``. Never a user route. A replay goes through the queue, so it is signed at send
time with a fresh timestamp and the original ``webhook-id``, and retried like any delivery.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from presign.bootstrap.webhooks import (
    delivery_log,
    signing_secrets,
    webhook_queue,
    webhook_sender,
    webhook_settings,
)
from presign.clock import isoformat_z
from presign.webhooks.messages import DeliveryMessage
from presign.webhooks.signing import generate_secret, message_body, signature_headers

DLQ = "PRESIGN_WEBHOOK_DLQ_URL"


def _log(environ: Mapping[str, str], endpoint: str | None, limit: int) -> int:
    ids = [endpoint] if endpoint else [e.id for e in webhook_settings(environ).endpoints]
    log = delivery_log(environ)
    for endpoint_id in ids:
        health = log.health(endpoint_id)
        state = f"disabled ({health.disabled.value})" if health.disabled else "enabled"
        print(f"{endpoint_id}: {state}")
        for row in log.last_attempts(endpoint_id, limit):
            status = row["status"] if row["status"] is not None else (row["error"] or "-")
            print(
                f"  {row['time']}  {row['event_id']}  {row['type']:<22} attempt {row['attempt']:>2}  "
                f"{status!s:<8} {row['latency_ms']:>6} ms  {row['response_bytes']:>6} B  {row['verdict']}"
            )
    return 0


def _replay_dlq(environ: Mapping[str, str], most: int) -> int:
    dead, live = webhook_queue(environ, DLQ), webhook_queue(environ)
    moved = 0
    while moved < most:
        batch = dead.take(min(10, most - moved))
        if not batch:
            break
        for message, _raw, receipt in batch:
            if message is None:
                print("  skipped a message that is not a delivery (left in the dead-letter queue)")
                continue
            if live.send([message]):
                print(f"  {message.event_id} -> {message.endpoint_id}: not taken by the queue, left")
                continue
            dead.delete(receipt)
            moved += 1
            print(f"  {message.event_id} -> {message.endpoint_id}: queued again")
    print(f"replayed {moved}")
    return 0


def _replay_one(environ: Mapping[str, str], event_id: str, endpoint: str) -> int:
    message = delivery_log(environ).message(event_id, endpoint)
    if message is None:
        print(f"no delivery of {event_id} to {endpoint} in the log (kept 30 days)", file=sys.stderr)
        return 1
    if webhook_queue(environ).send([message]):
        print("the queue did not take it", file=sys.stderr)
        return 1
    print(f"{event_id} -> {endpoint}: queued again")
    return 0


def _test_event(environ: Mapping[str, str], endpoint_id: str) -> int:
    """A ``webhook.test`` straight to the endpoint (not queued): signed now, its answer shown."""
    endpoint = next((e for e in webhook_settings(environ).endpoints if e.id == endpoint_id), None)
    if endpoint is None:
        print(f"no endpoint {endpoint_id!r} is configured", file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    test_id = "evt_test_" + os.urandom(12).hex()
    body = message_body("webhook.test", now, {"endpoint_id": endpoint_id, "time": isoformat_z(now)})
    message = DeliveryMessage(test_id, "webhook.test", endpoint_id, body.decode("ascii"))
    headers = {
        **signature_headers(test_id, message.body_bytes, signing_secrets()(endpoint), now),
        "content-type": "application/json",
    }
    answer = webhook_sender(environ).send(endpoint.url, message.body_bytes, headers)
    print(json.dumps({"webhook_id": test_id, "status": answer.status, "error": answer.error,
                      "latency_ms": round(answer.latency_ms), "response_bytes": answer.response_bytes}))  # fmt: skip
    return 0 if answer.delivered else 1


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = dict(os.environ) if environ is None else environ
    parser = argparse.ArgumentParser(prog="python -m presign.webhooks", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    log = commands.add_parser("log", help="the last attempts per endpoint")
    log.add_argument("--endpoint")
    log.add_argument("--limit", type=int, default=20)
    replay = commands.add_parser("replay", help="dead-lettered messages, or one event, sent again")
    replay.add_argument("event_id", nargs="?")
    replay.add_argument("--endpoint")
    replay.add_argument("--dlq", action="store_true")
    replay.add_argument("--max", type=int, default=100)
    test = commands.add_parser("test-event", help="send a signed webhook.test to an endpoint now")
    test.add_argument("endpoint")
    enable = commands.add_parser("enable", help="send to a disabled endpoint again")
    enable.add_argument("endpoint")
    commands.add_parser("secret", help="print a fresh whsec_ secret (store it in Secrets Manager)")
    args = parser.parse_args(argv)
    if args.command == "log":
        return _log(environ, args.endpoint, args.limit)
    if args.command == "replay":
        if args.dlq:
            return _replay_dlq(environ, args.max)
        if not (args.event_id and args.endpoint):
            parser.error("replay needs --dlq, or an event id and --endpoint")
        return _replay_one(environ, args.event_id, args.endpoint)
    if args.command == "test-event":
        return _test_event(environ, args.endpoint)
    if args.command == "enable":
        delivery_log(environ).enable(args.endpoint)
        print(f"{args.endpoint}: enabled")
        return 0
    print(generate_secret())
    return 0
