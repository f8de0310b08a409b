"""The webhook sender against real sockets on loopback: TLS to the checked address with the
hostname verified, one resolution, no redirects, a capped answer and one deadline.

Names like ``hooks.presign.test`` come from a stub resolver that answers 127.0.0.1, and the
sender runs with ``allow_loopback`` (the dev switch), since every server here is on loopback;
``tests/unit/test_webhook_ssrf.py`` proves the same sender refuses loopback without it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from presign.adapters.webhook_http import MAX_RESPONSE_BYTES, WebhookSender
from presign.clock import system_clock
from presign.webhooks.signing import SigningSecret, generate_secret, message_body, signature_headers
from tests.support.webhook_servers import LoopbackServer, answer, ok, read_request, resolver_of, self_signed

HOST = "hooks.presign.test"
SECRET = generate_secret()
BODY = message_body("upload.completed", system_clock(), {"upload_id": "u_1", "key": "users/alice/a.png"})


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"), HOST)


@pytest.fixture
def serve() -> Iterator[Callable[..., LoopbackServer]]:
    servers: list[LoopbackServer] = []

    def start(handler: Callable[[socket.socket, LoopbackServer], None], **kw: object) -> LoopbackServer:
        server = LoopbackServer(handler, **kw).start()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def headers() -> dict[str, str]:
    return signature_headers("evt_1", BODY, [SigningSecret.parse(SECRET)], system_clock())


def sender(ca: Path | None, *answers: list[str], deadline: float = 10.0) -> tuple[WebhookSender, list[str]]:
    resolve, asked = resolver_of(*(answers or (["127.0.0.1"],)))
    return WebhookSender(
        allow_loopback=True, resolver=resolve, ca_file=str(ca) if ca else None, deadline=deadline
    ), asked


def test_tls_goes_to_the_checked_address_with_sni_host_and_certificate_for_the_hostname(
    certificate: tuple[Path, Path], serve: Callable[..., LoopbackServer]
) -> None:
    # Given an HTTPS server whose certificate names hooks.presign.test only (no IP)
    server = serve(ok, tls=certificate)
    send, asked = sender(certificate[0])

    # When a signed delivery goes to https://hooks.presign.test:<port>/in?x=1
    response = send.send(f"https://{HOST}:{server.port}/in?x=1", BODY, headers())

    # Then it reached the checked address, over TLS for the name, and verifies
    assert (response.status, response.error, response.address) == (204, None, "127.0.0.1"), response
    assert asked == [HOST]
    assert server.server_names == [HOST]
    (request,) = server.requests
    assert request.head.startswith("POST /in?x=1 HTTP/1.1\r\n"), request.head
    assert request.header("Host") == f"{HOST}:{server.port}"
    assert request.header("Content-Type") == "application/json"
    received = {k: request.header(k) or "" for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    assert Webhook(SECRET).verify(request.body, received)["data"]["upload_id"] == "u_1"


def test_a_certificate_for_another_name_is_refused(
    certificate: tuple[Path, Path], serve: Callable[..., LoopbackServer]
) -> None:
    server = serve(ok, tls=certificate)
    send, _ = sender(certificate[0])
    response = send.send(f"https://evil.presign.test:{server.port}/", BODY, headers())
    assert (response.status, response.error) == (None, "tls"), response
    assert server.requests == [], "nothing was sent over an unverified connection"


def test_an_untrusted_certificate_is_refused(
    certificate: tuple[Path, Path], serve: Callable[..., LoopbackServer]
) -> None:
    server = serve(ok, tls=certificate)
    send, _ = sender(None)  # the system's trust store: our self-signed certificate is not in it
    response = send.send(f"https://{HOST}:{server.port}/", BODY, headers())
    assert (response.status, response.error) == (None, "tls"), response


def test_a_rebinding_name_is_resolved_once_and_the_checked_address_is_the_one_connected(
    certificate: tuple[Path, Path], serve: Callable[..., LoopbackServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a name that answers loopback (allowed in dev) first and a private address after
    server = serve(ok, tls=certificate)
    send, asked = sender(certificate[0], ["127.0.0.1"], ["10.0.0.1"])
    resolutions: list[object] = []

    def no_other_resolution(*args: object, **kwargs: object) -> None:
        resolutions.append(args)
        raise AssertionError("only the sender's resolver may resolve")

    monkeypatch.setattr(socket, "getaddrinfo", no_other_resolution)

    # When one delivery is sent
    response = send.send(f"https://{HOST}:{server.port}/", BODY, headers())

    # Then one resolution served both the check and the connection
    assert (response.status, response.address) == (204, "127.0.0.1"), response
    assert asked == [HOST] and resolutions == []
    # and the next delivery, which resolves afresh, is refused on what it found
    again = send.send(f"https://{HOST}:{server.port}/", BODY, headers())
    assert (again.error, again.refused) == ("refused_address", "private"), again
    assert len(server.requests) == 1


def test_a_redirect_is_an_answer_not_followed(serve: Callable[..., LoopbackServer]) -> None:
    # Given an endpoint that redirects to another server
    target = serve(ok)

    def redirect(conn: socket.socket, server: LoopbackServer) -> None:
        server.requests.append(read_request(conn))
        conn.sendall(answer(302, Location=f"http://127.0.0.1:{target.port}/internal"))

    origin = serve(redirect)
    send, _ = sender(None)

    response = send.send(f"http://127.0.0.1:{origin.port}/", BODY, headers())

    assert (response.status, response.delivered) == (302, False), response
    assert target.connections == 0, "the redirect was followed"


def test_retry_after_is_returned(serve: Callable[..., LoopbackServer]) -> None:
    def throttled(conn: socket.socket, server: LoopbackServer) -> None:
        read_request(conn)
        conn.sendall(answer(503, b"busy", Retry_After="120"))

    server = serve(throttled)
    response = sender(None)[0].send(f"http://127.0.0.1:{server.port}/", BODY, headers())
    assert (response.status, response.retry_after, response.response_bytes) == (503, "120", 4), response


@pytest.mark.parametrize("chunked", [False, True])
def test_a_huge_answer_is_cut_at_the_cap(serve: Callable[..., LoopbackServer], chunked: bool) -> None:
    # Given an endpoint that answers 200 with a never-ending body
    def flood(conn: socket.socket, server: LoopbackServer) -> None:
        read_request(conn)
        if chunked:
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            piece = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n")
            piece = b"x" * 65536
        while not server.stopping.is_set():
            conn.sendall(piece)

    server = serve(flood)
    response = sender(None)[0].send(f"http://127.0.0.1:{server.port}/", BODY, headers())

    assert (response.status, response.response_bytes, response.truncated) == (
        200,
        MAX_RESPONSE_BYTES,
        True,
    ), response


def test_an_answer_of_exactly_the_cap_is_not_truncated(serve: Callable[..., LoopbackServer]) -> None:
    def exact(conn: socket.socket, server: LoopbackServer) -> None:
        read_request(conn)
        conn.sendall(answer(200, b"y" * MAX_RESPONSE_BYTES))

    server = serve(exact)
    response = sender(None)[0].send(f"http://127.0.0.1:{server.port}/", BODY, headers())
    assert (response.response_bytes, response.truncated) == (MAX_RESPONSE_BYTES, False), response


def test_endless_headers_are_a_protocol_failure(serve: Callable[..., LoopbackServer]) -> None:
    def headers_for_ever(conn: socket.socket, server: LoopbackServer) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not server.stopping.is_set():
            conn.sendall(b"X-Filler: " + b"z" * 1000 + b"\r\n")

    server = serve(headers_for_ever)
    response = sender(None)[0].send(f"http://127.0.0.1:{server.port}/", BODY, headers())
    assert (response.status, response.error) == (None, "protocol"), response


def silent(conn: socket.socket, server: LoopbackServer) -> None:
    read_request(conn)
    server.stopping.wait()


def drip(conn: socket.socket, server: LoopbackServer) -> None:
    """Answers a header line every 50 ms for ever: each read gets data long before any per-read
    timeout, so only a deadline over the whole answer ends it."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not server.stopping.wait(0.05):
        conn.sendall(b"X-Drip: 1\r\n")


