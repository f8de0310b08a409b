"""HS256 with shared secrets, newest first: a secret is rotated by listing the new one first and
dropping the old one once the tokens signed with it have expired.

**Secrets are re-read on a TTL** (``auth.secrets_cache_seconds``, 300 s by default), each on its
own, following ``presign.core.refreshing.Refreshing``: a secret changed in Secrets Manager (rotated in
place) or deleted there (revoked) takes effect in every warm container within the TTL, without a
redeploy. What a refresh can find, and what follows:

* a new value: used from then on; the old value stops verifying.
* the secret is gone, access to it is denied, or its new value is unusable (short, a PEM key):
  the secret is *removed*. Tokens it signed stop verifying; the other secrets go on. With every
  secret removed every token is refused (401), the fail-closed answer to a revocation.
* Secrets Manager is down (throttling, 5xx, network): the last known value goes on serving for
  ``auth.secrets_grace_seconds`` past the TTL, then the secret is *unavailable*. A token that a
  known secret verifies is still accepted; any other answers 503, never 401 (the secret we cannot
  see may be the one that signed it) and never a pass.

At cold start every secret is read once, and one that cannot be read or used stops the function
(``ConfigurationError``), so a wrong deployment fails loudly rather than refusing every token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm

from presign.auth import claims as checks
from presign.auth.jws import ClaimRules, decode
from presign.auth.principal import Principal
from presign.auth.reasons import refuse
from presign.clock import Clock
from presign.core.refreshing import Refreshing
from presign.errors import ConfigurationError, DependencyUnavailable

logger = logging.getLogger(__name__)

# RFC 7518 3.2: an HS256 key must be at least as long as the hash output.
MIN_SECRET_BYTES = 32
_ALGORITHMS = frozenset({"HS256"})
_HMAC = HMACAlgorithm(HMACAlgorithm.SHA256)


def prepare_secret(secret: str, index: int) -> bytes:
    """Refuse a secret that is empty, short, or really an asymmetric key."""
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
        return _HMAC.prepare_key(raw)
    except jwt.InvalidKeyError:
        raise ConfigurationError(f"{where}: this is an asymmetric key, not an HMAC secret") from None


class SecretSet:
    """The configured secrets, newest first, each re-read on a TTL (see the module docstring).

    ``fetchers[i]()`` returns secret ``i``'s current value, raising ``ConfigurationError`` when it
    is gone or denied and ``DependencyUnavailable`` when the store cannot answer.
    """

    def __init__(
        self, fetchers: Sequence[Callable[[], str]], *, ttl: float, grace: float, clock: Clock
    ) -> None:
        if not fetchers:
            raise ConfigurationError("auth.secrets: mode 'hs256' needs at least one secret")

        def now() -> float:
            return clock().timestamp()

        self._entries = [
            Refreshing(self._fetcher(fetch, index), ttl=ttl, grace=grace, clock=now)
            for index, fetch in enumerate(fetchers)
        ]
        # Cold start: every secret must be there and usable, or the function does not start.
        # DependencyUnavailable propagates too; the caller decides whether the container lives.
        for entry in self._entries:
            entry.get()

    @staticmethod
    def _fetcher(fetch: Callable[[], str], index: int) -> Callable[[], bytes]:
        def fetch_and_prepare() -> bytes:
            try:
                return prepare_secret(fetch(), index)
            except ConfigurationError as exc:
                # Not the value, ever: only which entry, and the store's reason.
                logger.warning("hs256 secret removed", extra={"secret_index": index, "cause": exc.message})
                raise

        return fetch_and_prepare

    def current(self) -> tuple[list[bytes], DependencyUnavailable | None]:
        """The usable secrets, newest first, and why some could not be had (if any could not)."""
        usable: list[bytes] = []
        unavailable: DependencyUnavailable | None = None
        for entry in self._entries:
            try:
                usable.append(entry.get())
            except ConfigurationError:
                continue  # removed: it verifies nothing
            except DependencyUnavailable as exc:
                unavailable = exc
        return usable, unavailable


class Hs256Verifier:
    def __init__(self, *, secrets: SecretSet, rules: ClaimRules, clock: Clock) -> None:
        self._secrets = secrets
        self._rules = rules
        self._clock = clock

    def verify(self, *, authorization: str | None, gateway_claims: Mapping[str, Any] | None) -> Principal:
        token = checks.bearer_token(authorization)
        checks.inspect_header(token, _ALGORITHMS)
        now = self._clock().timestamp()
        secrets, unavailable = self._secrets.current()
        for secret in secrets:
            try:
                claims = decode(token, secret, "HS256", self._rules, now=now)
            except jwt.InvalidSignatureError:
                continue  # perhaps signed with an older secret still in rotation
            return Principal(sub=claims["sub"], claims=MappingProxyType(claims), scopes=checks.scopes(claims))
        if unavailable is not None:
            raise DependencyUnavailable(unavailable.message, retry_after=unavailable.retry_after)
        raise refuse("bad_signature")

    def warm_up(self) -> bool:
        return True
