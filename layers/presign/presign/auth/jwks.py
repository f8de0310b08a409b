"""The identity provider's public keys: fetched from its JWKS URL, cached, refreshed on our terms.

PyJWT's ``PyJWKClient`` does the HTTP (https only, no redirects, a timeout) and ``PyJWK`` turns
each JWK into a key. Its cache is not used, because it does not meet our rules: it reads the
system clock; once its lifespan ends it needs the endpoint again, so an outage then breaks keys
that were working; and it holds its lock during a fetch, so every request waits on a slow
endpoint. The policy here:

* Keys are cached and refreshed after ``max_age``; a failed refresh keeps the keys we have, for
  as long as the endpoint stays down. Requests with a known ``kid`` never wait for a fetch.
* An unknown ``kid`` triggers a refetch (so a rotated key works on first use), but fetches are at
  least ``min_refetch_interval`` apart across all threads: random ``kid``s cannot make us hammer
  the identity provider.
* A cold cache that cannot be filled raises ``DependencyUnavailable`` (503), not 401: the token
  may be fine. Retries of a cold fetch are ``cold_retry_interval`` apart.
* Keys come from configuration only, never from a URL inside a token (``jku``, ``x5u``).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from presign.auth.claims import MAX_KID_CHARS
from presign.auth.reasons import refuse
from presign.clock import Clock
from presign.errors import DependencyUnavailable

logger = logging.getLogger(__name__)

# Returns the JWKS document; raises DependencyUnavailable when it cannot.
JwksFetcher = Callable[[], Mapping[str, Any]]

_UNAVAILABLE = "the identity provider's signing keys cannot be fetched"
_MIN_RSA_BITS = 2048
_ALGORITHMS_BY_KEY_TYPE: dict[tuple[str, str | None], frozenset[str]] = {
    ("RSA", None): frozenset({"RS256", "PS256"}),
    ("EC", "P-256"): frozenset({"ES256"}),
}


def http_fetcher(url: str, *, timeout: float) -> JwksFetcher:
    """Fetch with PyJWT's client: http(s) only, redirects refused, ``timeout`` per socket operation."""
    client = jwt.PyJWKClient(
        url, cache_jwk_set=False, timeout=timeout, headers={"User-Agent": "presign-jwks"}
    )

    def fetch() -> Mapping[str, Any]:
        try:
            document: Mapping[str, Any] = client.fetch_data()
        except (jwt.PyJWKClientError, ValueError, OSError) as exc:
            # ValueError: a body that is not JSON; OSError: what urllib lets through.
            raise DependencyUnavailable(_UNAVAILABLE) from exc
        return document

    return fetch


def parse_jwks(document: Mapping[str, Any], algorithms: Collection[str]) -> dict[str, dict[str, jwt.PyJWK]]:
    """``kid -> alg -> key``: every key pinned to the algorithms its type allows.

    A JWK with ``alg`` is pinned to that one; an RSA key without it serves RS256 and PS256 (when
    configured). Symmetric (``oct``) keys, keys for encryption, private keys, RSA keys under 2048
    bits and curves other than P-256 are skipped: none can verify a token we accept.
    """
    raw_keys = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(raw_keys, list):
        raise DependencyUnavailable(_UNAVAILABLE)
    keys: dict[str, dict[str, jwt.PyJWK]] = {}
    for jwk in raw_keys:
        if not isinstance(jwk, dict):
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid or jwk.get("use", "sig") != "sig" or "d" in jwk:
            continue
        kty, crv, declared = jwk.get("kty"), jwk.get("crv"), jwk.get("alg")
        if (
            not isinstance(kty, str)
            or not isinstance(crv, str | None)
            or not isinstance(declared, str | None)
        ):
            continue
        usable = _ALGORITHMS_BY_KEY_TYPE.get((kty, crv if kty == "EC" else None), frozenset())
        usable = usable & frozenset(algorithms) & ({declared} if declared else usable)
        for alg in sorted(usable):
            try:
                key = jwt.PyJWK(jwk, algorithm=alg)
            except (jwt.PyJWTError, TypeError, ValueError, KeyError):
                continue  # a malformed member: skip it, as PyJWKSet does
            if kty == "RSA" and key.key.key_size < _MIN_RSA_BITS:
                continue
            keys.setdefault(kid, {}).setdefault(alg, key)
    if not keys:
        raise DependencyUnavailable(_UNAVAILABLE)
    return keys


