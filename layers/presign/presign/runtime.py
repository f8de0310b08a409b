"""Cold-start wiring: configuration, authenticator and signers, built once per container.

A wrong configuration raises at import (the function never starts half-working). A dependency
that is down while secrets are fetched does not: the first request retries and answers 503.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from presign.adapters.credentials import SignerProvider
from presign.adapters.environment import SecretResolver, load_settings
from presign.auth import Authenticator, Principal, build_authenticator
from presign.clock import Clock, system_clock
from presign.config import Settings, Target
from presign.errors import ConfigurationError, DependencyUnavailable, UnknownTarget
from presign.keys import Namespace, Owner
from presign.ratelimit.limiter import Decision, EventSink, RateLimiter, build_rate_limiter
from presign.signing_context import SigningContext

if TYPE_CHECKING:
    from presign.adapters.cdn_keys import CdnSigners

RATE_LIMIT_TABLE_VAR = "PRESIGN_RATE_LIMIT_TABLE"


class Budget:
    """One request's spending against the caller's limits; remembers the decision for headers."""

    def __init__(self, limiter: RateLimiter | None, subject: str, target: str) -> None:
        self._limiter = limiter
        self._subject = subject
        self._target = target
        self._decision: Decision | None = None

    def upload(self, nbytes: int) -> None:
        if self._limiter is not None:
            self._decision = self._limiter.acquire_upload(
                subject=self._subject, target=self._target, nbytes=nbytes
            )

    def spend(self, action: str, cost: int = 1) -> None:
        if self._limiter is not None:
            self._decision = self._limiter.acquire(
                subject=self._subject, action=action, target=self._target, cost=cost
            )

    def headers(self) -> dict[str, str]:
        """``RateLimit-*`` for the response (none when nothing was checked)."""
        return self._decision.headers() if self._decision is not None else {}


class Runtime:
    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        clock: Clock | None = None,
        on_event: EventSink | None = None,
        authenticate: bool = True,
    ) -> None:
        """``authenticate`` False: a function without authenticated routes (public share links)
        builds no authenticator, so it never reads the token secrets."""
        self._authenticates = authenticate
        self.environ = dict(os.environ if environ is None else environ)
        # One clock for signing and token checks; tests replace system_clock to move time.
        self.clock = clock or system_clock
        self.settings: Settings = load_settings(self.environ)
        self.namespace = Namespace.of(self.settings)
        self.signers = SignerProvider(self.environ, self.clock)
        self._authenticator: Authenticator | None = None
        self._cdn_signers: CdnSigners | None = None
        self.limiter = self._rate_limiter(on_event)
        self._lock = threading.Lock()
        # A secret store that is down must not kill the container: the first request tries
        # again and answers 503 while it is still down. A wrong secret still stops it here.
        with contextlib.suppress(DependencyUnavailable):
            # In OIDC mode this fetches the JWKS now, while the cold start is paying anyway;
            # an endpoint that is down leaves a cold cache that the first request retries.
            if authenticate:
                self.authenticator().warm_up()
        for name, target in self.settings.targets.items():
            # A credentials secret without keys is a wrong configuration: stop here, not at
            # every request. A secret store that is down is not: the first request retries.
            with contextlib.suppress(DependencyUnavailable):
                self.signers.for_target(name, target)

    def _rate_limiter(self, on_event: EventSink | None) -> RateLimiter | None:
        limits = self.settings.rate_limits
        if not limits.enabled:
            return None
        table = limits.table_name or self.environ.get(RATE_LIMIT_TABLE_VAR, "").strip()
        if not table:
            raise ConfigurationError(
                f"rate limits are enabled but {RATE_LIMIT_TABLE_VAR} is not set "
                "(set it, or rate_limits.enabled: false for a local run without a table)"
            )
        # The DynamoDB client is our own small one (presign.adapters.aws_json): no botocore at cold start.
        return build_rate_limiter(limits, table_name=table, on_event=on_event, clock=self.clock)

    def budget(self, subject: str, target: str) -> Budget:
        """``subject``: a caller's ``Owner.subject`` (or a client address for public routes)."""
        return Budget(self.limiter, subject, target)

    def owner(self, principal: Principal) -> Owner:
        """The caller as their records, shares, claims, cursors and rate limits know them."""
        return self.namespace.owner(principal)

    def authenticator(self) -> Authenticator:
        if not self._authenticates:
            raise ConfigurationError("this function authenticates no request")
        if self._authenticator is None:
            with self._lock:
                if self._authenticator is None:
                    self._authenticator = build_authenticator(
                        self.settings.auth, SecretResolver(self.environ), clock=self.clock
                    )
        return self._authenticator

    def target(self, name: str | None) -> tuple[str, Target]:
        try:
            return self.settings.target(name)
        except KeyError:
            raise UnknownTarget("no such target is configured") from None

    def signing(self, name: str, target: Target) -> SigningContext:
        return self.signers.for_target(name, target)

    def download_signing(self, name: str, target: Target) -> SigningContext:
        """``signing`` for GET URLs (downloads, share links): through the target's CDN if it has one.

        The CloudFront key is read here, on first use, never at cold start: only the downloads and
        links functions may read it (template.yaml), and only they ever sign a CDN URL. A key that
        cannot be loaded is ``DependencyUnavailable`` (503), see ``presign.adapters.cdn_keys``.
        """
        signing = self.signing(name, target)
        if target.cdn is None:
            return signing
        # The CloudFront key does not expire with the storage credentials: no cap from them.
        cdn = self._cdn().for_target(name, target.cdn)
        return dataclasses.replace(signing, cdn=cdn, credentials_expire_at=None)

    def _cdn(self) -> CdnSigners:
        if self._cdn_signers is None:
            # Imported late: a deployment without a CDN never loads it (nor cryptography).
            from presign.adapters.cdn_keys import CdnSigners

            with self._lock:
                if self._cdn_signers is None:
                    self._cdn_signers = CdnSigners(self.environ)
        return self._cdn_signers
