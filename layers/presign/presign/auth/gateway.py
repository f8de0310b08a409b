"""Claims that API Gateway's JWT authorizer has verified already (``requestContext.authorizer.jwt``).

The authorizer checked signature (RSA keys only), ``iss``, ``aud`` (or ``client_id``), ``exp``,
``nbf`` and ``iat``. We check issuer, audience, expiry and subject again: cheap, and it turns a
route deployed without the authorizer, or one pointed at another issuer, into a 401 rather than a
trusted caller. API Gateway hands every claim over as a string: numbers as digits, lists as
``"[a b]"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from presign.auth import claims as checks
from presign.auth.principal import Principal
from presign.auth.reasons import refuse
from presign.clock import Clock


class GatewayVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        leeway: int,
        accept_client_id: bool,
        clock: Clock,
        max_lifetime: int | None = None,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._max_lifetime = max_lifetime
        self._accept_client_id = accept_client_id
        self._clock = clock

    def verify(self, *, authorization: str | None, gateway_claims: Mapping[str, Any] | None) -> Principal:
        if not gateway_claims:  # the route has no JWT authorizer: fail closed
            raise refuse("missing_token")
        claims = dict(gateway_claims)
        checks.check_issuer(claims, self._issuer)
        checks.check_audience(
            claims, self._audience, accept_client_id=self._accept_client_id, from_gateway=True
        )
        checks.check_times(
            claims,
            now=self._clock().timestamp(),
            leeway=self._leeway,
            max_lifetime=self._max_lifetime,
            from_gateway=True,
        )
        sub = checks.subject(claims)
        return Principal(
            sub=sub, claims=MappingProxyType(claims), scopes=checks.scopes(claims, from_gateway=True)
        )

    def warm_up(self) -> bool:
        return True
