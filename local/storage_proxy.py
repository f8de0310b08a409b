"""A recording, fault-injecting proxy in front of the dev storage, for tests that count and break.

SigV4 signs the ``Host`` a URL is made for, so a proxy cannot sit silently between a client and
the storage: the dev target's ``endpoint_url`` becomes the proxy's address (``make dev
STORAGE_PROXY=1``, ``python -m local.dev --storage-proxy``), the service signs URLs for it, and
the proxy forwards each request byte for byte with its ``Host`` unchanged, so SeaweedFS checks
exactly the signature the client was given.

What it is for:

* **counting**: every request that reached the storage is one ``Exchange`` (method, path, the
  S3 operation's own query parameters, status, bytes). Resume tests prove that only the missing
  parts were sent by counting ``PUT ...?partNumber=N``. No signature, credential or whole URL is
  kept: ``X-Amz-*`` query parameters are dropped from the record.
* **faults**: ``Fault`` rules answer 429/503 with ``Retry-After`` instead of forwarding, drop the
  answer after forwarding (the storage did the work; the client never hears), reset the
  connection before forwarding, or delay the answer.

Control, from the process that started it (``StorageProxy.log()``, ``.set_faults()``) or from
another one over HTTP under ``/__proxy/`` (no bucket name can start with ``_``):
``GET /__proxy/log?since=N``, ``PUT /__proxy/faults`` (a JSON list of rules), ``DELETE
/__proxy/log``. Bound to 127.0.0.1; a ``Host`` that is not the proxy's own is refused (a page
cannot reach it through DNS rebinding).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self

CONTROL = "/__proxy/"
# RFC 9110 7.6.1: meaningful for one connection only, never forwarded.
_HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade")
)
_MAX_CONTROL_BODY = 64 * 1024

Action = Literal["status", "drop", "reset", "delay"]


@dataclass
class Fault:
    """One rule: requests matching ``method``, ``path`` (a regex searched in the path) and
    ``query`` (a query parameter that must be present) get ``action``, ``times`` times (None:
    every time).

    * ``status``: answer ``status`` (429 or 503 as a storage would, with ``Retry-After``) and
      forward nothing;
    * ``drop``: forward, then close the connection without answering (the work is done; the
      client sees a network error);
    * ``reset``: close the connection before forwarding (nothing reached the storage);
    * ``delay``: forward, then wait ``seconds`` before answering.
    """

    action: Action
    method: str | None = None
    path: str | None = None
    query: str | None = None
    status: int = 503
    retry_after: int = 1
    seconds: float = 0.0
    times: int | None = 1

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.path is not None and not re.search(self.path, path):
            return False
        return self.query is None or self.query in query

    @staticmethod
    def of(raw: Mapping[str, Any]) -> Fault:
        known = {name: raw[name] for name in Fault.__dataclass_fields__ if name in raw}
        fault = Fault(**known)
        if fault.action not in ("status", "drop", "reset", "delay"):
            raise ValueError(f"unknown fault action {fault.action!r}")
        return fault


@dataclass(frozen=True)
class Exchange:
    """One request as the proxy saw it (``status`` 0: no answer was given)."""

    seq: int
    method: str
    path: str
    query: dict[str, str]
    status: int
    bytes_in: int
    bytes_out: int
    fault: str | None = None
    at: float = field(default_factory=time.time)

    @property
    def part_number(self) -> int | None:
        raw = self.query.get("partNumber")
        return int(raw) if raw is not None and raw.isdigit() else None


def operation_query(raw_query: str) -> dict[str, str]:
    """The query without SigV4's own parameters: what names the S3 operation, never a credential."""
    pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
    return {name: value for name, value in pairs if not name.lower().startswith("x-amz-")}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: StorageProxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as browsers and SDKs use a storage endpoint
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a request line holds a signature

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _handle(self) -> None:
        proxy = self.server.proxy
        if not proxy.own_host(self.headers.get("Host", "")):
            self._answer(421, b"not this proxy's host\n", close=True)
            return
        path, _, raw_query = self.path.partition("?")
        if path.startswith(CONTROL):
            self._control(path[len(CONTROL) :], raw_query)
            return
        proxy.forward(self, self.command, path, raw_query)

    def _control(self, what: str, raw_query: str) -> None:
        proxy = self.server.proxy
        if self.headers.get("Origin") is not None:
            self._answer(403, b"no cross-origin control\n", close=True)
            return
        if what == "log" and self.command == "GET":
            since = int(dict(urllib.parse.parse_qsl(raw_query)).get("since", "0") or 0)
            body = json.dumps([asdict(e) for e in proxy.log(since)]).encode()
            self._answer(200, body, content_type="application/json")
        elif what == "log" and self.command == "DELETE":
            proxy.clear()
            self._answer(204, b"")
        elif what == "faults" and self.command == "PUT":
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_CONTROL_BODY:
                self._answer(413, b"too large\n", close=True)
                return
            try:
                rules = json.loads(self.rfile.read(length) or b"[]")
                proxy.set_faults([Fault.of(rule) for rule in rules])
            except (ValueError, TypeError) as exc:
                self._answer(400, f"{exc}\n".encode())
                return
            self._answer(204, b"")
        else:
            self._answer(404, b"no such control\n")

    def _answer(
        self, status: int, body: bytes, *, content_type: str = "text/plain", close: bool = False
    ) -> None:
        self.send_response(status)
        if body or status != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body:
            self.wfile.write(body)


