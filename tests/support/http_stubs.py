"""A tiny HTTP server on 127.0.0.1 that answers AWS JSON-protocol requests as a test says.

It can return canned errors, stay silent, drop the connection, or forward to a real emulator (moto)
and then lose the answer: the network failures a client must survive, made on purpose.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Seen:
    """One request as the server received it; ``peer`` is the client's (host, port): its connection."""

    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int]

    @property
    def operation(self) -> str:
        return self.headers.get("X-Amz-Target", "").rpartition(".")[2]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


# What the server does with a request: a Reply, or None to close the connection without answering.
Behaviour = Callable[[Seen], Reply | None]


def aws_error(status: int, code: str, message: str = "injected", **extra: Any) -> Reply:
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **extra}
    return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/x-amz-json-1.0"})


def forward(upstream: str, seen: Seen) -> Reply:
    """Send the request on to ``upstream`` (moto) and return its answer."""
    parts = urlsplit(upstream)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        headers = {k: v for k, v in seen.headers.items() if k.lower() not in ("host", "connection")}
        conn.request("POST", "/", body=seen.body, headers=headers)
        response = conn.getresponse()
        return Reply(response.status, response.read(), {"Content-Type": "application/x-amz-json-1.0"})
    finally:
        conn.close()


class StubServer:
    """``with StubServer(behaviour) as stub:`` then point a client at ``stub.endpoint_url``."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.seen: list[Seen] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as DynamoDB

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen = Seen(dict(self.headers.items()), body, self.client_address[:2])
                stub.seen.append(seen)
                reply = stub.behaviour(seen)
                if reply is None:
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: Any) -> None:
                return None

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default 5 drops SYNs when fifty clients connect at once

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def operations(self) -> list[str]:
        return [seen.operation for seen in self.seen]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
