"""Tokens from an OpenID Connect provider: RS256, PS256 or ES256, keys from its JWKS URL."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

import jwt

from presign.auth import claims as checks
from presign.auth.jwks import JwksCache
from presign.auth.jws import ClaimRules, decode
from presign.auth.principal import Principal
from presign.auth.reasons import refuse
from presign.clock import Clock


class OidcVerifier:
    def __init__(
        self, *, jwks: JwksCache, algorithms: Collection[str], rules: ClaimRules, clock: Clock
    ) -> None:
        self._jwks = jwks
        self._algorithms = frozenset(algorithms)
        self._rules = rules
        self._clock = clock

    def verify(self, *, authorization: str | None, gateway_claims: Mapping[str, Any] | None) -> Principal:
        token = checks.bearer_token(authorization)
        header = checks.inspect_header(token, self._algorithms)
        if header.kid is None:
            raise refuse("unknown_kid")  # every provider we support names its key
        key = self._jwks.key(header.kid, header.alg)
        try:
            claims = decode(token, key, header.alg, self._rules, now=self._clock().timestamp())
        except jwt.InvalidSignatureError:
            raise refuse("bad_signature") from None
        return Principal(sub=claims["sub"], claims=MappingProxyType(claims), scopes=checks.scopes(claims))

    def warm_up(self) -> bool:
        return self._jwks.warm_up()
