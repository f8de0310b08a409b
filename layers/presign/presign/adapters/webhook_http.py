"""The webhook sender: one POST to an owner's endpoint that cannot be turned against us (SSRF).

For one delivery it:

1. checks the URL's form again (``presign.webhooks.endpoints.check_url``: https, no user
   name or password, no fragment);
2. resolves the host **once** (``getaddrinfo``) and refuses if **any** address it got is one a
   webhook may not reach (``presign.webhooks.addresses``: private, loopback, link-local,
   metadata, CGNAT, multicast, reserved, unspecified, and the IPv6 forms that embed such an
   IPv4 address); "any", because a name that answers one public and one private address would
   otherwise be a coin toss we lose half the time;
3. connects a socket to a checked ``sockaddr`` itself, so nothing resolves the name a second time
   (a DNS-rebinding name answers public to the check and private to the connect), then does TLS
   with SNI and certificate verification **for the hostname**, and sends ``Host: <hostname>``;
4. follows no redirect (a 3xx is returned as the answer: a failed attempt), reads at most
   ``max_response_bytes`` of the body (and 16 KiB of status line and headers), and keeps to one
   wall-clock ``deadline`` for everything: connect, handshake, send and every read, so a server
   that drips a byte at a time cannot hold the function.

It answers a ``WebhookResponse`` (status, latency, bytes read, ``Retry-After``, or why there was
no answer) and never raises for anything the endpoint or the network does. It never logs:
the URL may hold the receiver's own token.

**http.client, not urllib3.** Both are already there (urllib3 through botocore), and urllib3's
``HTTPSConnectionPool(ip, server_hostname=..., assert_hostname=...)`` would pin the address
too. But what this needs is control, not convenience: a connection per delivery (a pool would
reuse a socket opened for an earlier resolution), a socket we connect ourselves, and a deadline
over the whole exchange, which urllib3's per-read timeouts cannot give without reaching into
its response's private file object. http.client takes a connected socket as it is and reads
through a file object we hand it (``_DeadlineReader``); ``presign.adapters.aws_json`` already
speaks HTTP the same way.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from presign.webhooks.addresses import forbidden_reason, parse_address
from presign.webhooks.endpoints import check_url

DEFAULT_DEADLINE_SECONDS = 15.0  # the spec's advice: 15-30 s
MAX_RESPONSE_BYTES = 64 * 1024
MAX_HEAD_BYTES = 16 * 1024
USER_AGENT = "presign-webhooks/1"

AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]
#: ``getaddrinfo``'s shape: (host, port) -> address records. Tests pass a stub that counts.
Resolver = Callable[[str, int], Sequence[AddrInfo]]


def system_resolver(host: str, port: int) -> Sequence[AddrInfo]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    #: The HTTP status, or ``None`` when nothing answered (``error`` says why).
    status: int | None
    latency_ms: float
    #: Body bytes read (at most ``max_response_bytes``); ``truncated`` when more were on offer.
    response_bytes: int = 0
    truncated: bool = False
    retry_after: str | None = None
    #: ``invalid_url``, ``dns``, ``refused_address``, ``connect``, ``tls``, ``timeout``,
    #: ``protocol`` (a malformed or oversized answer); ``None`` for a complete answer.
    error: str | None = None
    #: For ``refused_address``: which rule (``loopback``, ``private``, ``metadata``, ...).
    refused: str | None = None
    #: The address the request went to (never the URL; an address is not a secret).
    address: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _AnswerTooLarge(Exception):
    """The endpoint sent more than the status line, headers and capped body may take."""


class WebhookSender:
    def __init__(
        self,
        *,
        allow_loopback: bool = False,
        resolver: Resolver = system_resolver,
        ca_file: str | None = None,
        deadline: float = DEFAULT_DEADLINE_SECONDS,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._allow_loopback = allow_loopback
        self._resolve = resolver
        self._deadline = deadline
        self._max_response_bytes = max_response_bytes
        self._tls = ssl.create_default_context(cafile=ca_file)
        self._tls.minimum_version = ssl.TLSVersion.TLSv1_2

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> WebhookResponse:
        started = time.monotonic()
        deadline = started + self._deadline

        def answer(status: int | None = None, **fields: Any) -> WebhookResponse:
            return WebhookResponse(status, round((time.monotonic() - started) * 1000, 3), **fields)

        try:
            check_url(url, allow_loopback=self._allow_loopback, judge_host=False)
            target = _Target.of(url)
        except (ValueError, UnicodeError):
            return answer(error="invalid_url")
        try:
            records = list(self._resolve(target.host, target.port))
        except (OSError, UnicodeError):
            return answer(error="dns")
        if not records:
            return answer(error="dns")
        for record in records:
            reason = forbidden_reason(parse_address(record[4][0]), allow_loopback=self._allow_loopback)
            if reason is not None:
                return answer(error="refused_address", refused=reason)
        sock, address = _connect(records, deadline)
        if sock is None:
            return answer(error="timeout" if time.monotonic() >= deadline else "connect")
        try:
            if target.https:
                sock = self._handshake(sock, target.host, deadline)
            status, retry_after, read, truncated = self._exchange(sock, target, body, headers, deadline)
        except ssl.SSLError:
            return answer(error="tls", address=address)
        except TimeoutError:
            return answer(error="timeout", address=address)
        except (http.client.HTTPException, _AnswerTooLarge):
            return answer(error="protocol", address=address)
        except OSError:
            return answer(error="timeout" if time.monotonic() >= deadline else "connect", address=address)
        finally:
            sock.close()
        return answer(
            status, response_bytes=read, truncated=truncated, retry_after=retry_after, address=address
        )

    def _handshake(self, sock: socket.socket, host: str, deadline: float) -> ssl.SSLSocket:
        tls = self._tls.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
        # One timeout bounds the whole handshake (CPython keeps a deadline across its retries).
        tls.settimeout(_remaining(deadline))
        tls.do_handshake()
        return tls

    def _exchange(
        self, sock: socket.socket, target: _Target, body: bytes, headers: Mapping[str, str], deadline: float
    ) -> tuple[int, str | None, int, bool]:
        """POST over the connected socket: (status, Retry-After, body bytes read, truncated)."""
        connection_class = http.client.HTTPSConnection if target.https else http.client.HTTPConnection
        conn = connection_class(target.host, target.port)
        conn.sock = sock  # connected to a checked address: http.client never resolves or connects
        sock.settimeout(_remaining(deadline))  # sendall keeps one deadline over the whole body
        extra = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Connection": "close"}
        conn.request("POST", target.path, body=body, headers={**headers, **extra})
        # Read the answer ourselves: HTTPConnection.getresponse() would close the socket under a
        # "Connection: close" answer, and only our reader keeps to the deadline.
        response = _DeadlineResponse(sock, deadline, MAX_HEAD_BYTES + self._max_response_bytes)
        response.begin()
        retry_after = response.getheader("Retry-After")
        read = 0
        try:
            while read < self._max_response_bytes:
                chunk = response.read(min(16 * 1024, self._max_response_bytes - read))
                if not chunk:
                    return response.status, retry_after, read, False
                read += len(chunk)
        except (OSError, http.client.HTTPException, _AnswerTooLarge):
            # The status is the answer (a 2xx means received); a body cut short is only noted.
            return response.status, retry_after, read, True
        return response.status, retry_after, read, response.length is None or response.length > 0


@dataclass(frozen=True, slots=True)
class _Target:
    host: str  # ASCII (IDNA): what is resolved, what SNI and the certificate check name, ``Host``
    port: int
    https: bool
    path: str

    @classmethod
    def of(cls, url: str) -> _Target:
        parts = urlsplit(url)
        https = parts.scheme == "https"
        host = (parts.hostname or "").encode("idna").decode("ascii")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(host, parts.port or (443 if https else 80), https, path)


def _connect(records: Sequence[AddrInfo], deadline: float) -> tuple[socket.socket | None, str]:
    """A socket connected to the first checked address that accepts, within the deadline."""
    for family, kind, proto, _, sockaddr in records:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock = socket.socket(family, kind, proto)
        sock.settimeout(remaining)
        try:
            sock.connect(sockaddr)  # an address, not a name: nothing is resolved here
        except OSError:
            sock.close()
            continue
        return sock, str(sockaddr[0])
    return None, ""


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the webhook's deadline passed")
    return remaining


class _DeadlineResponse(http.client.HTTPResponse):
    """An ``HTTPResponse`` that reads the socket only through a ``_DeadlineReader``."""

    def __init__(self, sock: socket.socket, deadline: float, budget: int) -> None:
        super().__init__(sock, method="POST")
        self.fp.close()  # the plain reader http.client made; only ours may read
        self.fp = cast(io.BufferedReader, io.BufferedReader(_DeadlineReader(sock, deadline, budget)))


class _DeadlineReader(io.RawIOBase):
    """Every read waits at most until the deadline, and all reads together take at most
    ``budget`` bytes: a per-read timeout alone lets a byte-a-second server hold us for ever."""

    def __init__(self, sock: socket.socket, deadline: float, budget: int) -> None:
        self._sock = sock
        self._deadline = deadline
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._budget <= 0:
            raise _AnswerTooLarge
        self._sock.settimeout(_remaining(self._deadline))
        received = self._sock.recv_into(memoryview(buffer).cast("B")[: self._budget])
        self._budget -= received
        return received
