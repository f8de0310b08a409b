"""HS256 bearer tokens verified with PyJWT, algorithms pinned, exp/iss/aud/sub required."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import jwt

from presign.auth.principal import Principal
from presign.config import AuthSettings, SecretRef
from presign.errors import AuthenticationError, ConfigurationError

MAX_TOKEN_BYTES = 8 * 1024
_INVALID = "the bearer token is missing or invalid"


class Authenticator(Protocol):
    def authenticate(
        self, *, authorization: str | None, gateway_claims: Mapping[str, Any] | None = None
    ) -> Principal: ...


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationError(_INVALID)
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError(_INVALID)
    if len(token) > MAX_TOKEN_BYTES:
        raise AuthenticationError(_INVALID)
    return token


class HS256Authenticator:
    def __init__(self, *, secrets: Sequence[bytes], issuer: str, audience: str, leeway: int) -> None:
        self._secrets = list(secrets)
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway

    def authenticate(
        self, *, authorization: str | None, gateway_claims: Mapping[str, Any] | None = None
    ) -> Principal:
        token = bearer_token(authorization)
        for secret in self._secrets:
            try:
                claims = jwt.decode(
                    token,
                    secret,
                    algorithms=["HS256"],
                    audience=self._audience,
                    issuer=self._issuer,
                    leeway=self._leeway,
                    options={"require": ["exp", "iss", "aud", "sub"]},
                )
            except jwt.InvalidSignatureError:
                continue  # perhaps signed with an older secret still in rotation
            except jwt.PyJWTError as exc:
                raise AuthenticationError(_INVALID) from exc
            sub = claims.get("sub")
            if not isinstance(sub, str) or not sub:
                raise AuthenticationError(_INVALID)
            return Principal(sub=sub, claims=claims, scopes=_scopes(claims))
        raise AuthenticationError(_INVALID)


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    raw = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list):
        return frozenset(s for s in raw if isinstance(s, str))
    return frozenset()


def build_authenticator(settings: AuthSettings, resolve_secret: Callable[[SecretRef], str]) -> Authenticator:
    secrets = [resolve_secret(ref).encode() for ref in settings.secrets]
    if any(len(s) < 32 for s in secrets):
        raise ConfigurationError("auth.secrets: every HS256 secret must be at least 32 bytes")
    return HS256Authenticator(
        secrets=secrets, issuer=settings.issuer, audience=settings.audience, leeway=settings.leeway_seconds
    )
