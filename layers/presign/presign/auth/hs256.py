"""HS256 with shared secrets, newest first: a secret is rotated by listing the new one first and
dropping the old one once the tokens signed with it have expired."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm

from presign.auth import claims as checks
from presign.auth.jws import ClaimRules, decode
from presign.auth.principal import Principal
from presign.auth.reasons import refuse
from presign.clock import Clock
from presign.errors import ConfigurationError

# RFC 7518 3.2: an HS256 key must be at least as long as the hash output.
MIN_SECRET_BYTES = 32
_ALGORITHMS = frozenset({"HS256"})


def prepare_secrets(secrets: Sequence[str]) -> list[bytes]:
    """Refuse, at cold start, secrets that are empty, short, or really an asymmetric key."""
    prepared: list[bytes] = []
    hmac = HMACAlgorithm(HMACAlgorithm.SHA256)
    for index, secret in enumerate(secrets):
        raw = secret.encode()
        where = f"auth.secrets[{index}]"
        if not raw:
            raise ConfigurationError(f"{where}: the HS256 secret is empty")
        if len(raw) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"{where}: an HS256 secret must be at least {MIN_SECRET_BYTES} bytes (it has {len(raw)})"
            )
        try:
            # PyJWT refuses PEM, SSH and DER keys as HMAC secrets: a public key is no secret.
            prepared.append(hmac.prepare_key(raw))
        except jwt.InvalidKeyError:
            raise ConfigurationError(f"{where}: this is an asymmetric key, not an HMAC secret") from None
    return prepared


class Hs256Verifier:
    def __init__(self, *, secrets: Sequence[bytes], rules: ClaimRules, clock: Clock) -> None:
        if not secrets:
            raise ConfigurationError("auth.secrets: mode 'hs256' needs at least one secret")
        self._secrets = tuple(secrets)
        self._rules = rules
        self._clock = clock

    def verify(self, *, authorization: str | None, gateway_claims: Mapping[str, Any] | None) -> Principal:
        token = checks.bearer_token(authorization)
        checks.inspect_header(token, _ALGORITHMS)
        now = self._clock().timestamp()
        for secret in self._secrets:
            try:
                claims = decode(token, secret, "HS256", self._rules, now=now)
            except jwt.InvalidSignatureError:
                continue  # perhaps signed with an older secret still in rotation
            return Principal(sub=claims["sub"], claims=MappingProxyType(claims), scopes=checks.scopes(claims))
        raise refuse("bad_signature")

    def warm_up(self) -> bool:
        return True
