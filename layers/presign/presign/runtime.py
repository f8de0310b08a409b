"""Cold-start wiring: configuration, authenticator and signers, built once per container.

A wrong configuration raises at import (the function never starts half-working). A dependency
that is down while secrets are fetched does not: the first request retries and answers 503.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping

from presign.adapters.credentials import SignerProvider
from presign.adapters.environment import SecretResolver, load_settings
from presign.auth import Authenticator, build_authenticator
from presign.clock import Clock, system_clock
from presign.config import Settings, Target
from presign.errors import DependencyUnavailable, InvalidRequest
from presign.signing_context import SigningContext


class Runtime:
    def __init__(self, environ: Mapping[str, str] | None = None, *, clock: Clock | None = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        # One clock for signing and token checks; tests replace system_clock to move time.
        self.clock = clock or system_clock
        self.settings: Settings = load_settings(self.environ)
        self.signers = SignerProvider(self.environ, self.clock)
        self._authenticator: Authenticator | None = None
        self._lock = threading.Lock()
        # A secret store that is down must not kill the container: the first request tries
        # again and answers 503 while it is still down. A wrong secret still stops it here.
        with contextlib.suppress(DependencyUnavailable):
            # In OIDC mode this fetches the JWKS now, while the cold start is paying anyway;
            # an endpoint that is down leaves a cold cache that the first request retries.
            self.authenticator().warm_up()

    def authenticator(self) -> Authenticator:
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
            raise InvalidRequest("unknown target") from None

    def signing(self, name: str, target: Target) -> SigningContext:
        return self.signers.for_target(name, target)
