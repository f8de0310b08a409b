"""A tiny local OIDC issuer for `make dev` and the tests: an RSA key made at start, its JWKS served
on 127.0.0.1, and RS256 tokens minted with it. Nothing here is fit for production; that is the point.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

JWKS_PATH = "/.well-known/jwks.json"


def mint_rs256(
    sub: str,
    *,
    key: rsa.RSAPrivateKey | str,
    kid: str,
    issuer: str,
    audience: str,
    ttl: int = 3600,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {"sub": sub, "iss": issuer, "aud": audience, "iat": now, "exp": now + ttl, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


class LocalIssuer:
    """Serves ``{issuer}/.well-known/jwks.json``; ``rotate()`` swaps in a new key (the old stays listed)."""

    def __init__(self, *, audience: str = "presign-local", port: int = 0) -> None:
        self.audience = audience
        self.requests = 0
        self._keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.rotate()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != JWKS_PATH:
                    self.send_error(404)
                    return
                issuer.requests += 1
                body = json.dumps(issuer.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def jwks_url(self) -> str:
        return self.issuer + JWKS_PATH

    def rotate(self) -> str:
        kid = uuid.uuid4().hex[:16]
        self._keys.insert(0, (kid, rsa.generate_private_key(public_exponent=65537, key_size=2048)))
        return kid

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self._keys:
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def token(self, sub: str = "alice", *, ttl: int = 3600, **claims: Any) -> str:
        kid, key = self._keys[0]
        return mint_rs256(
            sub, key=key, kid=kid, issuer=self.issuer, audience=self.audience, ttl=ttl, **claims
        )

    def signing_state(self) -> dict[str, str]:
        """What `python -m local.token` needs to mint tokens for this issuer from another shell."""
        kid, key = self._keys[0]
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return {
            "mode": "oidc",
            "kid": kid,
            "private_key_pem": pem.decode(),
            "issuer": self.issuer,
            "audience": self.audience,
        }

    def auth_settings(self) -> dict[str, Any]:
        """The ``auth`` section of the presign configuration that trusts this issuer."""
        return {"mode": "oidc", "issuer": self.issuer, "audience": self.audience, "jwks_url": self.jwks_url,
                "algorithms": ["RS256"]}  # fmt: skip

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
