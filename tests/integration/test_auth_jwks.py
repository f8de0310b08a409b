"""OIDC mode against a real JWKS endpoint: an ``http.server`` on 127.0.0.1 serving keys generated
at test time (RSA 2048, EC P-256), reached through the production fetcher (PyJWT's client)."""

from __future__ import annotations

import json
import random
import string
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from presign.auth import Authenticator, build_authenticator
from presign.config.auth import AuthSettings
from presign.config.secrets import SecretRef
from presign.errors import AuthenticationError, DependencyUnavailable
from tests.support.jwt_keys import (
    AUDIENCE,
    ISSUER,
    FrozenClock,
    bearer,
    claims,
    ec_key,
    jwks,
    public_jwk,
    rsa_key,
    sign,
)

RSA_KID, EC_KID = "rsa-1", "ec-1"


class JwksServer:
    """A JWKS endpoint on a free loopback port; records every request it sees."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.status = 200
        self.delay = 0.0
        self.redirect_to: str | None = None
        self.requests: list[str] = []
        self._stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if server.delay:
                    server._stopping.wait(server.delay)
                if server.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to)
                    self.end_headers()
                    return
                body = (
                    server.document
                    if isinstance(server.document, bytes)
                    else json.dumps(server.document).encode()
                )
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        self.running = True

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/.well-known/jwks.json"

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._stopping.set()
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)


@pytest.fixture
def provider() -> Iterator[JwksServer]:
    server = JwksServer(jwks(public_jwk(rsa_key(), RSA_KID), public_jwk(ec_key(), EC_KID)))
    yield server
    server.stop()


@pytest.fixture
def attacker() -> Iterator[JwksServer]:
    server = JwksServer(jwks(public_jwk(rsa_key("attacker"), "evil")))
    yield server
    server.stop()


def no_secrets(ref: SecretRef) -> str:
    raise AssertionError("oidc mode resolves no secrets")


def authenticator(url: str, clock: FrozenClock, *, timeout: float = 2.0) -> Authenticator:
    settings = AuthSettings(
        mode="oidc",
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_url=url,
        algorithms=["RS256", "ES256"],
        jwks_timeout_seconds=timeout,
    )
    return build_authenticator(settings, no_secrets, clock=clock)


def rs256(
    kid: str = RSA_KID,
    key: Any = None,
    *,
    clock: FrozenClock | None = None,
    headers: dict[str, Any] | None = None,
) -> str:
    return sign(claims(clock), key or rsa_key(), "RS256", kid=kid, **(headers or {}))


def reason(auth: Authenticator, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        auth.authenticate(authorization=bearer(token))
    return caught.value.reason


def test_rsa_and_ec_tokens_verify_against_the_endpoint(provider: JwksServer) -> None:
    # Given
    auth = authenticator(provider.url, FrozenClock())

    # When
    by_rsa = auth.authenticate(authorization=bearer(rs256()))
    by_ec = auth.authenticate(authorization=bearer(sign(claims(), ec_key(), "ES256", kid=EC_KID)))

    # Then: both verified with one fetch of the configured URL
    assert (by_rsa.sub, by_ec.sub) == ("alice", "alice")
    assert provider.requests == ["/.well-known/jwks.json"]


@pytest.mark.parametrize("header", ["jku", "x5u"])
def test_urls_inside_a_token_are_never_fetched(
    provider: JwksServer, attacker: JwksServer, header: str
) -> None:
    # Given: tokens signed by the attacker, pointing at the attacker's key server
    auth = authenticator(provider.url, FrozenClock())
    their_url = attacker.url

    # When
    with_their_kid = reason(auth, rs256("evil", rsa_key("attacker"), headers={header: their_url}))
    with_our_kid = reason(auth, rs256(RSA_KID, rsa_key("attacker"), headers={header: their_url}))
    genuine = auth.authenticate(authorization=bearer(rs256(headers={header: their_url})))

    # Then: the attacker's server saw nothing; ours was asked once
    assert (with_their_kid, with_our_kid, genuine.sub) == ("unknown_kid", "bad_signature", "alice")
    assert attacker.requests == []
    assert len(provider.requests) == 1


def test_a_thousand_random_kids_from_many_threads_fetch_at_most_once(provider: JwksServer) -> None:
    # Given: a warm cache, past the refetch interval, and a slow endpoint
    clock = FrozenClock()
    auth = authenticator(provider.url, clock)
    auth.authenticate(authorization=bearer(rs256()))
    clock.advance(31)
    provider.delay = 0.05
    rng = random.Random(30)
    forged = [
        sign(claims(), ec_key("attacker"), "ES256", kid="".join(rng.choices(string.ascii_letters, k=12)))
        for _ in range(1000)
    ]

    # When
    with ThreadPoolExecutor(max_workers=32) as pool:
        reasons = set(pool.map(lambda token: reason(auth, token), forged))

    # Then
    assert reasons == {"unknown_kid"}
    assert len(provider.requests) == 2  # warm-up + one refetch


def test_a_rotated_key_is_picked_up_without_a_redeploy(provider: JwksServer) -> None:
    # Given: a warm cache
    clock = FrozenClock()
    auth = authenticator(provider.url, clock)
    auth.authenticate(authorization=bearer(rs256()))

    # When: the provider publishes a new key and starts signing with it
    provider.document = jwks(public_jwk(rsa_key(), RSA_KID), public_jwk(rsa_key("rotated"), "rsa-2"))
    clock.advance(45)
    rotated = rs256("rsa-2", rsa_key("rotated"))

    # Then: the first token that names it triggers the refetch and passes
    assert auth.authenticate(authorization=bearer(rotated)).sub == "alice"
    assert len(provider.requests) == 2


def test_a_key_rotated_right_after_a_fetch_works_once_the_interval_passes(provider: JwksServer) -> None:
    clock = FrozenClock()
    auth = authenticator(provider.url, clock)
    auth.authenticate(authorization=bearer(rs256()))
    provider.document = jwks(public_jwk(rsa_key("rotated"), "rsa-2"))
    rotated = rs256("rsa-2", rsa_key("rotated"))

    clock.advance(10)
    assert reason(auth, rotated) == "unknown_kid"  # inside the 30 s refetch interval
    clock.advance(20)
    assert auth.authenticate(authorization=bearer(rotated)).sub == "alice"
    assert len(provider.requests) == 2


def test_endpoint_down_with_a_warm_cache_keeps_known_keys_working(provider: JwksServer) -> None:
    # Given: a warm cache, then the endpoint goes away for longer than the cache lifetime
    clock = FrozenClock()
    auth = authenticator(provider.url, clock)
    auth.authenticate(authorization=bearer(rs256()))
    provider.stop()
    clock.advance(3600)

    # When / Then: known keys still verify; an unknown one cannot be decided (503)
    assert auth.authenticate(authorization=bearer(rs256(clock=clock))).sub == "alice"
    by_ec = sign(claims(clock), ec_key(), "ES256", kid=EC_KID)
    assert auth.authenticate(authorization=bearer(by_ec)).sub == "alice"
    with pytest.raises(DependencyUnavailable):
        auth.authenticate(authorization=bearer(rs256("rsa-2", rsa_key("rotated"), clock=clock)))


def test_endpoint_down_with_a_cold_cache_is_a_dependency_failure(provider: JwksServer) -> None:
    # Given
    url = provider.url
    provider.stop()
    auth = authenticator(url, FrozenClock())

    # When / Then: 503 (DependencyUnavailable), not 401
    with pytest.raises(DependencyUnavailable) as caught:
        auth.authenticate(authorization=bearer(rs256()))
    assert caught.value.retry_after >= 1
    assert auth.warm_up() is False


def test_a_slow_endpoint_times_out_quickly(provider: JwksServer) -> None:
    # Given: an endpoint that answers after 5 s, and a 0.3 s timeout
    provider.delay = 5
    auth = authenticator(provider.url, FrozenClock(), timeout=0.3)

    # When
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable):
        auth.authenticate(authorization=bearer(rs256()))

    # Then
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "fault", ["status-500", "status-404", "not-json", "json-array", "no-usable-keys", "redirect"]
)
def test_a_broken_endpoint_is_a_dependency_failure(
    provider: JwksServer, attacker: JwksServer, fault: str
) -> None:
    # Given
    if fault.startswith("status-"):
        provider.status = int(fault.removeprefix("status-"))
    elif fault == "not-json":
        provider.document = b"<html>maintenance</html>"
    elif fault == "json-array":
        provider.document = [public_jwk(rsa_key(), RSA_KID)]
    elif fault == "no-usable-keys":
        provider.document = jwks({"kty": "oct", "kid": RSA_KID, "k": "c2VjcmV0"})
    else:
        provider.redirect_to = attacker.url  # redirects are not followed
    auth = authenticator(provider.url, FrozenClock())

    # When / Then
    with pytest.raises(DependencyUnavailable):
        auth.authenticate(authorization=bearer(rs256()))
    assert attacker.requests == []


def test_recovery_after_a_cold_outage(provider: JwksServer) -> None:
    clock = FrozenClock()
    provider.status = 503
    auth = authenticator(provider.url, clock)
    with pytest.raises(DependencyUnavailable):
        auth.authenticate(authorization=bearer(rs256()))

    provider.status = 200
    clock.advance(5)

    assert auth.authenticate(authorization=bearer(rs256())).sub == "alice"
    assert len(provider.requests) == 2