@dataclass(frozen=True, slots=True)
class _KeySet:
    keys: Mapping[str, Mapping[str, jwt.PyJWK]]
    fetched_at: float


class JwksCache:
    def __init__(
        self,
        fetch: JwksFetcher,
        *,
        algorithms: Collection[str],
        clock: Clock,
        max_age: float = 300.0,
        min_refetch_interval: float = 30.0,
        cold_retry_interval: float = 5.0,
    ) -> None:
        self._fetch_document = fetch
        self._algorithms = frozenset(algorithms)
        self._clock = clock
        self._max_age = max_age
        self._min_refetch_interval = min_refetch_interval
        self._cold_retry_interval = cold_retry_interval
        # Held while fetching, so one thread fetches and the others either wait for its result
        # (unknown kid, cold cache) or go on with the keys they have (refresh of a stale set).
        self._lock = threading.Lock()
        self._set: _KeySet | None = None  # replaced whole, never mutated: readers need no lock
        self._last_attempt: float | None = None
        self._last_failed = False

    def key(self, kid: str, alg: str) -> jwt.PyJWK:
        """The key for ``kid``, usable with ``alg``; refuses (401) or raises DependencyUnavailable."""
        current = self._set
        if current is None:
            current = self._fill_cold()
        elif self._now() - current.fetched_at >= self._max_age:
            current = self._refresh_stale(current)
        by_alg = current.keys.get(kid)
        if by_alg is None:
            current = self._refetch_for(kid, current)
            by_alg = current.keys.get(kid)
        if by_alg is None:
            if self._last_failed:
                # We cannot tell an unknown key from one we failed to fetch.
                raise DependencyUnavailable(_UNAVAILABLE, retry_after=self._wait(self._min_refetch_interval))
            raise refuse("unknown_kid")
        key = by_alg.get(alg)
        if key is None:
            raise refuse("alg_not_allowed")  # e.g. an EC key named by an RS256 token
        return key

    def warm_up(self) -> bool:
        """Fill a cold cache now (e.g. at init); False when the endpoint is unreachable."""
        try:
            self._fill_cold()
        except DependencyUnavailable:
            return False
        return True

    def _now(self) -> float:
        return self._clock().timestamp()

    def _wait(self, interval: float) -> int:
        elapsed = self._now() - (self._last_attempt or 0.0)
        return max(1, math.ceil(interval - elapsed))

    def _may_fetch(self, interval: float) -> bool:
        return self._last_attempt is None or self._now() - self._last_attempt >= interval

    def _fill_cold(self) -> _KeySet:
        with self._lock:
            if self._set is not None:
                return self._set
            if not self._may_fetch(self._cold_retry_interval) or not self._fetch():
                raise DependencyUnavailable(_UNAVAILABLE, retry_after=self._wait(self._cold_retry_interval))
            assert self._set is not None
            return self._set

    def _refresh_stale(self, current: _KeySet) -> _KeySet:
        if not self._lock.acquire(blocking=False):
            return current  # another thread is fetching; the keys we have still serve
        try:
            if self._set is current and self._may_fetch(self._min_refetch_interval):
                self._fetch()
            return self._set or current
        finally:
            self._lock.release()

    def _refetch_for(self, kid: str, current: _KeySet) -> _KeySet:
        if len(kid) > MAX_KID_CHARS:
            return current  # cannot be a key id of the provider's; not worth a fetch
        with self._lock:  # wait for a fetch in progress: it may bring this very kid
            latest = self._set or current
            if kid not in latest.keys and self._may_fetch(self._min_refetch_interval):
                self._fetch()
            return self._set or current

    def _fetch(self) -> bool:
        """Fetch and parse the key set; on failure keep the keys we have. Call with the lock held."""
        self._last_attempt = self._now()
        try:
            keys = parse_jwks(self._fetch_document(), self._algorithms)
        except DependencyUnavailable as exc:
            self._last_failed = True
            logger.warning(
                "JWKS fetch failed",
                extra={
                    "jwks_keys_cached": self._set is not None,
                    "jwks_error": type(exc.__cause__ or exc).__name__,
                },
            )
            return False
        self._set = _KeySet(keys=keys, fetched_at=self._last_attempt)
        self._last_failed = False
        return True
