"""Keys, tokens, a frozen clock and JWKS fetchers for the authentication tests.

Keys are generated at test time (RSA 2048, EC P-256) and cached for the session: nothing secret is
checked in, and RSA generation is the slowest thing these tests do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from presign.errors import DependencyUnavailable

ISSUER = "https://idp.example.test/"
AUDIENCE = "presign-api"
SECRET = "0123456789abcdef0123456789abcdef-current"
OLD_SECRET = "0123456789abcdef0123456789abcdef-previous"
T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class FrozenClock:
    """A clock that moves only when told to; callable like ``presign.clock.system_clock``."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def ts(self) -> int:
        return int(self.now.timestamp())


@cache
def rsa_key(name: str = "primary", bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ec_key(name: str = "primary") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: PrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", **extra}


def public_pem(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def jwks(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"keys": list(keys)}


def claims(clock: FrozenClock | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid claim set at ``clock`` (T0 by default); ``name=None`` drops a claim."""
    now = clock.ts() if clock else int(T0.timestamp())
    base: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 300}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: Mapping[str, Any], key: PrivateKey | str, alg: str, **headers: Any) -> str:
    return jwt.encode(dict(payload), key, algorithm=alg, headers=headers or None)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(
    header: Mapping[str, Any], payload: Mapping[str, Any] | bytes, *, hmac_key: bytes | None = None
) -> str:
    """Assemble a token by hand: for the ones PyJWT refuses to make (alg none, HS256 with a PEM)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(body)}"
    signature = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest() if hmac_key else b""
    return f"{signing_input}.{b64url(signature)}"


def bearer(token: str) -> str:
    return f"Bearer {token}"


def as_gateway_claims(payload: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's JWT authorizer hands them to the integration: all strings, lists as
    ``"[a b]"``, numbers as digits."""

    def render(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return "[" + " ".join(render(v) for v in value) + "]"
        if isinstance(value, dict):
            return json.dumps(value)
        return str(value)

    return {name: render(value) for name, value in payload.items()}


class FakeJwksEndpoint:
    """An in-memory JWKS fetcher: counts fetches (thread-safe), can fail or be slow."""

    def __init__(self, document: Mapping[str, Any], *, delay: float = 0.0) -> None:
        self.document: Mapping[str, Any] = document
        self.delay = delay
        self.down = False
        self.fetches = 0
        self._lock = threading.Lock()

    def __call__(self) -> Mapping[str, Any]:
        with self._lock:
            self.fetches += 1
        if self.delay:
            time.sleep(self.delay)
        if self.down:
            raise DependencyUnavailable("JWKS endpoint down (test)")
        copy: Mapping[str, Any] = json.loads(json.dumps(self.document))  # callers may not mutate ours
        return copy
