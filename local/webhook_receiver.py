"""The webhook receiver ``make dev`` runs: verifies each delivery with the ``standardwebhooks``
library, prints one line for it, and remembers it for tests.

It is the owner's backend in miniature, and deliberately built from the *other* side's parts:
the reference library (not ``presign.webhooks.signing``) verifies every request, so a delivery
it accepts is one any Standard Webhooks consumer would accept.

* ``POST /webhooks`` (any path outside ``/__receiver/``): verified against the ``whsec_``
  secret; 401 when the signature, id or timestamp does not verify, 2xx otherwise (or the status
  it was told to fail with). One printed line per verified request::

      webhook evt_0f3a upload.completed upload_id=u_123 key="users/alice/a.png" -> 204

  never the body, a URL, a header value or a token: only the id, the type, and the upload id,
  key or share handle from ``data``.
* ``fail_next(count, status, retry_after)``: the next ``count`` verified requests are answered
  with ``status`` (503 by default), for the retry tests; ``attempts`` keeps every verified
  request (one ``webhook-id`` several times when retried), ``deliveries`` only the accepted ones.
* Control from another process (a test against ``make dev``), like ``local.storage_proxy``:
  ``GET /__receiver/deliveries``, ``GET /__receiver/attempts``, ``POST /__receiver/fail``
  (``{"count": 2, "status": 503, "retry_after": "1"}``), ``DELETE /__receiver/log``.
* Bound to 127.0.0.1; a ``Host`` that is not its own is refused with 421 (a page cannot reach
  it by DNS rebinding), before anything is read.

``python -m local.webhook_receiver --secret whsec_... [--port N]`` runs it in the foreground.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TextIO

from standardwebhooks import Webhook, WebhookVerificationError

from local.servers import HOST, local_hosts

CONTROL = "/__receiver/"
MAX_BODY_BYTES = 1024 * 1024
#: The ``data`` fields a printed line may show: identifiers, never a URL, token or password.
SHOWN_FIELDS = ("upload_id", "key", "handle")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One verified request (the body is kept parsed: it is the event, no secret in it)."""

    id: str
    type: str
    timestamp: int  # the webhook-timestamp header: when this attempt was signed
    data: dict[str, Any]
    status: int  # what the receiver answered
    received_at: float


class WebhookReceiver:
    def __init__(
        self, secret: str, *, port: int = 0, out: TextIO | None = None, log_path: Path | None = None
    ) -> None:
        self.secret = secret
        #: Every verified attempt, one JSON object a line (``make dev``'s ``webhooks.jsonl``):
        #: {"webhook_id", "type", "timestamp", "status", "event"}; ``status`` 2xx = delivered.
        self.log_path = log_path
        self._verifier = Webhook(secret)
        self._out = out
        self._lock = threading.Condition()
        self._attempts: list[Attempt] = []
        self._refused = 0
        self._failures: list[tuple[int, str | None]] = []
        self._server = ThreadingHTTPServer((HOST, port), _handler(self))
        self._hosts = local_hosts(self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/webhooks"

    # -- what tests read and set

    @property
    def attempts(self) -> list[Attempt]:
        with self._lock:
            return list(self._attempts)

    @property
    def deliveries(self) -> list[Attempt]:
        return [a for a in self.attempts if 200 <= a.status < 300]

    @property
    def refused(self) -> int:
        """Requests that did not verify (or came with a foreign ``Host``)."""
        with self._lock:
            return self._refused

    def fail_next(self, count: int, status: int = 503, retry_after: str | None = None) -> None:
        with self._lock:
            self._failures = [(status, retry_after)] * count

    def clear(self) -> None:
        with self._lock:
            self._attempts.clear()
            self._refused = 0

    def wait_for_deliveries(self, count: int, timeout: float = 30.0) -> list[Attempt]:
        """Block until ``count`` deliveries were accepted (or the bound passes: returns fewer)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while sum(200 <= a.status < 300 for a in self._attempts) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
        return self.deliveries

    # -- the request path

    def _receive(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        try:
            event = self._verifier.verify(body, headers)
            attempt_id, stamp = headers["webhook-id"], int(headers["webhook-timestamp"])
            event_type, data = str(event["type"]), dict(event["data"])
        except (WebhookVerificationError, KeyError, TypeError, ValueError):
            with self._lock:
                self._refused += 1
            self._print("webhook REFUSED: signature, id or timestamp did not verify -> 401")
            return 401, {}
        with self._lock:
            status, retry_after = self._failures.pop(0) if self._failures else (204, None)
            self._attempts.append(Attempt(attempt_id, event_type, stamp, data, status, time.time()))
            if self.log_path is not None:
                line = {"webhook_id": attempt_id, "type": event_type, "timestamp": stamp, "status": status}
                with self.log_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({**line, "event": data}, ensure_ascii=False) + "\n")
            self._lock.notify_all()
        # presign's body carries the whole event in ``data``, its fields in ``data.data``
        fields = data["data"] if isinstance(data.get("data"), dict) else data
        shown = [f"{k}={json.dumps(fields[k], ensure_ascii=False)}" for k in SHOWN_FIELDS if k in fields]
        self._print(" ".join(["webhook", attempt_id, event_type, *shown, "->", str(status)]))
        return status, ({"Retry-After": retry_after} if retry_after else {})

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if method == "GET" and path == CONTROL + "deliveries":
            return 200, [asdict(a) for a in self.deliveries]
        if method == "GET" and path == CONTROL + "attempts":
            return 200, [asdict(a) for a in self.attempts]
        if method == "DELETE" and path == CONTROL + "log":
            self.clear()
            return 200, {}
        if method == "POST" and path == CONTROL + "fail":
            try:
                rule = json.loads(body or b"{}")
                self.fail_next(int(rule["count"]), int(rule.get("status", 503)), rule.get("retry_after"))
            except (ValueError, KeyError, TypeError):
                return 400, {"error": 'expected {"count": N, "status": 503, "retry_after": null}'}
            return 200, {}
        return 404, {"error": "unknown control route"}

    def _print(self, line: str) -> None:
        if self._out is not None:
            print(line, file=self._out, flush=True)

    # -- lifecycle

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_DELETE(self) -> None:
            self._handle()

        def _handle(self) -> None:
            if self.headers.get("Host", "").lower() not in receiver._hosts:
                with receiver._lock:
                    receiver._refused += 1
                self._answer(421, b"not a Host this receiver answers\n", "text/plain", {})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= MAX_BODY_BYTES:
                self._answer(413, b"", "text/plain", {})
                return
            body = self.rfile.read(length)
            if self.path.startswith(CONTROL):
                status, answer = receiver._control(self.command, self.path, body)
                self._answer(status, json.dumps(answer).encode(), "application/json", {})
            elif self.command == "POST":
                status, headers = receiver._receive(body, dict(self.headers.items()))
                self._answer(status, b"", "text/plain", headers)
            else:
                self._answer(405, b"", "text/plain", {})

        def _answer(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per delivery is printed by the receiver itself

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--secret", default=os.environ.get("WEBHOOK_SECRET"), help="whsec_... (or WEBHOOK_SECRET)"
    )
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("a whsec_ secret is required (--secret or WEBHOOK_SECRET)")
    receiver = WebhookReceiver(args.secret, port=args.port, out=sys.stdout)
    print(f"webhook receiver on {receiver.url}", flush=True)
    receiver.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
