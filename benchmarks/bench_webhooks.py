"""Webhook signing and sending: ours against the ``standardwebhooks`` library and a bare POST.

* ``sign``: one attempt's ``webhook-signature`` for a ~300-byte event body, with one secret and
  with two (a rotation), ours (``presign.webhooks.signing``: a prepared HMAC per secret) against
  the library's ``Webhook.sign`` (one ``Webhook`` per secret, as a rotation needs).
* ``loopback``: whole deliveries through ``WebhookSender`` (URL check, one resolution, address
  rules, a fresh connection, capped read) to the local receiver, which verifies each with the
  library, against a bare ``http.client`` POST of the same body to the same receiver.

``make bench`` runs it (``python -m benchmarks webhooks`` alone); ``deliveries per second`` is the
loopback row's rate (one sender, one connection per delivery, as the delivery function sends).
"""

from __future__ import annotations

import http.client
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
for _path in (str(_ROOT / "layers" / "presign"), str(_ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from standardwebhooks import Webhook  # noqa: E402

from benchmarks.timing import paired_median_us  # noqa: E402
from local.webhook_receiver import WebhookReceiver  # noqa: E402
from presign.adapters.webhook_http import WebhookSender  # noqa: E402
from presign.clock import system_clock  # noqa: E402
from presign.webhooks.signing import SigningSecret, generate_secret, message_body, signature_headers  # noqa: E402

EVENT_ID = "evt_01J8Z3Q4X5Y6Z7A8B9C0D1E2F3"
DATA = {
    "upload_id": "u_01J8Z3Q4X5Y6Z7A8B9C0D1E2F3", "key": "users/alice/reports/2026/Quarterly report.pdf",
    "target": "default", "kind": "document", "size": 1234567, "content_type": "application/pdf",
    "etag": "5d41402abc4b2a76b9719d911017c592", "status": "complete", "owner": {"sub": "alice"},
    "sequence": 3,
}  # fmt: skip
BODY = message_body("upload.completed", datetime(2026, 5, 1, tzinfo=UTC), DATA)
SIGN_ITERATIONS = 5_000
SEND_ITERATIONS = 30


def _sign_rows() -> list[dict[str, Any]]:
    rows = []
    texts = [generate_secret(), generate_secret()]
    for count in (1, 2):
        ours = [SigningSecret.parse(t) for t in texts[:count]]
        theirs = [Webhook(t) for t in texts[:count]]
        now = system_clock()

        def sign_ours(ours: list[SigningSecret] = ours, now: datetime = now) -> object:
            return signature_headers(EVENT_ID, BODY, ours, now)

        def sign_library(theirs: list[Webhook] = theirs, now: datetime = now) -> object:
            return " ".join(w.sign(EVENT_ID, now, BODY) for w in theirs)

        ours_us, library_us = paired_median_us(sign_ours, sign_library, iterations=SIGN_ITERATIONS)
        rows.append({
            "name": f"webhooks.sign_{count}_secret{'s' if count > 1 else ''}",
            "ours_per_s": 1e6 / ours_us, "library_per_s": 1e6 / library_us,
            "ratio": ours_us / library_us,  # < 1: ours is faster
        })  # fmt: skip
    return rows


def _loopback_rows() -> list[dict[str, Any]]:
    secret = generate_secret()
    signing = [SigningSecret.parse(secret)]
    with WebhookReceiver(secret) as receiver:
        sender = WebhookSender(allow_loopback=True)

        def deliver() -> object:
            response = sender.send(
                receiver.url, BODY, signature_headers(EVENT_ID, BODY, signing, system_clock())
            )
            assert response.status == 204, response
            return response

        def bare_post() -> object:
            headers = signature_headers(EVENT_ID, BODY, signing, system_clock())
            conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
            try:
                conn.request("POST", "/webhooks", BODY, {**headers, "Content-Type": "application/json"})
                answer = conn.getresponse()
                answer.read()
                assert answer.status == 204, answer.status
            finally:
                conn.close()
            return answer

        deliver()
        ours_us, bare_us = paired_median_us(deliver, bare_post, iterations=SEND_ITERATIONS, repeats=5)
    return [
        {
            "name": "webhooks.loopback_delivery",
            "per_s": 1e6 / ours_us, "bare_post_per_s": 1e6 / bare_us,
            "ratio": ours_us / bare_us,  # the sender's checks and deadline reader over a bare POST
        }
    ]  # fmt: skip


def run() -> list[dict[str, Any]]:
    return [*_sign_rows(), *_loopback_rows()]


if __name__ == "__main__":
    for row in run():
        print(
            row["name"],
            {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items() if k != "name"},
        )