def _read_body(handler: BaseHTTPRequestHandler) -> bytes | None:
    """The whole request body (decoded if chunked); None if the client went away mid-body."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            line = handler.rfile.readline(1024)
            if not line:
                return None
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline(1024)  # the empty line after the last chunk (no trailers)
                return b"".join(chunks)
            chunk = handler.rfile.read(size)
            if len(chunk) < size:
                return None
            chunks.append(chunk)
            handler.rfile.readline(1024)
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    return body if len(body) == length else None


class StorageProxy:
    """Forwards http://127.0.0.1:``port`` to ``upstream`` (an ``http://host:port`` endpoint)."""

    def __init__(
        self, upstream: str, port: int = 0, *, timeout: float = 60.0, rewrite_host: bool = False
    ) -> None:
        """``rewrite_host``: send the upstream its own ``Host`` (for an upstream that signs nothing
        and answers its own name only, such as the API emulator); by default the client's is kept,
        which a SigV4 signature covers."""
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or parsed.hostname is None or parsed.port is None:
            raise ValueError("the upstream must be http://host:port")
        self.upstream = (parsed.hostname, parsed.port)
        self._host = f"{parsed.hostname}:{parsed.port}" if rewrite_host else None
        self.timeout = timeout
        self._lock = threading.Lock()
        self._log: list[Exchange] = []
        self._faults: list[Fault] = []
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.proxy = self
        self._thread: threading.Thread | None = None

    # -- lifecycle
    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name="storage-proxy", daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- control
    def own_host(self, host: str) -> bool:
        return host in (f"127.0.0.1:{self.port}", f"localhost:{self.port}")

    def log(self, since: int = 0) -> list[Exchange]:
        with self._lock:
            return [e for e in self._log if e.seq >= since]

    def clear(self) -> None:
        with self._lock:
            self._log.clear()

    def set_faults(self, faults: Sequence[Fault]) -> None:
        with self._lock:
            self._faults = list(faults)

    def _fault_for(self, method: str, path: str, query: Mapping[str, str]) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, query):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _record(self, **what: Any) -> None:
        with self._lock:
            seq = self._log[-1].seq + 1 if self._log else 0
            self._log.append(Exchange(seq=seq, **what))

    # -- the work
    def forward(self, req: BaseHTTPRequestHandler, method: str, path: str, raw_query: str) -> None:
        query = operation_query(raw_query)
        body = _read_body(req)
        if body is None:  # the client gave up mid-body: nothing reaches the storage
            self._record(
                method=method,
                path=path,
                query=query,
                status=0,
                bytes_in=0,
                bytes_out=0,
                fault="client_aborted",
            )
            req.close_connection = True
            return
        fault = self._fault_for(method, path, query)
        if fault is not None and fault.action == "status":
            payload = (
                f"<Error><Code>SlowDown</Code><Message>injected {fault.status}</Message></Error>".encode()
            )
            # Recorded before answering: a client that has its answer finds it in the log.
            self._record(method=method, path=path, query=query, status=fault.status, bytes_in=len(body),
                         bytes_out=len(payload), fault="status")  # fmt: skip
            req.send_response(fault.status)
            req.send_header("Retry-After", str(fault.retry_after))
            req.send_header("Content-Type", "application/xml")
            req.send_header("Content-Length", str(len(payload)))
            req.end_headers()
            req.wfile.write(payload)
            return
        if fault is not None and fault.action == "reset":
            self._record(
                method=method,
                path=path,
                query=query,
                status=0,
                bytes_in=len(body),
                bytes_out=0,
                fault="reset",
            )
            _reset(req)
            return
        headers = [(k, v) for k, v in req.headers.items() if k.lower() not in _HOP_BY_HOP]
        if self._host is not None:
            headers = [(k, v) for k, v in headers if k.lower() != "host"] + [("Host", self._host)]
        if body or "content-length" in {k.lower() for k, _ in headers}:
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        upstream = http.client.HTTPConnection(*self.upstream, timeout=self.timeout)
        try:
            upstream.putrequest(method, path + (f"?{raw_query}" if raw_query else ""), skip_host=True,
                                skip_accept_encoding=True)  # fmt: skip
            for name, value in headers:
                upstream.putheader(name, value)
            upstream.endheaders(body or None)
            answer = upstream.getresponse()
            payload = answer.read()
            status, answer_headers = answer.status, answer.getheaders()
        except OSError:
            self._record(method=method, path=path, query=query, status=502, bytes_in=len(body), bytes_out=0,
                         fault="upstream_down")  # fmt: skip
            with contextlib.suppress(OSError):
                req.send_response(502)
                req.send_header("Content-Length", "0")
                req.send_header("Connection", "close")
                req.end_headers()
            req.close_connection = True
            return
        finally:
            upstream.close()
        if fault is not None and fault.action == "drop":
            self._record(
                method=method,
                path=path,
                query=query,
                status=status,
                bytes_in=len(body),
                bytes_out=0,
                fault="drop",
            )
            _reset(req)
            return
        if fault is not None and fault.action == "delay":
            time.sleep(fault.seconds)
        self._record(method=method, path=path, query=query, status=status, bytes_in=len(body),
                     bytes_out=len(payload), fault=fault.action if fault else None)  # fmt: skip
        req.send_response(status)
        # A HEAD's Content-Length is the object's size, not this (empty) answer's: pass it on.
        keep_length = method == "HEAD"
        for name, value in answer_headers:
            if name.lower() not in _HOP_BY_HOP and (keep_length or name.lower() != "content-length"):
                req.send_header(name, value)
        if not keep_length:
            req.send_header("Content-Length", str(len(payload)))
        req.end_headers()
        if method != "HEAD":
            req.wfile.write(payload)


def _reset(req: BaseHTTPRequestHandler) -> None:
    """Close the client's connection at once, without an answer (SO_LINGER 0: a reset)."""
    req.close_connection = True
    with contextlib.suppress(OSError):
        req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        req.connection.shutdown(socket.SHUT_RDWR)
