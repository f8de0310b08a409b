"""The authenticator the handlers use, built once per container from ``AuthSettings``.

``build_authenticator`` imports the verifier of the configured mode only: PyJWT (and with it
``cryptography``) is loaded for ``hs256`` and ``oidc``, never for ``gateway``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol

from presign.auth.claims import MAX_TOKEN_BYTES, bearer_token
from presign.auth.principal import Principal
from presign.clock import Clock, system_clock
from presign.config.auth import AuthSettings
from presign.config.secrets import SecretRef
from presign.errors import InsufficientScope

__all__ = ["MAX_TOKEN_BYTES", "Authenticator", "TokenVerifier", "bearer_token", "build_authenticator"]


class TokenVerifier(Protocol):
    def verify(self, *, authorization: str | None, gateway_claims: Mapping[str, Any] | None) -> Principal: ...

    def warm_up(self) -> bool: ...


class Authenticator:
    """Turns a request's credentials into a ``Principal`` and checks scopes per action.

    ``authenticate`` raises ``AuthenticationError`` (401; its ``reason`` is for metrics only) or
    ``DependencyUnavailable`` (503: the identity provider's keys cannot be fetched).
    """

    def __init__(self, verifier: TokenVerifier, *, required_scopes: Mapping[str, Collection[str]]) -> None:
        self._verifier = verifier
        self._required = {action: frozenset(scopes) for action, scopes in required_scopes.items()}

    def authenticate(
        self, *, authorization: str | None, gateway_claims: Mapping[str, Any] | None = None
    ) -> Principal:
        """In gateway mode ``authorization`` is ignored and ``gateway_claims`` is required."""
        return self._verifier.verify(authorization=authorization, gateway_claims=gateway_claims)

    def require_scopes(self, principal: Principal, action: str) -> None:
        """Raise ``InsufficientScope`` (403) unless the caller holds every scope ``action`` requires."""
        try:
            needed = self._required[action]
        except KeyError:
            raise ValueError(f"no scope policy for action {action!r}") from None
        if not needed <= principal.scopes:
            # RFC 6750 3.1: the scope attribute of the challenge names what the action needs.
            raise InsufficientScope(
                "the token lacks a scope this action requires", details={"scope": " ".join(sorted(needed))}
            )

    def warm_up(self) -> bool:
        """Fetch what the first request would (the JWKS in oidc mode); False if it cannot yet."""
        return self._verifier.warm_up()


def build_authenticator(
    settings: AuthSettings,
    resolve_secret: Callable[[SecretRef], str],
    *,
    clock: Clock = system_clock,
    jwks_fetcher: Callable[[], Mapping[str, Any]] | None = None,
) -> Authenticator:
    """Build the configured verifier; raises ``ConfigurationError`` for unusable secrets.

    ``resolve_secret`` reads a secret's current value, uncached: in hs256 mode it is called for
    every secret now and again every ``settings.secrets_cache_seconds`` (``presign.auth.hs256``).
    It raises ``ConfigurationError`` when the secret is gone or denied and
    ``DependencyUnavailable`` when the store cannot answer.

    ``clock`` and ``jwks_fetcher`` (returns the JWKS document, raises ``DependencyUnavailable``)
    are injectable so tests control time and network; by default the JWKS comes from
    ``settings.jwks_url`` over HTTPS.
    """
    verifier: TokenVerifier
    if settings.mode == "gateway":
        from presign.auth.gateway import GatewayVerifier

        verifier = GatewayVerifier(
            issuer=settings.issuer,
            audience=settings.audience,
            leeway=settings.leeway_seconds,
            accept_client_id=settings.accept_client_id_as_audience,
            clock=clock,
            max_lifetime=settings.max_token_lifetime_seconds,
        )
    else:
        from presign.auth.jws import ClaimRules

        rules = ClaimRules(
            issuer=settings.issuer,
            audience=settings.audience,
            leeway=settings.leeway_seconds,
            accept_client_id=settings.accept_client_id_as_audience,
            max_lifetime=settings.max_token_lifetime_seconds,
        )
        if settings.mode == "hs256":
            from presign.auth.hs256 import Hs256Verifier, SecretSet

            # Each secret is read now, and again every secrets_cache_seconds (revocation, rotation).
            secrets = SecretSet(
                [functools.partial(resolve_secret, ref) for ref in settings.secrets],
                ttl=settings.secrets_cache_seconds,
                grace=settings.secrets_grace_seconds,
                clock=clock,
            )
            verifier = Hs256Verifier(secrets=secrets, rules=rules, clock=clock)
        else:
            from presign.auth.jwks import JwksCache, http_fetcher
            from presign.auth.oidc import OidcVerifier

            assert settings.jwks_url is not None  # AuthSettings guarantees it in oidc mode
            fetch = jwks_fetcher or http_fetcher(settings.jwks_url, timeout=settings.jwks_timeout_seconds)
            jwks = JwksCache(
                fetch, algorithms=settings.algorithms, clock=clock, max_age=settings.jwks_cache_seconds
            )
            verifier = OidcVerifier(jwks=jwks, algorithms=settings.algorithms, rules=rules, clock=clock)
    return Authenticator(verifier, required_scopes=settings.required_scopes.model_dump())