@pytest.mark.parametrize("handler", [silent, drip], ids=["silent", "drip"])
def test_a_slow_endpoint_times_out(
    serve: Callable[..., LoopbackServer], handler: Callable[..., None]
) -> None:
    server = serve(handler)
    response = sender(None, deadline=0.5)[0].send(f"http://127.0.0.1:{server.port}/", BODY, headers())
    assert (response.status, response.error) == (None, "timeout"), response


def test_a_server_that_never_finishes_the_tls_handshake_times_out(
    certificate: tuple[Path, Path], serve: Callable[..., LoopbackServer]
) -> None:
    server = serve(lambda conn, s: s.stopping.wait())  # accepts TCP, never speaks TLS
    response = sender(certificate[0], deadline=0.5)[0].send(f"https://{HOST}:{server.port}/", BODY, headers())
    assert (response.status, response.error) == (None, "timeout"), response


def test_nothing_listening_is_a_connect_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    response = sender(None)[0].send(f"http://127.0.0.1:{port}/", BODY, headers())
    assert (response.status, response.error) == (None, "connect"), response


def test_a_second_checked_address_is_tried_when_the_first_refuses(
    serve: Callable[..., LoopbackServer],
) -> None:
    server = serve(ok)
    # 127.0.0.2 is loopback too, but nothing listens on this port there
    send, asked = sender(None, ["127.0.0.2", "127.0.0.1"])
    response = send.send(f"http://localhost:{server.port}/", BODY, headers())
    assert (response.status, response.address) == (204, "127.0.0.1"), response
    assert asked == ["localhost"]
