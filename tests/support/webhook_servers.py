"""Throwaway HTTP(S) servers on loopback for the webhook sender's tests: each connection is
handed to a function, so a test can answer anything (a 302, a flood, silence, a drip).

``self_signed(directory, "hooks.presign.test")`` makes a CA-less self-signed certificate with
``cryptography``; the sender trusts it through ``ca_file``.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(directory: Path, hostname: str) -> tuple[Path, Path]:
    """(certificate, key) PEM files for ``hostname`` (and nothing else: no IP in the SAN)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{hostname}.crt", directory / f"{hostname}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class Request:
    head: str  # request line and headers, as received
    body: bytes

    def header(self, name: str) -> str | None:
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


def read_request(conn: socket.socket) -> Request:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request = Request(head.decode("latin-1"), body)
    length = int(request.header("Content-Length") or 0)
    while len(request.body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        request.body += chunk
    return request


def answer(status: int, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


Handler = Callable[[socket.socket, "LoopbackServer"], None]


@dataclass
class LoopbackServer:
    """Accepts on 127.0.0.1 (or ``::1``), optionally TLS, and runs ``handler`` per connection."""

    handler: Handler
    tls: tuple[Path, Path] | None = None
    host: str = "127.0.0.1"
    requests: list[Request] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    connections: int = 0
    #: Set at stop: handlers that hold a connection open wait on it.
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.host, 0))
        self._sock.listen(16)
        self._context: ssl.SSLContext | None = None
        if self.tls is not None:
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._context.load_cert_chain(*self.tls)
            self._context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)  # type: ignore[func-returns-value]
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self._context is not None:
                conn = self._context.wrap_socket(conn, server_side=True)
            self.handler(conn, self)
        except (OSError, ssl.SSLError):
            pass  # the client hung up (as the sender does when it has read enough)
        finally:
            conn.close()

    def start(self) -> Self:
        self._accepter.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def ok(conn: socket.socket, server: LoopbackServer) -> None:
    """Reads one request, keeps it, answers 204."""
    server.requests.append(read_request(conn))
    conn.sendall(answer(204))


def resolver_of(*answers: list[str]) -> tuple[Callable[[str, int], list[tuple]], list[str]]:  # type: ignore[type-arg]
    """A stub ``getaddrinfo``: the n-th call answers ``answers[n]`` (the last one repeats);
    returns the stub and the list of names it was asked for (to count resolutions)."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[tuple]:  # type: ignore[type-arg]
        asked.append(host)
        addresses = answers[min(len(asked), len(answers)) - 1]
        records = []
        for text in addresses:
            ip = ipaddress.ip_address(text)
            if ip.version == 6:
                records.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, port, 0, 0)))
            else:
                records.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, port)))
        return records

    return resolve, asked
