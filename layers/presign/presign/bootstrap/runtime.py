"""Cold-start wiring: configuration, authenticator, signers, rate limiter and storage, built once per
container.

A wrong configuration raises at import (the function never starts half-working). A dependency
that is down while secrets are fetched does not: the first request retries and answers 503.
Adapters are imported here and nowhere in the domain; those a cold start does not need (boto3's
S3 client, the CloudFront key) are imported on first use.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from presign.adapters.credentials import SignerProvider
from presign.adapters.environment import SecretResolver, load_settings
from presign.auth import Authenticator, Principal, build_authenticator
from presign.bootstrap.storage import Missing, ObjectStores
from presign.clock import Clock, system_clock
from presign.config.ratelimit import RateLimitSettings
from presign.config.settings import Settings
from presign.config.target import Target
from presign.core.owners import Namespace, Owner
from presign.errors import ConfigurationError, DependencyUnavailable
from presign.ratelimit.limiter import EventSink, RateLimiter
from presign.ratelimit.spending import Spending
from presign.signing.context import SigningContext

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

    from presign.adapters.aws_json import AwsJsonClient
    from presign.adapters.cdn_keys import CdnSigners
    from presign.adapters.s3_control import S3ObjectStore
    from presign.http.api import Api

RATE_LIMIT_TABLE_VAR = "PRESIGN_RATE_LIMIT_TABLE"


def build_rate_limiter(
    settings: RateLimitSettings,
    *,
    table_name: str,
    on_event: EventSink | None = None,
    clock: Clock = system_clock,
    client: AwsJsonClient | None = None,
    known_targets: Iterable[str] | None = None,
) -> RateLimiter:
    """A ``RateLimiter`` over the DynamoDB table ``table_name``.

    ``client`` defaults to the adapters' cached client (short timeouts, one retry).
    ``known_targets``, if given, must include every ``per_target`` key (a typo would otherwise
    silently leave that target on the default limits).
    """
    from presign.adapters.dynamodb import table_client
    from presign.adapters.dynamodb_ratelimit import DynamoDbRateLimitStore

    if known_targets is not None:
        unknown = sorted(set(settings.per_target) - set(known_targets))
        if unknown:
            raise ConfigurationError(f"rate_limits.per_target names unknown targets: {unknown}")
    store = DynamoDbRateLimitStore(client if client is not None else table_client(), table_name)
    return RateLimiter(settings, store, clock=clock, on_event=on_event)


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
        self._objects = ObjectStores(self.settings, self.environ)
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

    @property
    def max_body_bytes(self) -> int:
        return self.settings.max_body_bytes

    # -- callers ---------------------------------------------------------------------------
    def owner(self, principal: Principal) -> Owner:
        """The caller as their records, shares, claims, cursors and rate limits know them."""
        return self.namespace.owner(principal)

    def spending(self, subject: str, action: str) -> Spending:
        """A request's spending of ``subject``'s ``action`` budget (a caller's ``Owner.subject``,
        or a visitor's ``ip:<address>``)."""
        return Spending(self.limiter, subject, action=action, default_target=self.settings.default_target)

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

    # -- targets ---------------------------------------------------------------------------
    def target(self, name: str | None, missing: Missing | None = None) -> tuple[str, Target]:
        """The configured target ``name`` (None: the default), or ``missing()`` raised (404
        ``unknown_target`` by default): ``presign.config.settings.Settings.target``."""
        return self.settings.target(name, missing)

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

    def object_stores(self, missing: Missing) -> Callable[[str], S3ObjectStore]:
        """Each target's storage by name, made on first use (that is when boto3 is imported);
        ``missing()`` is raised for a name no longer configured."""
        return self._objects.by_name(missing)


def build_api(logger: Logger, metrics: Metrics, *, public: bool = False, reads: tuple[str, ...] = ()) -> Api:
    """A function's ``Api`` over its ``Runtime``, whose rate-limit events become the Api's metrics.
    ``public``: no route takes a token, so the runtime builds no authenticator (``Api``)."""
    from presign.http.api import Api

    api = Api(logger, metrics, public=public, reads=reads)
    api.runtime = Runtime(on_event=api.count_event, authenticate=not public)
    return api
